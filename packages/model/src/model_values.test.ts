import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { glorotUniform } from '@mann/controller';
import { fastForward } from './fast_forward';
import { MemoryAugmentedNetwork } from './model';
import { TINY, setWeights } from './test_helpers';

beforeAll(async () => {
  await useBackend('cpu');
});

// Logits of each of the seven variants, pinned by hand: TINY models (1 pixel, 2 ways, 1 unit, a memory of
// 1 slot x 1 number, 1 head) with every weight set, one episode of two steps. With a single slot every
// weighting of LRUA and NTM is 1 (a softmax, an interpolation, a shift and a sharpening over one slot), so a
// read is the slot's content and the memory's arithmetic fits in a line. Both paths (model.forward and
// fastForward) must give these numbers.
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const tanh = Math.tanh;

/**
 * The logits [T = 2, B = 1, outputs] on `path` for images x_0 = 1, x_1 = -0.5 and previous labels y_{-1} = 0,
 * y_0 = `label` (the label shown at step 0).
 */
function logits(model: MemoryAugmentedNetwork, path: 'plain' | 'fast', label: number[]): number[] {
  expect(label.length).toBe(model.labelSize);
  const images = tf.tensor3d([1, -0.5], [2, 1, 1]);
  const previousLabels = tf.tensor3d([...new Array(model.labelSize).fill(0), ...label], [2, 1, model.labelSize]);
  const out = tf.tidy(() => (path === 'fast' ? fastForward(model, images, previousLabels) : model.forward(images, previousLabels)));
  expect(out.shape).toEqual([2, 1, model.outputSize]);
  const values = Array.from(out.dataSync());
  tf.dispose([images, previousLabels, out]);
  return values;
}

function expectValues(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((value, i) => expect(value, `logit ${i}: ${actual} vs ${expected}`).toBeCloseTo(expected[i], 5));
}

// Shared pieces. LSTM kernel columns are the gates i, f, g, o; only the candidate g has weights here, so
// i = o = sigmoid(0) = 1/2 and f = sigmoid(0 + forgetBias 1): c_t = sigmoid(1) c_{t-1} + tanh(g_t) / 2 and
// h_t = tanh(c_t) / 2. A row [0, 0, w, 0] puts weight w on g only.
const g = (w: number) => [0, 0, w, 0];
/** The output layer of the baselines: logits = h [2, -1] + [0.1, -0.2]. */
const baselineOutput = { 'output/kernel': [2, -1], 'output/bias': [0.1, -0.2] };
const baselineLogits = (h: number) => [2 * h + 0.1, -h - 0.2];
/** The output layer of a MANN over [h, r]: logits = h [2, -1] + r [0.5, 3] + [0.1, -0.2]. */
const mannOutput = { 'output/kernel': [2, -1, 0.5, 3], 'output/bias': [0.1, -0.2] };
const mannLogits = (h: number, r: number) => [2 * h + 0.5 * r + 0.1, -h + 3 * r - 0.2];

/** The LSTM of these tests over [x, y_0, y_1, (r), h]: g = 1 x + 2 y_0 - 1 y_1 (+ 1.5 r) + 0.5 h + 0.2. */
function lstmWeights(withReads: boolean) {
  return {
    'controller/kernel': [...g(1), ...g(2), ...g(-1), ...(withReads ? g(1.5) : []), ...g(0.5)],
    'controller/bias': g(0.2),
  };
}
/** c and h of that LSTM after steps 0 and 1, given the reads r_0 fed at step 1 (0 for the baselines). */
function lstmSteps(r0: number) {
  // Step 0: x = 1, y = 0, r = 0, h = 0: g = 1 + 0.2 = 1.2; c0 = tanh(1.2) / 2 = 0.41683; h0 = tanh(c0) / 2 = 0.19713.
  const c0 = tanh(1.2) / 2;
  const h0 = tanh(c0) / 2;
  // Step 1: x = -0.5, y = [0, 1]: g = -0.5 - 1 + 1.5 r0 + 0.5 h0 + 0.2; c1 = sigmoid(1) c0 + tanh(g) / 2.
  const c1 = sigmoid(1) * c0 + tanh(-1.3 + 1.5 * r0 + 0.5 * h0) / 2;
  return { h0, h1: tanh(c1) / 2 };
}

describe('logits pinned by hand', () => {
  it('feed-forward baseline: o_t = tanh([x_t, y_{t-1}] K + b) W_o + b_o', () => {
    const model = new MemoryAugmentedNetwork({ ...TINY, kind: 'feed-forward' });
    setWeights(model, { 'controller/kernel0': [0.5, 0.3, -0.7], 'controller/bias0': [0.1], ...baselineOutput });
    // h0 = tanh(0.5 * 1 + 0.1) = tanh(0.6) = 0.53705 -> [1.17410, -0.73705];
    // h1 = tanh(0.5 * -0.5 + 0.3 * 0 - 0.7 * 1 + 0.1) = tanh(-0.85) = -0.69107 -> [-1.28214, 0.49107].
    const expected = [...baselineLogits(tanh(0.6)), ...baselineLogits(tanh(-0.85))];
    for (const path of ['plain', 'fast'] as const) expectValues(logits(model, path, [0, 1]), expected);
    model.dispose();
  });

  it('LSTM baseline: the recurrent state carries from step 0 to step 1', () => {
    const model = new MemoryAugmentedNetwork({ ...TINY, kind: 'lstm' });
    setWeights(model, { ...lstmWeights(false), ...baselineOutput });
    // h0 = 0.19713 -> [0.49425, -0.39713]; step 1: g = -1.3 + 0.5 * 0.19713 = -1.20144,
    // c1 = 0.73106 * 0.41683 + tanh(-1.20144) / 2 = -0.11232, h1 = tanh(c1) / 2 = -0.05593 -> [-0.01185, -0.14407].
    const { h0, h1 } = lstmSteps(0);
    const expected = [...baselineLogits(h0), ...baselineLogits(h1)];
    for (const path of ['plain', 'fast'] as const) expectValues(logits(model, path, [0, 1]), expected);
    model.dispose();
  });

  // LRUA on one slot: step 0 writes with w^w = sigmoid(alpha) * 0 + (1 - sigmoid(alpha)) * 1 (no previous read,
  // the slot is the least used) into the cleared slot, so r_0 = (1 - sigmoid(alpha_0)) v_0; step 1 has w^w =
  // sigmoid(alpha) * 1 + (1 - sigmoid(alpha)) * 1 = 1, so r_1 = v_1. v = k = tanh(key) ('key') or tanh(add).
  // The memory's parameters are [key, alpha(, add)] = h [0.5, -1(, 1)] + [0.2, 0.3(, -0.4)].
  it('MANN, LSTM + LRUA: reads enter the controller at the next step and the output at this one', () => {
    const model = new MemoryAugmentedNetwork(TINY);
    setWeights(model, { ...lstmWeights(true), 'memory/kernel': [0.5, -1], 'memory/bias': [0.2, 0.3], ...mannOutput });
    // h0 = 0.19713; k0 = tanh(0.5 h0 + 0.2) = 0.29000, alpha0 = 0.3 - h0 = 0.10287, r0 = (1 - 0.52570) k0 = 0.13755.
    const h0 = lstmSteps(0).h0;
    const r0 = (1 - sigmoid(0.3 - h0)) * tanh(0.5 * h0 + 0.2);
    // Step 1 sees r0: g = -1.3 + 1.5 * 0.13755 + 0.5 * 0.19713 = -0.99512, c1 = -0.07504, h1 = -0.03745;
    // r1 = tanh(0.5 h1 + 0.2) = 0.17931. Logits [0.56303, 0.01551, 0.11476, 0.37540].
    const { h1 } = lstmSteps(r0);
    const r1 = tanh(0.5 * h1 + 0.2);
    const expected = [...mannLogits(h0, r0), ...mannLogits(h1, r1)];
    for (const path of ['plain', 'fast'] as const) expectValues(logits(model, path, [0, 1]), expected);
    model.dispose();
  });

  it('MANN, LRUA writing a separate add vector', () => {
    const model = new MemoryAugmentedNetwork({ ...TINY, writeVector: 'add' });
    setWeights(model, { ...lstmWeights(true), 'memory/kernel': [0.5, -1, 1], 'memory/bias': [0.2, 0.3, -0.4], ...mannOutput });
    // r0 = (1 - sigmoid(0.3 - h0)) tanh(h0 - 0.4) = 0.47430 * tanh(-0.20287) = 0.47430 * -0.20013 = -0.09492; r1 = tanh(h1 - 0.4).
    const h0 = lstmSteps(0).h0;
    const r0 = (1 - sigmoid(0.3 - h0)) * tanh(h0 - 0.4);
    const { h1 } = lstmSteps(r0);
    const expected = [...mannLogits(h0, r0), ...mannLogits(h1, tanh(h1 - 0.4))];
    for (const path of ['plain', 'fast'] as const) expectValues(logits(model, path, [0, 1]), expected);
    model.dispose();
  });

  it('MANN, feed-forward controller + LRUA', () => {
    const model = new MemoryAugmentedNetwork({ ...TINY, controller: 'feed-forward' });
    setWeights(model, {
      'controller/kernel0': [0.5, 0.3, -0.7, 1.5],
      'controller/bias0': [0.1],
      'memory/kernel': [0.5, -1],
      'memory/bias': [0.2, 0.3],
      ...mannOutput,
    });
    // h0 = tanh(0.6) = 0.53705; r0 = (1 - sigmoid(0.3 - 0.53705)) tanh(0.46853) = 0.55899 * 0.43701 = 0.24428;
    // h1 = tanh(-0.25 - 0.7 + 1.5 r0 + 0.1) = tanh(-0.48358) = -0.44911; r1 = tanh(0.5 h1 + 0.2) = -0.02455.
    const h0 = tanh(0.6);
    const r0 = (1 - sigmoid(0.3 - h0)) * tanh(0.5 * h0 + 0.2);
    const h1 = tanh(-0.85 + 1.5 * r0);
    const expected = [...mannLogits(h0, r0), ...mannLogits(h1, tanh(0.5 * h1 + 0.2))];
    for (const path of ['plain', 'fast'] as const) expectValues(logits(model, path, [0, 1]), expected);
    model.dispose();
  });

  it('MANN, LSTM + NTM', () => {
    // NTM with one shift offset: parameters [read key, strength, gate, shift, sharpening, write key, strength,
    // gate, shift, sharpening, erase, add]. Two slots (tfjs cannot one-hot the initial weighting over one), both
    // starting at 1e-6; both gates are sigmoid(-20) = 2e-9, so each head stays where it was, on slot 0 (the
    // initial weighting), and a one-offset shift and the sharpening keep that. Only erase = h and add = 0.5 h + 0.2
    // vary: slot 0 holds M_t = M_{t-1} (1 - sigmoid(erase)) + tanh(add), and r_t = M_t.
    const model = new MemoryAugmentedNetwork({ ...TINY, memorySlots: 2, addressing: 'ntm', shifts: 1 });
    const memoryKernel = new Array(12).fill(0);
    memoryKernel[10] = 1;
    memoryKernel[11] = 0.5;
    const memoryBias = new Array(12).fill(0);
    memoryBias[2] = -20;
    memoryBias[7] = -20;
    memoryBias[11] = 0.2;
    setWeights(model, { ...lstmWeights(true), 'memory/kernel': memoryKernel, 'memory/bias': memoryBias, ...mannOutput });
    // r0 = 1e-6 (1 - sigmoid(0.19713)) + tanh(0.5 * 0.19713 + 0.2) = 0.29000; r1 = r0 (1 - sigmoid(h1)) + tanh(0.5 h1 + 0.2).
    const h0 = lstmSteps(0).h0;
    const r0 = 1e-6 * (1 - sigmoid(h0)) + tanh(0.5 * h0 + 0.2);
    const { h1 } = lstmSteps(r0);
    const r1 = r0 * (1 - sigmoid(h1)) + tanh(0.5 * h1 + 0.2);
    const expected = [...mannLogits(h0, r0), ...mannLogits(h1, r1)];
    for (const path of ['plain', 'fast'] as const) expectValues(logits(model, path, [0, 1]), expected);
    model.dispose();
  });

  it('MANN, string labels: 5 groups of 5 in, 25 logits out', () => {
    const model = new MemoryAugmentedNetwork({ ...TINY, labels: 'string' });
    expect([model.labelSize, model.outputSize]).toEqual([25, 25]);
    // Controller rows [x, y (25), r, h]: y has weight 2 at index 3 and -3 at index 14, 0 elsewhere, so the label
    // "3 0 4 1 2" (one-hot indices 3, 5, 14, 16, 22) adds 2 - 3 = -1 at step 1, as y = [0, 1] did above.
    const yRows = new Array(25).fill(0).map((_, j) => g(j === 3 ? 2 : j === 14 ? -3 : 0));
    // Output column j: h (j % 5 - 2) + r (j < 5 ? 1 : 0) + j / 10.
    const column = (j: number) => ({ h: (j % 5) - 2, r: j < 5 ? 1 : 0, b: j / 10 });
    const columns = Array.from({ length: 25 }, (_, j) => column(j));
    setWeights(model, {
      'controller/kernel': [...g(1), ...yRows.flat(), ...g(1.5), ...g(0.5)],
      'controller/bias': g(0.2),
      'memory/kernel': [0.5, -1],
      'memory/bias': [0.2, 0.3],
      'output/kernel': [...columns.map((c) => c.h), ...columns.map((c) => c.r)],
      'output/bias': columns.map((c) => c.b),
    });
    const label = new Array(25).fill(0);
    for (const j of [3, 5, 14, 16, 22]) label[j] = 1;
    // The same h and r as 'MANN, LSTM + LRUA'; e.g. logit 0 at step 0 = -2 h0 + r0 + 0 = -0.25671.
    const h0 = lstmSteps(0).h0;
    const r0 = (1 - sigmoid(0.3 - h0)) * tanh(0.5 * h0 + 0.2);
    const { h1 } = lstmSteps(r0);
    const r1 = tanh(0.5 * h1 + 0.2);
    const expected = [h0, h1].flatMap((h, t) => columns.map((c) => h * c.h + (t === 0 ? r0 : r1) * c.r + c.b));
    for (const path of ['plain', 'fast'] as const) expectValues(logits(model, path, label), expected);
    model.dispose();
  });
});

describe('a model as built', () => {
  it('has the sizes and parameter count its config implies', () => {
    // LSTM over [x (36), y (3), r (2 heads x 8)] = 55 inputs + 24 recurrent, 4 x 24 gates: 79 x 96 + 96;
    // LRUA parameters 2 x 8 keys + 2 gates = 18: 24 x 18 + 18; output over [h, r] = 40: 40 x 3 + 3.
    const model = new MemoryAugmentedNetwork({ controllerUnits: 24, memorySlots: 12, memoryWidth: 8, heads: 2, ways: 3, imageSize: 6 });
    expect([model.imageSize, model.labelSize, model.outputSize, model.readSize]).toEqual([36, 3, 3, 16]);
    expect(model.parameterCount()).toBe(79 * 96 + 96 + 24 * 18 + 18 + 40 * 3 + 3);
    model.dispose();
    // The LSTM baseline: [x, y] = 39 inputs + 24 recurrent, no memory; output 24 x 3 + 3.
    const baseline = new MemoryAugmentedNetwork({ controllerUnits: 24, ways: 3, imageSize: 6, kind: 'lstm' });
    expect(baseline.readSize).toBe(0);
    expect(baseline.addressing).toBeNull();
    expect(baseline.parameterCount()).toBe(63 * 96 + 96 + 24 * 3 + 3);
    baseline.dispose();
  });

  it('draws its own kernels from seed + 1 (memory) and seed + 2 (output), with zero biases', () => {
    const model = new MemoryAugmentedNetwork({ ...TINY, controllerUnits: 4, memoryWidth: 3, seed: 7 });
    // LRUA: 1 head x 3 key numbers + 1 gate = 4 parameters; output over [h (4), r (3)].
    const expected = { 'memory/kernel': glorotUniform([4, 4], 8), 'output/kernel': glorotUniform([7, 2], 9) };
    for (const [name, tensor] of Object.entries(expected)) {
      expect(Array.from(model.variables[name].dataSync()), name).toEqual(Array.from(tensor.dataSync()));
      expect(model.variables[name].trainable, name).toBe(true);
    }
    expect(Array.from(model.variables['memory/bias'].dataSync())).toEqual([0, 0, 0, 0]);
    expect(Array.from(model.variables['output/bias'].dataSync())).toEqual([0, 0]);
    expect(model.variables['output/bias'].trainable).toBe(true);
    expect(model.variables['memory/bias'].trainable).toBe(true);
    tf.dispose(Object.values(expected));
    model.dispose();
  });

  it('starts each episode with zero reads and the parts’ initial states', () => {
    const model = new MemoryAugmentedNetwork({ ...TINY, memoryWidth: 3, heads: 1 });
    const before = tf.memory().numTensors;
    const state = model.initialState(2);
    expect(state.reads!.shape).toEqual([2, 3]);
    expect(Array.from(state.reads!.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(state.addressing!.memory.shape).toEqual([2, 1, 3]);
    expect(Object.keys(state.controller).sort()).toEqual(['c', 'h']);
    tf.dispose(state as unknown as tf.TensorContainer);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    const baseline = new MemoryAugmentedNetwork({ ...TINY, kind: 'lstm' });
    expect(Object.keys(baseline.initialState(1)).sort()).toEqual(['controller']);
    baseline.dispose();
  });

  it('step refuses a previous label of the wrong width or batch, naming the shapes', () => {
    const model = new MemoryAugmentedNetwork(TINY);
    const state = model.initialState(2);
    const image = tf.zeros([2, 1]) as tf.Tensor2D;
    expect(() => model.step(tf.zeros([2, 1, 1]) as unknown as tf.Tensor2D, tf.zeros([2, 2]) as tf.Tensor2D, state)).toThrow(
      'MemoryAugmentedNetwork.step: image has shape [2,1,1], expected [B, 1] (imageSize 1^2).',
    );
    expect(() => model.step(image, tf.zeros([2, 3]) as tf.Tensor2D, state)).toThrow(
      'MemoryAugmentedNetwork.step: previousLabel has shape [2,3], expected [2, 2].',
    );
    expect(() => model.step(image, tf.zeros([1, 2]) as tf.Tensor2D, state)).toThrow(
      'MemoryAugmentedNetwork.step: previousLabel has shape [1,2], expected [2, 2].',
    );
    expect(() => model.step(image, tf.zeros([2, 2, 1]) as unknown as tf.Tensor2D, state)).toThrow(
      'MemoryAugmentedNetwork.step: previousLabel has shape [2,2,1], expected [2, 2].',
    );
    model.dispose();
  });

  it('says what to call when no backend is loaded (before making anything)', () => {
    // As in a fresh process that imported no backend package (imports.test.ts checks that for real).
    const engine = tf.engine() as unknown as { registryFactory: Record<string, unknown> };
    const factories = engine.registryFactory;
    engine.registryFactory = {};
    try {
      expect(() => new MemoryAugmentedNetwork(TINY)).toThrow(
        "MemoryAugmentedNetwork needs a TensorFlow.js backend, and none is loaded: call `await useBackend('wasm')` (or 'cpu', 'webgl') " +
          'from @mann/backend first, or import a backend package such as @tensorflow/tfjs-backend-cpu.',
      );
    } finally {
      engine.registryFactory = factories;
    }
  });

  it('dispose frees every variable once; a disposed model refuses to run', () => {
    const before = tf.memory().numTensors;
    const model = new MemoryAugmentedNetwork(TINY);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.dispose()).not.toThrow();
    const images = tf.zeros([1, 1, 1]) as tf.Tensor3D;
    const labels = tf.zeros([1, 1, 2]) as tf.Tensor3D;
    expect(() => model.forward(images, labels)).toThrow('MemoryAugmentedNetwork: this model was disposed.');
    expect(() => model.step(tf.zeros([1, 1]) as tf.Tensor2D, tf.zeros([1, 2]) as tf.Tensor2D, {} as never)).toThrow('this model was disposed');
    tf.dispose([images, labels]);
  });
});
