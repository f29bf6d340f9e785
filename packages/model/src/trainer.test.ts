import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useBackend } from '@mann/backend';
import { createRandom, type EpisodeBatch } from '@mann/episodes';
import { restoreCheckpoint, serializeCheckpoint } from './checkpoint';
import { MemoryAugmentedNetwork } from './model';
import type { OptimizerName } from './optimizers';
import { DivergenceError, Trainer } from './trainer';
import { SMALL, TINY, setWeights, smallBatch } from './test_helpers';

/** Trains `steps` updates with a fresh model and trainer, then disposes both. */
function trainAndDispose(optimizer: OptimizerName, steps = 2): void {
  const model = new MemoryAugmentedNetwork(SMALL);
  const trainer = new Trainer(model, { optimizer });
  const random = createRandom(2);
  for (let i = 0; i < steps; i++) trainer.trainStep(smallBatch(SMALL, random));
  trainer.dispose();
  model.dispose();
}

/** A checkpoint of a model trained for two steps with `optimizer`, and nothing left allocated. */
async function savedCheckpoint(optimizer: OptimizerName) {
  const model = new MemoryAugmentedNetwork(SMALL);
  const trainer = new Trainer(model, { optimizer });
  const random = createRandom(3);
  for (let i = 0; i < 2; i++) trainer.trainStep(smallBatch(SMALL, random));
  const saved = await serializeCheckpoint(model, trainer.trainingState(), trainer.optimizer);
  trainer.dispose();
  model.dispose();
  return { manifest: JSON.parse(JSON.stringify(saved.manifest)), weights: saved.weights };
}

describe.each(['cpu', 'wasm'] as const)('Trainer memory on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each(['adam', 'rmsprop'] as const)('%s: trainer.dispose() and model.dispose() free every tensor and byte', (optimizer) => {
    // Kernels and backend caches are made once, by a first run, not per trainer. Warmed up here, not in beforeAll:
    // StrykerJS counts code run in beforeAll as static, and would run every test for each mutant it reaches.
    trainAndDispose(optimizer, 1);
    const before = tf.memory();
    trainAndDispose(optimizer);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });

  it.each(['adam', 'rmsprop'] as const)('%s: Trainer.fromCheckpoint takes the restored optimiser state over, leaking nothing', async (optimizer) => {
    const { manifest, weights } = await savedCheckpoint(optimizer);
    const before = tf.memory();
    const restored = restoreCheckpoint(manifest, weights);
    const trainer = Trainer.fromCheckpoint(restored);
    expect(Object.values(restored.optimizerState).every((t) => t.isDisposed)).toBe(true);
    expect(trainer.step).toBe(2);
    trainer.trainStep(smallBatch(SMALL, createRandom(4)));
    trainer.dispose();
    restored.model.dispose();
    // Disposing them again, as older callers do, is harmless.
    tf.dispose(Object.values(restored.optimizerState));
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('fromCheckpoint keeps the saved optimiser, rate, clipping and step unless overridden, and its state when the optimiser stays', async () => {
    const { manifest, weights } = await savedCheckpoint('rmsprop');
    const restored = restoreCheckpoint(manifest, weights);
    expect(restored.training.optimizer).toEqual({ name: 'rmsprop', learningRate: 1e-4, clipNorm: 10 });
    const resumed = Trainer.fromCheckpoint(restored, { optimizer: 'rmsprop', learningRate: 0.5, clipNorm: 3, fastPath: false });
    expect([resumed.optimizer.name, resumed.learningRate, resumed.clipNorm, resumed.fastPath, resumed.step]).toEqual(['rmsprop', 0.5, 3, false, 2]);
    // The same optimiser named again: the saved state is taken over (copies; the restored tensors are freed).
    expect(Object.keys(resumed.optimizer.state()).length).toBe(Object.keys(restored.optimizerState).length);
    expect(Object.keys(restored.optimizerState).length).toBeGreaterThan(0);
    resumed.dispose();
    restored.model.dispose();
    const again = restoreCheckpoint(manifest, weights);
    const plain = Trainer.fromCheckpoint(again);
    expect([plain.optimizer.name, plain.learningRate, plain.clipNorm, plain.fastPath]).toEqual(['rmsprop', 1e-4, 10, true]);
    plain.dispose();
    again.model.dispose();
  });

  it('frees the restored optimiser state when another optimiser is chosen, and refuses to take it twice', async () => {
    const { manifest, weights } = await savedCheckpoint('adam');
    const before = tf.memory();
    const restored = restoreCheckpoint(manifest, weights);
    const switched = Trainer.fromCheckpoint(restored, { optimizer: 'rmsprop' });
    expect(Object.values(restored.optimizerState).every((t) => t.isDisposed)).toBe(true);
    const during = tf.memory().numTensors;
    expect(() => Trainer.fromCheckpoint(restored)).toThrow(
      /fromCheckpoint: the restored optimiser slot '.*' is disposed \(a trainer already took this checkpoint's optimiser state\); restore the checkpoint again/,
    );
    expect(tf.memory().numTensors).toBe(during);
    switched.dispose();
    restored.model.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });
});

describe('Trainer refuses batches that do not fit its model', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  /** Expects `act` to throw `message` without counting a step or leaving tensors behind. */
  function expectRefused(trainer: Trainer, act: () => unknown, message: string | RegExp): void {
    const tensors = tf.memory().numTensors;
    expect(act).toThrow(message);
    expect(trainer.step).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors);
  }

  it('names targets outside [0, choices) or not integers, in trainStep and evaluateBatch', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const trainer = new Trainer(model);
    const batch = smallBatch();
    const targets = batch.targets.slice();
    targets[5] = 3;
    expectRefused(trainer, () => trainer.trainStep({ ...batch, targets }),
      "Trainer.trainStep: batch.targets[5] is 3, not an integer in [0, 3); targets hold each step's right choice in each group, 0..2.");
    targets[5] = -1;
    expectRefused(trainer, () => trainer.evaluateBatch({ ...batch, targets }), /Trainer.evaluateBatch: batch.targets\[5\] is -1, not an integer in \[0, 3\)/);
    const fractional = Float64Array.from(batch.targets);
    fractional[0] = 1.5;
    expectRefused(trainer, () => trainer.trainStep({ ...batch, targets: fractional as unknown as Int32Array }), /batch.targets\[0\] is 1.5, not an integer/);
    const labels = batch.labels.slice();
    labels[2] = -4;
    expectRefused(trainer, () => trainer.trainStep({ ...batch, labels }), /batch.labels\[2\] is -4, not an integer in \[0, \.\.\.\)/);
    trainer.dispose();
    model.dispose();
  });

  it('names an empty batch (no episodes or no steps) instead of training on a loss of 0', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const trainer = new Trainer(model);
    const batch = smallBatch();
    const empty: EpisodeBatch = {
      ...batch,
      batchSize: 0,
      inputs: new Float32Array(0),
      previousLabels: new Float32Array(0),
      targets: new Int32Array(0),
      labels: new Int32Array(0),
      instances: new Int32Array(0),
      classes: new Int32Array(0),
    };
    expectRefused(trainer, () => trainer.trainStep(empty),
      'Trainer.trainStep: the batch has batchSize (B: episodes) 0; it must be a positive integer: sample at least one episode.');
    expectRefused(trainer, () => trainer.trainStep({ ...empty, batchSize: batch.batchSize, steps: 0 }), /the batch has steps \(T\) 0; it must be a positive integer/);
    trainer.dispose();
    model.dispose();
  });

  it("names a sample size, label groups or array sizes that do not match the model's", () => {
    const model = new MemoryAugmentedNetwork({ ...SMALL, imageSize: 5 });
    const trainer = new Trainer(model);
    expectRefused(trainer, () => trainer.trainStep(smallBatch()),
      "Trainer.trainStep: the batch's samples have 36 numbers (sampleSize) but the model takes 25 (imageSize 5^2); resize the images to 5x5 or build the model with their imageSize.");
    trainer.dispose();
    model.dispose();

    const fiveWays = new MemoryAugmentedNetwork({ ...SMALL, ways: 5 });
    const five = new Trainer(fiveWays);
    expectRefused(five, () => five.trainStep(smallBatch()),
      "Trainer.trainStep: the batch's labels are 1 group(s) of 3 choices but the model outputs 1 of 5 (labels 'one-hot', ways 5); sample episodes with labelEncodingFor(model.config).");
    const strings = new MemoryAugmentedNetwork({ ...SMALL, labels: 'string' });
    const stringTrainer = new Trainer(strings);
    expectRefused(stringTrainer, () => stringTrainer.evaluateBatch(smallBatch()), /the batch's labels are 1 group\(s\) of 3 choices but the model outputs 5 of 5 \(labels 'string'/);
    const small = new MemoryAugmentedNetwork(SMALL);
    const smallTrainer = new Trainer(small);
    const batch = smallBatch();
    expectRefused(smallTrainer, () => smallTrainer.trainStep({ ...batch, inputs: batch.inputs.subarray(1) }),
      /batch.inputs has 1727 numbers, expected \[T, B, D\] = \[12,4,36\] = 1728; the batch's sizes and arrays disagree/);
    smallTrainer.dispose();
    small.dispose();
    five.dispose();
    fiveWays.dispose();
    stringTrainer.dispose();
    strings.dispose();
  });
});

describe('Trainer on a feed-forward baseline pinned by hand', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  // TINY feed-forward baseline: h_t = tanh([x_t, y_{t-1}] [0.5, 0.3, -0.7] + 0.1), o_t = h_t [2, -1] + [0.1, -0.2].
  // One episode: x = 1, -0.5; y_{-1} = [0, 0], y_0 = [0, 1]; targets 1, 0.
  function pinned(options: ConstructorParameters<typeof Trainer>[1] = {}) {
    const model = new MemoryAugmentedNetwork({ ...TINY, kind: 'feed-forward' });
    setWeights(model, { 'controller/kernel0': [0.5, 0.3, -0.7], 'controller/bias0': [0.1], 'output/kernel': [2, -1], 'output/bias': [0.1, -0.2] });
    return new Trainer(model, options);
  }
  const batch: EpisodeBatch = {
    steps: 2,
    batchSize: 1,
    ways: 2,
    sampleSize: 1,
    groups: 1,
    choices: 2,
    inputs: Float32Array.from([1, -0.5]),
    previousLabels: Float32Array.from([0, 0, 0, 1]),
    targets: Int32Array.from([1, 0]),
    labels: Int32Array.from([1, 0]),
    instances: Int32Array.from([1, 1]),
    classes: Int32Array.from([0, 1]),
  };
  const h = [Math.tanh(0.6), Math.tanh(-0.85)]; // 0.53705, -0.69107
  const logits = h.map((v) => [2 * v + 0.1, -v - 0.2]); // [1.17410, -0.73705], [-1.28214, 0.49107]
  const logSumExp = (o: number[]) => Math.log(Math.exp(o[0]) + Math.exp(o[1]));
  // Mean cross-entropy: (lse(o_0) - o_0[1] + lse(o_1) - o_1[0]) / 2 = (1.91115 + 2.06797) / 2 = 1.98956.
  const loss = (logSumExp(logits[0]) - logits[0][1] + logSumExp(logits[1]) - logits[1][0]) / 2;

  it.each([true, false])('evaluateBatch gives the loss and choices (fast path: %s)', (fastPath) => {
    const trainer = pinned({ fastPath });
    const result = trainer.evaluateBatch(batch);
    expect(result.loss).toBeCloseTo(loss, 5);
    expect(Array.from(result.predictions)).toEqual([0, 1]);
    trainer.dispose();
    trainer.model.dispose();
  });

  it.each([true, false])('trainStep reports the loss, choices and gradient norm before updating, then moves each weight (fast path: %s)', (fastPath) => {
    const trainer = pinned({ fastPath, optimizer: 'adam', learningRate: 0.1 });
    const report = trainer.trainStep(batch);
    expect(report.loss).toBeCloseTo(loss, 5);
    expect(Array.from(report.predictions)).toEqual([0, 1]);
    // dL/do_t = (softmax(o_t) - target_t) / 2 = [0.43557, -0.43557] and [-0.42743, 0.42743]. Output bias: their sum,
    // [0.00815, -0.00815]; output kernel: h_0 d_0 + h_1 d_1 = [0.52931, -0.52931]. Back to h: dh = 2 d[0] - d[1] =
    // 1.30672 and -1.28228; through tanh, dz = dh (1 - h^2) = 0.92983 and -0.66989: bias0 0.25994, kernel0
    // x dz + y_0 dz + y_1 dz summed = [1 * 0.92983 - 0.5 * -0.66989, 0, 1 * -0.66989] = [1.26478, 0, -0.66989].
    // Norm: sqrt(2 * 0.00815^2 + 2 * 0.52931^2 + 1.26478^2 + 0.66989^2 + 0.25994^2) = 1.63599.
    expect(report.gradientNorm).toBeCloseTo(1.63599, 4);
    expect(trainer.step).toBe(1);
    // Adam's first step moves each weight by the learning rate against its gradient's sign (zero gradient: not at all).
    const weights = Object.fromEntries(Object.entries(trainer.model.variables).map(([name, v]) => [name, Array.from(v.dataSync())]));
    const expected = { 'controller/kernel0': [0.4, 0.3, -0.6], 'controller/bias0': [0], 'output/kernel': [1.9, -0.9], 'output/bias': [0, -0.1] };
    for (const [name, values] of Object.entries(expected)) values.forEach((value, i) => expect(weights[name][i], `${name}[${i}]`).toBeCloseTo(value, 4));
    trainer.dispose();
    trainer.model.dispose();
  });

  it('forward runs fastForward on the fast path and model.forward on the plain one', () => {
    const trainer = pinned();
    const forward = vi.spyOn(trainer.model, 'forward');
    trainer.evaluateBatch(batch);
    trainer.trainStep(batch);
    expect(forward).not.toHaveBeenCalled();
    const plain = new Trainer(trainer.model, { fastPath: false });
    plain.evaluateBatch(batch);
    plain.trainStep(batch);
    expect(forward).toHaveBeenCalledTimes(2);
    forward.mockRestore();
    plain.dispose();
    trainer.dispose();
    trainer.model.dispose();
  });

  it('uses Adam at 1e-3 with clipping at 10 and the fast path unless told otherwise; RMSProp at 1e-4', () => {
    const trainer = pinned();
    expect([trainer.optimizer.name, trainer.learningRate, trainer.clipNorm, trainer.fastPath]).toEqual(['adam', 1e-3, 10, true]);
    expect(trainer.trainingState({ random: [1] })).toEqual({ random: [1], step: 0, optimizer: { name: 'adam', learningRate: 1e-3, clipNorm: 10 } });
    const rmsprop = new Trainer(trainer.model, { optimizer: 'rmsprop', clipNorm: 0 });
    expect([rmsprop.optimizer.name, rmsprop.learningRate, rmsprop.clipNorm]).toEqual(['rmsprop', 1e-4, 0]);
    expect(new Trainer(trainer.model, { optimizer: 'rmsprop', learningRate: 0.5 }).learningRate).toBe(0.5);
    for (const clipNorm of [-1, NaN]) {
      expect(() => new Trainer(trainer.model, { clipNorm })).toThrow(`Trainer: clipNorm must be >= 0 (0 = no clipping), got ${clipNorm}.`);
    }
    trainer.dispose();
    trainer.model.dispose();
  });

  it('applyGradients clips to clipNorm (0 or Infinity: not at all) before the optimiser sees the gradients', () => {
    // RMSProp's mean square after one step is 0.05 g^2 of the gradient it was given: [3, -4] (norm 5) clipped to
    // norm 1 is [0.6, -0.8] -> [0.018, 0.032]; unclipped -> [0.45, 0.8].
    for (const [clipNorm, expected] of [[1, [0.018, 0.032]], [0, [0.45, 0.8]], [Infinity, [0.45, 0.8]], [5, [0.45, 0.8]]] as const) {
      const trainer = pinned({ optimizer: 'rmsprop', clipNorm });
      const gradient = tf.tensor1d([3, -4]);
      expect(trainer.applyGradients(1, { 'output/bias': gradient })).toBeCloseTo(5, 5);
      expect(trainer.step).toBe(1);
      const rms = Array.from(trainer.optimizer.state()['output/bias/rms'].dataSync());
      rms.forEach((value, i) => expect(value, `clipNorm ${clipNorm}`).toBeCloseTo(expected[i], 6));
      gradient.dispose();
      trainer.dispose();
      trainer.model.dispose();
    }
  });

  it('applyGradients refuses a non-finite loss or gradient norm, naming the step, and changes nothing', () => {
    const trainer = pinned({ optimizer: 'rmsprop' });
    trainer.step = 6;
    const finite = tf.tensor1d([3, -4]);
    const infinite = tf.tensor1d([Infinity, 0]);
    const message = (loss: number, norm: number) =>
      `Training diverged at step 7: loss ${loss}, gradient norm ${norm}. The weights were not updated; resume from the last checkpoint ` +
      'with a lower learning rate or a smaller clipNorm.';
    expect(() => trainer.applyGradients(NaN, { 'output/bias': finite })).toThrow(message(NaN, 5));
    expect(() => trainer.applyGradients(Infinity, { 'output/bias': finite })).toThrow(DivergenceError);
    expect(() => trainer.applyGradients(1, { 'output/bias': infinite })).toThrow(message(1, Infinity));
    expect(trainer.step).toBe(6);
    expect(trainer.optimizer.state()).toEqual({});
    expect(Array.from(trainer.model.variables['output/bias'].dataSync())).toEqual([0.1, -0.2].map(Math.fround));
    tf.dispose([finite, infinite]);
    trainer.dispose();
    trainer.model.dispose();
  });
});
