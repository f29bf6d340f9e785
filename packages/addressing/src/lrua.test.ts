import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { checkGradients, randomTensor, tensorCountAfterSteps } from '@mann/backend/testing';
import { lrua, lruaWriteWeights, type LruaOptions, type LruaState } from './index';
import { atanh, expectClose } from './test_utils';

beforeAll(async () => {
  await useBackend('cpu');
});

// A key whose tanh is [0.5, -0.5].
const HALF_KEY = [atanh(0.5), atanh(-0.5)];

describe('lruaWriteWeights', () => {
  it('mixes the previous read weights and the least-used mask by sigmoid(gate)', () => {
    const gate = tf.tensor2d([[0, Math.log(3)]]); // sigmoid(0) = 0.5, sigmoid(ln 3) = 3 / (3 + 1) = 0.75
    const previous = tf.tensor3d([[[1, 0, 0], [0, 0.5, 0.5]]]);
    const leastUsed = tf.tensor2d([[0, 0, 1]]);
    // head 0: 0.5 * [1, 0, 0] + 0.5 * [0, 0, 1] = [0.5, 0, 0.5]
    // head 1: 0.75 * [0, 0.5, 0.5] + 0.25 * [0, 0, 1] = [0, 0.375, 0.375 + 0.25] = [0, 0.375, 0.625]
    expectClose(lruaWriteWeights(gate, previous, leastUsed), [[[0.5, 0, 0.5], [0, 0.375, 0.625]]]);
  });

  it('rejects a gate per head that does not fit', () => {
    expect(() => lruaWriteWeights(tf.zeros([1, 3]) as tf.Tensor2D, tf.zeros([1, 2, 5]) as tf.Tensor3D, tf.zeros([1, 5]) as tf.Tensor2D)).toThrow(
      'lruaWriteWeights: gate [1,3] does not match previousReadWeights [1,2,5]: expected [1,2]',
    );
  });

  it('rejects tensors of another rank, and a least-used mask that does not fit', () => {
    const gate = tf.zeros([1, 2]) as tf.Tensor2D;
    const previous = tf.zeros([1, 2, 5]) as tf.Tensor3D;
    const leastUsed = tf.zeros([1, 5]) as tf.Tensor2D;
    expect(() => lruaWriteWeights(previous as unknown as tf.Tensor2D, previous, leastUsed)).toThrow(
      'lruaWriteWeights: gate must be a rank-2 tensor [B, H], got shape [1,2,5] (rank 3)',
    );
    expect(() => lruaWriteWeights(gate, gate as unknown as tf.Tensor3D, leastUsed)).toThrow(
      'lruaWriteWeights: previousReadWeights must be a rank-3 tensor [B, H, N], got shape [1,2] (rank 2)',
    );
    expect(() => lruaWriteWeights(gate, previous, previous as unknown as tf.Tensor2D)).toThrow(
      'lruaWriteWeights: leastUsed must be a rank-2 tensor [B, N], got shape [1,2,5] (rank 3)',
    );
    expect(() => lruaWriteWeights(gate, previous, tf.zeros([1, 4]) as tf.Tensor2D)).toThrow(
      'lruaWriteWeights: leastUsed [1,4] does not match previousReadWeights [1,2,5]: expected [1,5]',
    );
  });

  it('has the gradient finite differences give (gate, previous read weights)', () => {
    // Smooth in both inputs (a sigmoid times a linear term): see content.test.ts for the 5e-3 argument.
    const leastUsed = tf.tensor2d([[1, 0, 1, 0], [0, 0, 1, 1]]);
    const probe = randomTensor([2, 2, 4], 40);
    const result = checkGradients(
      (g, w) => tf.sum(tf.mul(lruaWriteWeights(g as tf.Tensor2D, w as tf.Tensor3D, leastUsed), probe)),
      [randomTensor([2, 2], 41, -2, 2), randomTensor([2, 2, 4], 42, 0, 1)],
    );
    expect(result.maxError).toBeLessThan(5e-3);
  });
});

describe('lrua options', () => {
  it('computes the parameter size: H*W keys + H gates (+ H*W add vectors)', () => {
    const memory = { slots: 128, width: 40 };
    expect(lrua({ memory, heads: 4 }).parameterSize).toBe(4 * 40 + 4);
    expect(lrua({ memory, heads: 4, writeVector: 'add' }).parameterSize).toBe(2 * 4 * 40 + 4);
    const scheme = lrua({ memory, heads: 4 });
    expect(scheme.name).toBe('lrua');
    expect(scheme.heads).toBe(4);
    expect(scheme.memory).toEqual({ slots: 128, width: 40, initialValue: 1e-6 });
  });

  it('throws clear errors for impossible configs', () => {
    expect(() => lrua({ memory: { slots: 4, width: 3 }, heads: 5 })).toThrow('lrua: heads = 5 is larger than the number of slots (4)');
    expect(() => lrua({ memory: { slots: 4, width: 3 }, heads: 0 })).toThrow('lrua: heads must be a positive integer, got 0');
    expect(() => lrua({ memory: { slots: 4, width: 0 }, heads: 1 })).toThrow('memory width must be a positive integer, got 0');
    expect(() => lrua({ memory: { slots: 4, width: 3 }, heads: 1, decay: 1.2 })).toThrow('lrua: decay must be a number in [0, 1], got 1.2');
    expect(() => lrua({ memory: { slots: 4, width: 3 }, heads: 1, decay: -0.1 })).toThrow('lrua: decay must be a number in [0, 1], got -0.1');
    expect(() => lrua({ memory: { slots: 4, width: 3 }, heads: 1, decay: NaN })).toThrow('lrua: decay must be a number in [0, 1], got NaN');
    // A number in a string is still refused (it would compare as a number, then break the fast path's arithmetic).
    expect(() => lrua({ memory: { slots: 4, width: 3 }, heads: 1, decay: '0.5' as unknown as number })).toThrow(
      'lrua: decay must be a number in [0, 1], got 0.5',
    );
    expect(() => lrua({ memory: { slots: 4, width: 3 }, heads: 1.5 })).toThrow('lrua: heads must be a positive integer, got 1.5');
    expect(() => lrua(null as unknown as LruaOptions)).toThrow(
      'lrua: options must be an object { memory, heads, decay?, writeVector?, clearing? }, got null',
    );
    expect(() => lrua(undefined as unknown as LruaOptions)).toThrow(
      'lrua: options must be an object { memory, heads, decay?, writeVector?, clearing? }, got undefined',
    );
    expect(() => lrua(4 as unknown as LruaOptions)).toThrow('lrua: options must be an object { memory, heads, decay?, writeVector?, clearing? }, got 4');
  });

  it('refuses a writeVector other than the two it knows (a misspelt one would silently write the keys)', () => {
    const memory = { slots: 4, width: 3 };
    expect(() => lrua({ memory, heads: 1, writeVector: 'Add' as 'add' })).toThrow("lrua: writeVector must be 'key' or 'add', got Add");
    expect(lrua({ memory, heads: 1, writeVector: 'key' }).parameterSize).toBe(3 + 1);
  });

  it('accepts the ends of the decay range: 0 forgets the previous usage, 1 keeps all of it', () => {
    // The state of 'clears the least-used slot before writing' below: usage [0.5, 0.1, 0.9] before the step,
    // w^r = [0.343237, 0.343237, 0.313527] and w^w = [1, 0, 0] from it; usage = decay * [0.5, 0.1, 0.9] + w^r + w^w.
    const step = (decay: number) =>
      lrua({ memory: { slots: 3, width: 2 }, heads: 1, decay }).step(tf.tensor2d([[...HALF_KEY, 30]]), {
        memory: tf.tensor3d([[[1, 2], [3, 4], [5, 6]]]),
        usage: tf.tensor2d([[0.5, 0.1, 0.9]]),
        readWeights: tf.tensor3d([[[1, 0, 0]]]),
        writeWeights: tf.zeros([1, 1, 3]) as tf.Tensor3D,
        leastUsed: tf.zeros([1, 3]) as tf.Tensor2D,
      }).state.usage;
    expectClose(step(0), [[1.343237, 0.343237, 0.313527]]);
    expectClose(step(1), [[1.843237, 0.443237, 1.213527]]);
  });

  it('allows as many heads as slots: every slot is least used, the least used of them is cleared', () => {
    const scheme = lrua({ memory: { slots: 2, width: 2 }, heads: 2 }); // parameters: 2 keys, 2 gate logits
    const { state } = scheme.step(tf.tensor2d([[...HALF_KEY, atanh(0.5), atanh(0.5), 0, 0]]), scheme.initialState(1));
    expectClose(state.leastUsed, [[1, 1]], 0);
    // Both heads: w^w = 0.5 * 0 + 0.5 * [1, 1]. Slot 0 (cleared) = 0.5 * ([0.5, -0.5] + [0.5, 0.5]) = [0.5, 0];
    // slot 1 (not cleared: the paper clears one slot) = [1e-6, 1e-6] + [0.5, 0] = [0.500001, 1e-6].
    expectClose(state.writeWeights, [[[0.5, 0.5], [0.5, 0.5]]]);
    expectClose(state.memory, [[[0.5, 0], [0.500001, 1e-6]]], 1e-7);
  });

  it('rejects parameters and states that do not fit', () => {
    const scheme = lrua({ memory: { slots: 4, width: 3 }, heads: 2 }); // parameterSize = 2*3 + 2 = 8
    const state = scheme.initialState(2);
    expect(() => scheme.step(tf.zeros([2, 7]) as tf.Tensor2D, state)).toThrow(
      "lrua.step: parameters [2,7] do not match the scheme's parameterSize: expected [B,8]",
    );
    expect(() => scheme.step(tf.zeros([3, 8]) as tf.Tensor2D, state)).toThrow(
      'lrua.step: state.memory [2,4,3] does not fit the batch of parameters and the memory size: expected [3,4,3]',
    );
    const parameters = tf.zeros([2, 8]) as tf.Tensor2D;
    expect(() => scheme.step(parameters, { ...state, usage: tf.zeros([2, 5]) as tf.Tensor2D })).toThrow(
      'lrua.step: state.usage [2,5] does not fit the batch of parameters and the memory size: expected [2,4]',
    );
    expect(() => scheme.step(parameters, { ...state, readWeights: tf.zeros([2, 1, 4]) as tf.Tensor3D })).toThrow(
      'lrua.step: state.readWeights [2,1,4] does not fit the batch of parameters and the memory size: expected [2,2,4]',
    );
    const { readWeights: _, ...withoutReadWeights } = state;
    expect(() => scheme.step(parameters, withoutReadWeights as LruaState)).toThrow('lrua.step: state.readWeights is missing (expected a tensor [2,2,4])');
    expect(() => scheme.step(parameters, 5 as unknown as LruaState)).toThrow(
      'lrua.step: state must be an object of tensors (from initialState or the previous step), got 5',
    );
    expect(() => scheme.step(parameters, null as unknown as LruaState)).toThrow(
      'lrua.step: state must be an object of tensors (from initialState or the previous step), got null',
    );
    expect(() => scheme.step(tf.zeros([8]) as unknown as tf.Tensor2D, state)).toThrow(
      'lrua.step: parameters must be a rank-2 tensor [B, parameterSize], got shape [8] (rank 1)',
    );
  });
});

describe('lrua step', () => {
  it('starts from the documented state: memory 1e-6, everything else zero', () => {
    const state = lrua({ memory: { slots: 3, width: 2 }, heads: 1 }).initialState(2);
    expectClose(state.memory, new Array(12).fill(1e-6), 1e-12);
    for (const name of ['usage', 'readWeights', 'writeWeights', 'leastUsed'] as const) {
      expectClose(state[name], new Array(6).fill(0), 0);
    }
  });

  it('a full first and second step, by hand', () => {
    const scheme = lrua({ memory: { slots: 3, width: 2 }, heads: 1 }); // parameters: key (2), gate (1)
    const first = scheme.step(tf.tensor2d([[...HALF_KEY, 0]]), scheme.initialState(1));
    // leastUsed from usage [0,0,0]: slot 0 (ties to the lower index).
    expectClose(first.state.leastUsed, [[1, 0, 0]], 0);
    // w^w = sigmoid(0) * w^r_0 + (1 - sigmoid(0)) * w^lu = 0.5 * 0 + 0.5 * [1,0,0] = [0.5, 0, 0]
    expectClose(first.state.writeWeights, [[[0.5, 0, 0]]]);
    // M: slot 0 cleared, then + 0.5 * k = 0.5 * [0.5, -0.5] = [0.25, -0.25]; slots 1, 2 keep 1e-6.
    expectClose(first.state.memory, [[[0.25, -0.25], [1e-6, 1e-6], [1e-6, 1e-6]]], 1e-7);
    // cos(k, slot 0) = 1; cos([0.5,-0.5], [1e-6,1e-6]) = 0 => w^r = softmax([1,0,0]) = [e, 1, 1] / (e + 2)
    //   = [0.576117, 0.211942, 0.211942]
    expectClose(first.state.readWeights, [[[0.576117, 0.211942, 0.211942]]]);
    // r = 0.576117 * [0.25, -0.25] + (0.211942 * 2) * [1e-6, 1e-6] = [0.144029, -0.144029]
    expectClose(first.reads, [[[0.144029, -0.144029]]]);
    // w^u = 0.95 * 0 + w^r + w^w = [0.576117 + 0.5, 0.211942, 0.211942]
    expectClose(first.state.usage, [[1.076117, 0.211942, 0.211942]]);

    // Second step: slots 1 and 2 tie for least used; slot 1 wins (lower index) and is the one cleared.
    const second = scheme.step(tf.tensor2d([[...HALF_KEY, 0]]), first.state);
    expectClose(second.state.leastUsed, [[0, 1, 0]], 0);
    // w^w = 0.5 * [0.576117, 0.211942, 0.211942] + 0.5 * [0, 1, 0] = [0.288059, 0.605971, 0.105971]
    expectClose(second.state.writeWeights, [[[0.288059, 0.605971, 0.105971]]]);
  });

  it('clears the least-used slot before writing', () => {
    const scheme = lrua({ memory: { slots: 3, width: 2 }, heads: 1, decay: 0.95 });
    const state: LruaState = {
      memory: tf.tensor3d([[[1, 2], [3, 4], [5, 6]]]),
      usage: tf.tensor2d([[0.5, 0.1, 0.9]]), // least used: slot 1
      readWeights: tf.tensor3d([[[1, 0, 0]]]), // the head read slot 0 last step
      writeWeights: tf.zeros([1, 1, 3]) as tf.Tensor3D,
      leastUsed: tf.zeros([1, 3]) as tf.Tensor2D,
    };
    // gate logit 30: sigmoid(30) = 1 - 9e-14 = 1 in float32, so the head writes only where it read (slot 0)
    // and slot 1 is cleared without being written.
    const { reads, state: next } = scheme.step(tf.tensor2d([[...HALF_KEY, 30]]), state);
    expectClose(next.leastUsed, [[0, 1, 0]], 0);
    expectClose(next.writeWeights, [[[1, 0, 0]]]);
    // slot 0: [1,2] + 1 * [0.5,-0.5] = [1.5, 1.5]; slot 1 cleared: [0, 0]; slot 2 untouched: [5, 6]
    expectClose(next.memory, [[[1.5, 1.5], [0, 0], [5, 6]]]);
    // cos(k, [1.5,1.5]) = 0; cleared slot: 0; cos(k, [5,6]) = (2.5 - 3) / (0.707107 * 7.810250) = -0.090536
    // w^r = softmax([0, 0, -0.090536]) = [1, 1, 0.913446] / 2.913446 = [0.343237, 0.343237, 0.313527]
    expectClose(next.readWeights, [[[0.343237, 0.343237, 0.313527]]]);
    // r = 0.343237 * [1.5, 1.5] + 0.313527 * [5, 6] = [2.082488, 2.396015]
    expectClose(reads, [[[2.082488, 2.396015]]], 2e-5);
    // usage = 0.95 * [0.5, 0.1, 0.9] + w^r + w^w = [0.475 + 0.343237 + 1, 0.095 + 0.343237, 0.855 + 0.313527]
    expectClose(next.usage, [[1.818237, 0.438237, 1.168527]]);
  });

  it("clears only the single least-used slot (the paper, the default), every marked slot with clearing: 'all-least-used'", () => {
    const state = (): LruaState => ({
      memory: tf.tensor3d([[[1, 2], [3, 4], [5, 6], [7, 8]]]),
      usage: tf.tensor2d([[0.5, 0.2, 0.9, 0.1]]), // least used: slot 3, then slot 1
      readWeights: tf.tensor3d([[[1, 0, 0, 0], [1, 0, 0, 0]]]), // both heads read slot 0 last step
      writeWeights: tf.zeros([1, 2, 4]) as tf.Tensor3D,
      leastUsed: tf.zeros([1, 4]) as tf.Tensor2D,
    });
    // Both gates sigmoid(30) = 1: the heads write only to slot 0: [1,2] + 2 * [0.5,-0.5] = [2, 1].
    const parameters = tf.tensor2d([[...HALF_KEY, ...HALF_KEY, 30, 30]]);
    const memory = { slots: 4, width: 2 };
    const paper = lrua({ memory, heads: 2, clearing: 'least-used' }).step(parameters, state()).state;
    const mask = lrua({ memory, heads: 2, clearing: 'all-least-used' }).step(parameters, state()).state;
    const byDefault = lrua({ memory, heads: 2 }).step(parameters, state()).state;
    // The least-used mask (and so the write weights) is the same: slots 1 and 3.
    expectClose(paper.leastUsed, [[0, 1, 0, 1]], 0);
    expectClose(mask.leastUsed, [[0, 1, 0, 1]], 0);
    // Only slot 3 is zeroed, as the paper says (and by default); with 'all-least-used' slot 1 as well.
    expectClose(paper.memory, [[[2, 1], [3, 4], [5, 6], [0, 0]]]);
    expectClose(byDefault.memory, [[[2, 1], [3, 4], [5, 6], [0, 0]]]);
    expectClose(mask.memory, [[[2, 1], [0, 0], [5, 6], [0, 0]]]);
    expect(() => lrua({ memory, heads: 2, clearing: 'one' as 'least-used' })).toThrow("lrua: clearing must be 'all-least-used' or 'least-used', got one");
  });

  it("writes tanh(add) instead of the key with writeVector: 'add'", () => {
    const scheme = lrua({ memory: { slots: 3, width: 2 }, heads: 1, writeVector: 'add' }); // key 2, gate 1, add 2
    const { state } = scheme.step(tf.tensor2d([[...HALF_KEY, 0, atanh(0.8), atanh(0.6)]]), scheme.initialState(1));
    // w^w = [0.5, 0, 0] as in the first step above; slot 0 = 0.5 * [0.8, 0.6] = [0.4, 0.3]
    expectClose(state.memory, [[[0.4, 0.3], [1e-6, 1e-6], [1e-6, 1e-6]]], 1e-6);
  });

  it('has the gradient finite differences give, wrt parameters, memory and previous read weights', () => {
    const B = 2, N = 5, W = 3, H = 2;
    const scheme = lrua({ memory: { slots: N, width: W }, heads: H });
    const usage = tf.tensor2d([[0.3, 1.2, 0.1, 2.0, 0.7], [0.9, 0.2, 1.5, 0.05, 1.1]]);
    const probes = [randomTensor([B, H, W], 50), randomTensor([B, N, W], 51), randomTensor([B, N], 52)];
    const loss = (parameters: tf.Tensor, memory: tf.Tensor, readWeights: tf.Tensor) => {
      const state = { memory, usage, readWeights, writeWeights: tf.zeros([B, H, N]), leastUsed: tf.zeros([B, N]) } as LruaState;
      const { reads, state: next } = scheme.step(parameters as tf.Tensor2D, state);
      // The reads, as the model uses them, plus the next memory and usage, through which later steps backpropagate.
      return tf.addN([tf.sum(tf.mul(reads, probes[0])), tf.sum(tf.mul(next.memory, probes[1])), tf.sum(tf.mul(next.usage, probes[2]))]) as tf.Scalar;
    };
    const readWeights = tf.softmax(randomTensor([B, H, N], 53, -2, 2));
    // Smooth compositions of tanh, sigmoid, cosine and softmax: see content.test.ts for the tolerance.
    const result = checkGradients(loss, [randomTensor([B, scheme.parameterSize], 54, -1.5, 1.5), randomTensor([B, N, W], 55), readWeights]);
    expect(result.maxError).toBeLessThan(5e-3);
  });

  it('keeps tf.memory().numTensors flat over 100 steps', () => {
    const scheme = lrua({ memory: { slots: 8, width: 4 }, heads: 2 });
    const parameters = randomTensor([2, scheme.parameterSize], 60) as tf.Tensor2D;
    let state = scheme.initialState(2);
    const counts = tensorCountAfterSteps(() => {
      const previous = state;
      state = tf.tidy(() => scheme.step(parameters, previous).state);
      tf.dispose(Object.values(previous));
    }, 100);
    expect(counts.afterLast).toBe(counts.afterFirst);
  });
});
