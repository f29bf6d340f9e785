import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { checkGradients, randomTensor, tensorCountAfterSteps } from '@mann/backend/testing';
import { interpolateWeights, ntm, sharpenWeights, shiftWeights, type NtmOptions, type NtmState } from './index';
import { atanh, expectClose, inverseSoftplus } from './test_utils';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('interpolateWeights', () => {
  it('is g * content + (1 - g) * previous', () => {
    // 0.25 * [1, 0] + 0.75 * [0, 1] = [0.25, 0.75]; g = 1 keeps the content, g = 0 the previous weights
    expectClose(
      interpolateWeights(tf.tensor3d([[[1, 0], [1, 0]], [[1, 0], [1, 0]]]), tf.tensor3d([[[0, 1], [0, 1]], [[0, 1], [0, 1]]]), tf.tensor2d([[0.25, 1], [0, 0.5]])),
      [[[0.25, 0.75], [1, 0]], [[0, 1], [0.5, 0.5]]],
    );
  });
});

describe('NTM building blocks: shape checks', () => {
  // Rank 2 where rank 3 is expected and the other way round; then a second argument that does not fit the first.
  const w3 = () => tf.zeros([1, 1, 3]) as tf.Tensor3D;
  const g2 = () => tf.zeros([1, 1]) as tf.Tensor2D;
  const asRank3 = (t: tf.Tensor) => t as tf.Tensor3D;
  const asRank2 = (t: tf.Tensor) => t as tf.Tensor2D;

  it('interpolateWeights', () => {
    expect(() => interpolateWeights(asRank3(g2()), w3(), g2())).toThrow('interpolateWeights: content must be a rank-3 tensor [B, H, N], got shape [1,1] (rank 2)');
    expect(() => interpolateWeights(w3(), asRank3(g2()), g2())).toThrow('interpolateWeights: previous must be a rank-3 tensor [B, H, N], got shape [1,1] (rank 2)');
    expect(() => interpolateWeights(w3(), w3(), asRank2(w3()))).toThrow('interpolateWeights: gate must be a rank-2 tensor [B, H], got shape [1,1,3] (rank 3)');
    expect(() => interpolateWeights(w3(), tf.zeros([1, 1, 4]) as tf.Tensor3D, g2())).toThrow(
      'interpolateWeights: previous [1,1,4] does not match content [1,1,3]: expected [1,1,3]',
    );
    expect(() => interpolateWeights(w3(), w3(), tf.zeros([1, 2]) as tf.Tensor2D)).toThrow(
      'interpolateWeights: gate [1,2] does not match content [1,1,3]: expected [1,1]',
    );
  });

  it('shiftWeights', () => {
    expect(() => shiftWeights(asRank3(g2()), w3())).toThrow('shiftWeights: weights must be a rank-3 tensor [B, H, N], got shape [1,1] (rank 2)');
    expect(() => shiftWeights(w3(), asRank3(g2()))).toThrow('shiftWeights: shift must be a rank-3 tensor [B, H, S], got shape [1,1] (rank 2)');
    expect(() => shiftWeights(w3(), tf.zeros([1, 2, 3]) as tf.Tensor3D)).toThrow('shiftWeights: shift [1,2,3] does not match weights [1,1,3]: expected [1,1,3]');
  });

  it('sharpenWeights', () => {
    expect(() => sharpenWeights(asRank3(g2()), g2())).toThrow('sharpenWeights: weights must be a rank-3 tensor [B, H, N], got shape [1,1] (rank 2)');
    expect(() => sharpenWeights(w3(), asRank2(w3()))).toThrow('sharpenWeights: gamma must be a rank-2 tensor [B, H], got shape [1,1,3] (rank 3)');
    expect(() => sharpenWeights(w3(), tf.zeros([2, 1]) as tf.Tensor2D)).toThrow('sharpenWeights: gamma [2,1] does not match weights [1,1,3]: expected [1,1]');
  });
});

describe('shiftWeights', () => {
  const one = () => tf.tensor3d([[[1, 0, 0, 0]]]);

  it('rolls by one slot with shift [0, 0, 1] (offset +1), back with [1, 0, 0], not at all with [0, 1, 0]', () => {
    expectClose(shiftWeights(one(), tf.tensor3d([[[0, 0, 1]]])), [[[0, 1, 0, 0]]], 0);
    expectClose(shiftWeights(one(), tf.tensor3d([[[1, 0, 0]]])), [[[0, 0, 0, 1]]], 0); // wraps around
    expectClose(shiftWeights(one(), tf.tensor3d([[[0, 1, 0]]])), [[[1, 0, 0, 0]]], 0);
    // Five offsets -2..2 over five slots: [0, 0, 0, 0, 1] moves slot 0 to slot 2, [1, 0, 0, 0, 0] to slot 3.
    const five = tf.tensor3d([[[1, 0, 0, 0, 0]]]);
    expectClose(shiftWeights(five, tf.tensor3d([[[0, 0, 0, 0, 1]]])), [[[0, 0, 1, 0, 0]]], 0);
    expectClose(shiftWeights(five, tf.tensor3d([[[1, 0, 0, 0, 0]]])), [[[0, 0, 0, 1, 0]]], 0);
  });

  it('is a circular convolution', () => {
    const weights = tf.tensor3d([[[0.5, 0.25, 0.25, 0]]]);
    // w~(i) = 0.2 w(i+1) + 0.5 w(i) + 0.3 w(i-1), indices mod 4:
    // i=0: 0.2*0.25 + 0.5*0.5  + 0.3*0    = 0.05 + 0.25 + 0     = 0.3
    // i=1: 0.2*0.25 + 0.5*0.25 + 0.3*0.5  = 0.05 + 0.125 + 0.15 = 0.325
    // i=2: 0.2*0    + 0.5*0.25 + 0.3*0.25 = 0 + 0.125 + 0.075   = 0.2
    // i=3: 0.2*0.5  + 0.5*0    + 0.3*0.25 = 0.1 + 0 + 0.075     = 0.175
    expectClose(shiftWeights(weights, tf.tensor3d([[[0.2, 0.5, 0.3]]])), [[[0.3, 0.325, 0.2, 0.175]]]);
  });

  it('rejects an even number of offsets and more offsets than slots', () => {
    expect(() => shiftWeights(one(), tf.tensor3d([[[0.5, 0.5]]]))).toThrow(
      'shiftWeights: shift [1,1,2] must have an odd size S (offsets -(S-1)/2..(S-1)/2), got S = 2',
    );
    expect(() => shiftWeights(tf.tensor3d([[[1, 0]]]), tf.tensor3d([[[0, 1, 0]]]))).toThrow(
      'shiftWeights: shift [1,1,3] has more offsets (3) than weights [1,1,2] have slots (2)',
    );
  });
});

describe('sharpenWeights', () => {
  it('is w^gamma / sum w^gamma', () => {
    // gamma = 2: [0.5, 0.25, 0.25]^2 = [0.25, 0.0625, 0.0625], sum 0.375 -> [2/3, 1/6, 1/6]
    // gamma = 1: unchanged
    expectClose(sharpenWeights(tf.tensor3d([[[0.5, 0.25, 0.25], [0.5, 0.25, 0.25]]]), tf.tensor2d([[2, 1]])), [
      [[2 / 3, 1 / 6, 1 / 6], [0.5, 0.25, 0.25]],
    ]);
  });

  it('neither underflows nor produces NaN for small or zero weights', () => {
    // (1/128)^20 = 7e-43 is below float32's range, yet the sharpened uniform weights are uniform.
    expectClose(sharpenWeights(tf.fill([1, 1, 128], 1 / 128) as tf.Tensor3D, tf.tensor2d([[20]])), new Array(128).fill(1 / 128));
    // A zero weight stays (almost) zero: (0 + 1e-8)^3 / (1 + 1e-8)^3 ~ 1e-24.
    const sharpened = sharpenWeights(tf.tensor3d([[[1, 0]]]), tf.tensor2d([[3]]));
    expectClose(sharpened, [[[1, 0]]]);
    const gradient = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(sharpenWeights(w as tf.Tensor3D, tf.tensor2d([[3]])), tf.tensor3d([[[1, 2]]]))))(tf.tensor3d([[[1, 0]]]));
    expect(Array.from(gradient.dataSync()).every(Number.isFinite)).toBe(true);
  });
});

describe('sharpenWeights epsilon', () => {
  it('uses the epsilon it is given, and refuses one that is not a positive finite number', () => {
    // epsilon 1, gamma 1: (w + 1) / sum (w + 1) = [2, 1] / 3.
    expectClose(sharpenWeights(tf.tensor3d([[[1, 0]]]), tf.tensor2d([[1]]), 1), [[[2 / 3, 1 / 3]]]);
    // epsilon 0 would take log(0) = -Infinity for a zero weight: a row of zeros gives NaN.
    const zeros = tf.zeros([1, 1, 2]) as tf.Tensor3D;
    expect(() => sharpenWeights(zeros, tf.tensor2d([[1]]), 0)).toThrow('sharpenWeights: epsilon must be a positive number, got 0');
    expect(() => sharpenWeights(zeros, tf.tensor2d([[1]]), Infinity)).toThrow('sharpenWeights: epsilon must be a positive number, got Infinity');
    expect(() => sharpenWeights(zeros, tf.tensor2d([[1]]), NaN)).toThrow('sharpenWeights: epsilon must be a positive number, got NaN');
  });
});

describe('ntm options', () => {
  it('computes the parameter size: H*(W+S+3) for read heads + H*(3W+S+3) for write heads', () => {
    // 4 * (40 + 3 + 3) + 4 * (120 + 3 + 3) = 184 + 504 = 688
    const scheme = ntm({ memory: { slots: 128, width: 40 }, heads: 4 });
    expect(scheme.parameterSize).toBe(688);
    expect(scheme.name).toBe('ntm');
    expect(ntm({ memory: { slots: 128, width: 40 }, heads: 1, shifts: 5 }).parameterSize).toBe(40 + 5 + 3 + 120 + 5 + 3);
  });

  it('throws clear errors for impossible configs', () => {
    expect(() => ntm({ memory: { slots: 4, width: 3 }, heads: 1, shifts: 2 })).toThrow(
      'ntm: shifts must be an odd positive integer (offsets -(S-1)/2..(S-1)/2), got 2',
    );
    expect(() => ntm({ memory: { slots: 4, width: 3 }, heads: 1, shifts: 5 })).toThrow('ntm: shifts = 5 is larger than the number of slots (4)');
    expect(() => ntm({ memory: { slots: 4, width: 3 }, heads: 0 })).toThrow('ntm: heads must be a positive integer, got 0');
    expect(() => ntm({ memory: { slots: 4, width: 0 }, heads: 1 })).toThrow('memory width must be a positive integer, got 0');
    expect(() => ntm({ memory: { slots: 4, width: 3 }, heads: 1, shifts: -1 })).toThrow(
      'ntm: shifts must be an odd positive integer (offsets -(S-1)/2..(S-1)/2), got -1',
    );
    expect(() => ntm({ memory: { slots: 4, width: 3 }, heads: 1, shifts: 1.5 })).toThrow(
      'ntm: shifts must be an odd positive integer (offsets -(S-1)/2..(S-1)/2), got 1.5',
    );
    // A number in a string is refused too (it would pass the oddness test: '3' % 2 is 1).
    expect(() => ntm({ memory: { slots: 4, width: 3 }, heads: 1, shifts: '3' as unknown as number })).toThrow(
      'ntm: shifts must be an odd positive integer (offsets -(S-1)/2..(S-1)/2), got 3',
    );
    expect(() => ntm(null as unknown as NtmOptions)).toThrow('ntm: options must be an object { memory, heads, shifts? }, got null');
    expect(() => ntm('ntm' as unknown as NtmOptions)).toThrow('ntm: options must be an object { memory, heads, shifts? }, got ntm');
  });

  it('allows more heads than slots, and as many shifts as slots', () => {
    // Unlike LRUA (one least-used slot per head), NTM heads address the slots independently.
    expect(ntm({ memory: { slots: 3, width: 2 }, heads: 4, shifts: 3 }).parameterSize).toBe(4 * (2 + 3 + 3) + 4 * (6 + 3 + 3));
    // shifts = slots = 1: the only offset is 0.
    expect(ntm({ memory: { slots: 1, width: 2 }, heads: 1, shifts: 1 }).parameterSize).toBe(2 + 1 + 3 + 6 + 1 + 3);
  });

  it('rejects parameters and states that do not fit', () => {
    const scheme = ntm({ memory: { slots: 3, width: 2 }, heads: 1 }); // parameterSize = 8 + 12 = 20
    const state = scheme.initialState(2);
    const parameters = tf.zeros([2, 20]) as tf.Tensor2D;
    expect(() => scheme.step(tf.zeros([2, 19]) as tf.Tensor2D, state)).toThrow(
      "ntm.step: parameters [2,19] do not match the scheme's parameterSize: expected [B,20]",
    );
    expect(() => scheme.step(tf.zeros([3, 20]) as tf.Tensor2D, state)).toThrow(
      'ntm.step: state.memory [2,3,2] does not fit the batch of parameters and the memory size: expected [3,3,2]',
    );
    expect(() => scheme.step(parameters, { ...state, readWeights: tf.zeros([2, 1, 4]) as tf.Tensor3D })).toThrow(
      'ntm.step: state.readWeights [2,1,4] does not fit the batch of parameters and the memory size: expected [2,1,3]',
    );
    expect(() => scheme.step(parameters, { ...state, writeWeights: tf.zeros([2, 2, 3]) as tf.Tensor3D })).toThrow(
      'ntm.step: state.writeWeights [2,2,3] does not fit the batch of parameters and the memory size: expected [2,1,3]',
    );
    const { writeWeights: _, ...withoutWriteWeights } = state;
    expect(() => scheme.step(parameters, withoutWriteWeights as NtmState)).toThrow('ntm.step: state.writeWeights is missing (expected a tensor [2,1,3])');
  });

  it('starts with read and write weights one-hot on slot 0', () => {
    const state = ntm({ memory: { slots: 3, width: 2 }, heads: 2 }).initialState(1);
    expectClose(state.readWeights, [[[1, 0, 0], [1, 0, 0]]], 0);
    expectClose(state.writeWeights, [[[1, 0, 0], [1, 0, 0]]], 0);
    expectClose(state.memory, new Array(6).fill(1e-6), 1e-12);
  });
});

describe('ntm step', () => {
  it('a full step, by hand', () => {
    const scheme = ntm({ memory: { slots: 3, width: 2, initialValue: 1 }, heads: 1 });
    // Each head: zero key (so the content weights are uniform, [1/3, 1/3, 1/3]), strength 0, gate 0
    // (g = 0.5), shift logits [-30, 0, -30] (softmax = [0, 1, 0] in float32: no shift), and a sharpening
    // parameter with softplus = 1, so gamma = 2.
    const sharpen = inverseSoftplus(1);
    const head = [0, 0, 0, 0, -30, 0, -30, sharpen];
    // Write head extras: erase logits 0 (e = 0.5), add = tanh(atanh([0.5, -0.5])) = [0.5, -0.5].
    const parameters = tf.tensor2d([[...head, ...head, 0, 0, atanh(0.5), atanh(-0.5)]]);
    expect(parameters.shape[1]).toBe(scheme.parameterSize);
    const { reads, state } = scheme.step(parameters, scheme.initialState(1));
    // Both heads: interpolation 0.5 * [1/3, 1/3, 1/3] + 0.5 * [1, 0, 0] = [2/3, 1/6, 1/6]; no shift;
    // sharpening gamma = 2: [4/9, 1/36, 1/36] / (1/2) = [8/9, 1/18, 1/18].
    expectClose(state.writeWeights, [[[8 / 9, 1 / 18, 1 / 18]]]);
    // Erase (memory all ones): slot 0 * (1 - 8/9 * 0.5) = 5/9; slots 1, 2 * (1 - 1/18 * 0.5) = 35/36.
    // Add: slot 0 + 8/9 * [0.5, -0.5] = [5/9 + 4/9, 5/9 - 4/9] = [1, 1/9];
    //      slots 1, 2 + 1/18 * [0.5, -0.5] = [35/36 + 1/36, 35/36 - 1/36] = [1, 17/18].
    expectClose(state.memory, [[[1, 1 / 9], [1, 17 / 18], [1, 17 / 18]]]);
    // The read head addresses the new memory the same way (zero key): [8/9, 1/18, 1/18].
    expectClose(state.readWeights, [[[8 / 9, 1 / 18, 1 / 18]]]);
    // r = 8/9 * [1, 1/9] + 2 * 1/18 * [1, 17/18] = [8/9 + 1/9, 8/81 + 17/162] = [1, 33/162 = 0.203704]
    expectClose(reads, [[[1, 33 / 162]]]);
  });

  it('content addressing steers the read head', () => {
    // A read key equal to slot 1's content with a large strength, gate 1 (logit 30), no shift, gamma ~ 1:
    // the read weights concentrate on slot 1.
    const scheme = ntm({ memory: { slots: 3, width: 2 }, heads: 1 });
    const memory = tf.tensor3d([[[1, 0], [0, 1], [-1, 0]]]);
    const readHead = [0, atanh(0.9), 20, 30, -30, 0, -30, -30]; // key tanh -> [0, 0.9], beta = softplus(20) = 20
    const writeHead = [0, 0, 0, -30, -30, 0, -30, -30]; // gate ~ 0: keep writing at the previous slot 0
    const eraseAdd = [-30, -30, 0, 0]; // erase 0, add 0: memory unchanged
    const state: NtmState = { memory, readWeights: scheme.initialState(1).readWeights, writeWeights: scheme.initialState(1).writeWeights };
    const { state: next } = scheme.step(tf.tensor2d([[...readHead, ...writeHead, ...eraseAdd]]), state);
    expectClose(next.memory, [[[1, 0], [0, 1], [-1, 0]]], 1e-6);
    // softmax(20 * [0, 1, 0]) = [e^-20, 1, e^-20] / (1 + 2e^-20) ~ [2e-9, 1, 2e-9]
    expectClose(next.readWeights, [[[0, 1, 0]]], 1e-6);
    expectClose(next.writeWeights, [[[1, 0, 0]]], 1e-6);
  });

  it('has the gradient finite differences give, wrt parameters and memory', () => {
    const B = 2, N = 5, W = 3, H = 2;
    const scheme = ntm({ memory: { slots: N, width: W }, heads: H });
    const probes = [randomTensor([B, H, W], 70), randomTensor([B, N, W], 71)];
    const previous = { readWeights: tf.softmax(randomTensor([B, H, N], 72, -2, 2)), writeWeights: tf.softmax(randomTensor([B, H, N], 73, -2, 2)) };
    const loss = (parameters: tf.Tensor, memory: tf.Tensor) => {
      const { reads, state } = scheme.step(parameters as tf.Tensor2D, { memory, ...previous } as NtmState);
      return tf.add(tf.sum(tf.mul(reads, probes[0])), tf.sum(tf.mul(state.memory, probes[1]))) as tf.Scalar;
    };
    // Smooth compositions (tanh, softplus, sigmoid, softmax, cosine, log): see content.test.ts for the tolerance.
    const result = checkGradients(loss, [randomTensor([B, scheme.parameterSize], 74, -1.5, 1.5), randomTensor([B, N, W], 75)]);
    expect(result.maxError).toBeLessThan(5e-3);
  });

  it('keeps tf.memory().numTensors flat over 50 steps', () => {
    const scheme = ntm({ memory: { slots: 8, width: 4 }, heads: 2 });
    const parameters = randomTensor([2, scheme.parameterSize], 80) as tf.Tensor2D;
    let state = scheme.initialState(2);
    const counts = tensorCountAfterSteps(() => {
      const previous = state;
      state = tf.tidy(() => scheme.step(parameters, previous).state);
      tf.dispose(Object.values(previous));
    }, 50);
    expect(counts.afterLast).toBe(counts.afterFirst);
  });
});
