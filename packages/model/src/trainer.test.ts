import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { createRandom, type EpisodeBatch } from '@mann/episodes';
import { restoreCheckpoint, serializeCheckpoint } from './checkpoint';
import { MemoryAugmentedNetwork } from './model';
import type { OptimizerName } from './optimizers';
import { Trainer } from './trainer';
import { SMALL, smallBatch } from './test_helpers';

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
    trainAndDispose('adam', 1); // kernels and backend caches made once, not per trainer
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each(['adam', 'rmsprop'] as const)('%s: trainer.dispose() and model.dispose() free every tensor and byte', (optimizer) => {
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
