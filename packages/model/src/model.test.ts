import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference, tensorCountAfterSteps } from '@mann/backend/testing';
import type { ModelConfig } from './config';
import { MemoryAugmentedNetwork } from './model';
import { episodeTensors } from './tensors';
import { Trainer } from './trainer';
import { MUTATION_RUN, SMALL, smallBatch } from './test_helpers';

beforeAll(async () => {
  await useBackend('cpu');
});

const variants: [string, Partial<ModelConfig>][] = [
  ['MANN, LSTM + LRUA', SMALL],
  ['MANN, LRUA writing a separate add vector', { ...SMALL, writeVector: 'add' }],
  ['MANN, feed-forward controller', { ...SMALL, controller: 'feed-forward' }],
  ['MANN, NTM addressing', { ...SMALL, addressing: 'ntm' }],
  ['MANN, string labels', { ...SMALL, labels: 'string' }],
  ['LSTM baseline', { ...SMALL, kind: 'lstm' }],
  ['feed-forward baseline', { ...SMALL, kind: 'feed-forward' }],
];

describe.each(variants)('%s', (_, config) => {
  let model: MemoryAugmentedNetwork | undefined;
  afterEach(() => model?.dispose());

  it('maps [T, B, D] episodes to [T, B, G * C] logits', () => {
    model = new MemoryAugmentedNetwork(config);
    const batch = smallBatch(config);
    const input = episodeTensors(batch);
    const logits = tf.tidy(() => model!.forward(input.images, input.previousLabels));
    expect(logits.shape).toEqual([batch.steps, batch.batchSize, model.outputSize]);
    expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([logits, input] as never);
  });

  it('trains without leaking tensors', () => {
    model = new MemoryAugmentedNetwork(config);
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    const batch = smallBatch(config);
    const { afterFirst, afterLast } = tensorCountAfterSteps(() => trainer.trainStep(batch), 5);
    expect(afterLast).toBe(afterFirst);
    trainer.optimizer.dispose();
  });
});

describe('MemoryAugmentedNetwork', () => {
  it('resets memory at the start of every episode: forward is a pure function of the episode', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const input = episodeTensors(smallBatch());
    const a = tf.tidy(() => model.forward(input.images, input.previousLabels));
    const b = tf.tidy(() => model.forward(input.images, input.previousLabels));
    expect(maxAbsDifference(a, b)).toBe(0);
    tf.dispose([a, b, input] as never);
    model.dispose();
  });

  it('the same seed gives the same weights, another seed others', () => {
    const [a, b, c] = [0, 0, 1].map((seed) => new MemoryAugmentedNetwork({ ...SMALL, seed }));
    expect(maxAbsDifference(a.variables['output/kernel'], b.variables['output/kernel'])).toBe(0);
    expect(maxAbsDifference(a.variables['output/kernel'], c.variables['output/kernel'])).toBeGreaterThan(0);
    [a, b, c].forEach((m) => m.dispose());
  });

  // Not in mutation runs (vitest.mutation.config.ts): 50 updates; 'trains without leaking tensors' checks the same.
  it.skipIf(MUTATION_RUN)('leaks nothing over 50 training steps of the paper-shaped model (small sizes)', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const trainer = new Trainer(model, { optimizer: 'rmsprop' });
    const batch = smallBatch();
    const { afterFirst, afterLast } = tensorCountAfterSteps(() => trainer.trainStep(batch), 50);
    expect(afterLast).toBe(afterFirst);
    model.dispose();
    trainer.optimizer.dispose();
  });

  it('gives the same logits on cpu and wasm to 1e-4', async () => {
    const batch = smallBatch();
    const outputs: Float32Array[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await useBackend(backend);
      const model = new MemoryAugmentedNetwork(SMALL);
      const input = episodeTensors(batch);
      const logits = tf.tidy(() => model.forward(input.images, input.previousLabels));
      outputs.push(Float32Array.from(logits.dataSync()));
      tf.dispose([logits, input] as never);
      model.dispose();
    }
    await useBackend('cpu');
    expect(maxAbsDifference(outputs[0], outputs[1])).toBeLessThan(1e-4);
  });

  it('rejects inputs of the wrong width, naming the shapes', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const state = model.initialState(2);
    expect(() => model.step(tf.zeros([2, 35]) as tf.Tensor2D, tf.zeros([2, 3]) as tf.Tensor2D, state)).toThrow(
      'MemoryAugmentedNetwork.step: image has shape [2,35], expected [B, 36] (imageSize 6^2).',
    );
    tf.dispose(state as never);
    model.dispose();
    expect(() => model.initialState(1)).toThrow('MemoryAugmentedNetwork: this model was disposed.');
  });
});

describe('training', () => {
  // Not in mutation runs (vitest.mutation.config.ts): 40 updates each, a check that learning happens; the gradients
  // and updates they rely on are pinned by value in trainer.test.ts, optimizers.test.ts and fast_forward.test.ts.
  it.skipIf(MUTATION_RUN).each([
    ['one-hot labels', SMALL],
    ['string labels', { ...SMALL, labels: 'string' as const }],
    ['NTM addressing', { ...SMALL, addressing: 'ntm' as const }],
  ])('fits a fixed batch with %s (gradients reach every part)', (_, config) => {
    const model = new MemoryAugmentedNetwork(config);
    const trainer = new Trainer(model, { learningRate: 1e-2 });
    const batch = smallBatch(config);
    const before = trainer.evaluateBatch(batch).loss;
    for (let i = 0; i < 40; i++) trainer.trainStep(batch);
    const after = trainer.evaluateBatch(batch).loss;
    expect(after).toBeLessThan(0.6 * before);
    model.dispose();
    trainer.optimizer.dispose();
  });

  it.each(['adam', 'rmsprop'] as const)('changes the learning rate mid-run (%s): the next update is the one a trainer built with that rate makes', (optimizer) => {
    // Two trainers with the same weights and the same first update at lr 1e-3; then one switches to 3e-4 and the
    // other is a trainer whose rate was 3e-4 from the start but whose state is copied: their 2nd updates agree.
    const batch = smallBatch(SMALL);
    const switched = new Trainer(new MemoryAugmentedNetwork({ ...SMALL, seed: 5 }), { optimizer, learningRate: 1e-3 });
    const reference = new Trainer(new MemoryAugmentedNetwork({ ...SMALL, seed: 5 }), { optimizer, learningRate: 1e-3 });
    switched.trainStep(batch);
    reference.trainStep(batch);
    switched.setLearningRate(3e-4);
    expect(switched.learningRate).toBe(3e-4);
    expect(switched.trainingState().optimizer).toMatchObject({ learningRate: 3e-4 });
    const fresh = new Trainer(reference.model, { optimizer, learningRate: 3e-4 });
    fresh.optimizer.setState(reference.optimizer.state());
    const before = Array.from(switched.model.variables['output/kernel'].dataSync());
    switched.trainStep(batch);
    fresh.trainStep(batch);
    const after = Array.from(switched.model.variables['output/kernel'].dataSync());
    expect(maxAbsDifference(switched.model.variables['output/kernel'], fresh.model.variables['output/kernel'])).toBeLessThan(1e-7);
    // ... and the 2nd update did move the weights.
    const moved = Math.max(...after.map((x, i) => Math.abs(x - before[i])));
    expect(moved).toBeGreaterThan(1e-5);
    expect(() => switched.setLearningRate(0)).toThrow(/learningRate must be a positive number, got 0/);
    expect(() => switched.setLearningRate(NaN)).toThrow(/positive number, got NaN/);
    expect(switched.learningRate).toBe(3e-4);
    for (const t of [switched, reference, fresh]) t.optimizer.dispose();
    switched.model.dispose();
    reference.model.dispose();
  });

  it('stops with a clear error, without updating, when the loss is not finite', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const trainer = new Trainer(model);
    model.variables['output/bias'].assign(tf.fill([3], NaN));
    const kernel = Array.from(model.variables['output/kernel'].dataSync());
    expect(() => trainer.trainStep(smallBatch())).toThrow(
      /Training diverged at step 1: loss NaN, gradient norm NaN. The weights were not updated; resume from the last checkpoint with a lower learning rate/,
    );
    expect(Array.from(model.variables['output/kernel'].dataSync())).toEqual(kernel);
    expect(trainer.step).toBe(0);
    model.dispose();
    trainer.optimizer.dispose();
  });
});

describe('forward refuses inputs that do not fit the model', () => {
  it('throws on a wrong image or label width, or no steps or episodes, allocating nothing', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    type Shape = [number, number, number];
    const cases: [Shape, Shape, string | RegExp][] = [
      [[12, 4, 35], [12, 4, 3], 'MemoryAugmentedNetwork.forward: images [12,4,35] and previousLabels [12,4,3] must be [T, B, 36] and [T, B, 3] (imageSize 6^2 numbers per image, 3 per label).'],
      [[12, 4, 36], [12, 4, 5], /previousLabels \[12,4,5\] must be \[T, B, 36\] and \[T, B, 3\]/],
      [[0, 4, 36], [0, 4, 3], 'MemoryAugmentedNetwork.forward: images [0,4,36] hold no steps or no episodes; T and B must be at least 1.'],
      [[12, 0, 36], [12, 0, 3], /images \[12,0,36\] hold no steps or no episodes/],
    ];
    for (const [imageShape, labelShape, message] of cases) {
      const images = tf.zeros(imageShape) as tf.Tensor3D;
      const labels = tf.zeros(labelShape) as tf.Tensor3D;
      const before = tf.memory().numTensors;
      expect(() => model.forward(images, labels)).toThrow(message);
      expect(tf.memory().numTensors, `[${imageShape}]`).toBe(before);
      tf.dispose([images, labels]);
    }
    model.dispose();
  });
});
