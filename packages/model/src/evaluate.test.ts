import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useBackend } from '@mann/backend';
import { InstanceAccuracy, createRandom, sampleEpisodes, syntheticPatterns } from '@mann/episodes';
import { evaluateModel, evaluateNearestNeighbour, labelEncodingFor } from './evaluate';
import { nearestNeighbourPredictions } from './knn';
import { MemoryAugmentedNetwork } from './model';
import { Trainer } from './trainer';
import { SMALL } from './test_helpers';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('evaluateModel', () => {
  const dataset = syntheticPatterns({ classes: 12, samplesPerClass: 6, sampleShape: [6, 6], noise: 0.05, seed: 2 });

  it('gives the same table on the fast and the plain path, and for the same seed the same episodes', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const options = { dataset, episodes: 10, shots: 4, batchSize: 4, seed: 5 };
    const fast = evaluateModel(model, options);
    const plain = evaluateModel(model, { ...options, fastPath: false });
    expect(fast.accuracy.summary([1, 2, 3, 4])).toEqual(plain.accuracy.summary([1, 2, 3, 4]));
    expect(Math.abs(fast.loss - plain.loss)).toBeLessThan(1e-5);
    expect(fast.accuracy.episodes).toBe(10);
    const before = tf.memory().numTensors;
    evaluateModel(model, options);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('scores the kNN baseline on the same protocol', () => {
    const knn = evaluateNearestNeighbour({ labels: 'one-hot', ways: 3 }, { dataset, episodes: 8, shots: 4, seed: 5 });
    const rows = knn.accuracy.summary([1, 2]);
    // Distinct noisy patterns: the nearest earlier drawing is almost always of the same class once one was seen.
    expect(rows[1].accuracy).toBeGreaterThan(0.9);
    expect(rows[0].accuracy).toBeLessThan(0.5);
  });

  it('draws batches of batchSize episodes (the last one smaller) from the seed, and averages the batches’ losses', () => {
    const model = new MemoryAugmentedNetwork({ ...SMALL, controllerUnits: 4, memorySlots: 4, memoryWidth: 2, heads: 1 });
    const progress: [number, number][] = [];
    const result = evaluateModel(model, { dataset, episodes: 6, shots: 2, batchSize: 4, seed: 9, onProgress: (done, total) => progress.push([done, total]) });
    expect(progress).toEqual([[4, 6], [6, 6]]);
    // The same episodes by hand: batches of 4 and 2 from createRandom(9), each scored by Trainer.evaluateBatch.
    const labels = labelEncodingFor(model.config);
    const random = createRandom(9);
    const trainer = new Trainer(model);
    const accuracy = new InstanceAccuracy();
    const losses = [4, 2].map((batchSize) => {
      const batch = sampleEpisodes(dataset, { ways: 3, shots: 2, batchSize, labels, random });
      const { loss, predictions } = trainer.evaluateBatch(batch);
      accuracy.add(batch, predictions);
      return loss;
    });
    // The mean over batches, not over episodes: (loss of 4 + loss of 2) / 2.
    expect(result.loss).toBeCloseTo((losses[0] + losses[1]) / 2, 6);
    expect(result.accuracy.summary([1, 2, 3])).toEqual(accuracy.summary([1, 2, 3]));
    expect(result.accuracy.episodes).toBe(6);
    trainer.dispose();
    model.dispose();
  });

  it('runs the fast path unless told otherwise, and model.forward with fastPath: false', () => {
    const model = new MemoryAugmentedNetwork({ ...SMALL, controllerUnits: 4, memorySlots: 4, memoryWidth: 2, heads: 1 });
    const forward = vi.spyOn(model, 'forward');
    evaluateModel(model, { dataset, episodes: 2, shots: 2 });
    expect(forward).not.toHaveBeenCalled();
    evaluateModel(model, { dataset, episodes: 2, shots: 2, fastPath: false });
    expect(forward).toHaveBeenCalledTimes(1);
    forward.mockRestore();
    model.dispose();
  });

  it('evaluates 10 shots, 16 episodes a batch and seed 0 unless told otherwise', () => {
    const config = { labels: 'one-hot', ways: 3 } as const;
    const progress: number[] = [];
    const ten = syntheticPatterns({ classes: 6, samplesPerClass: 10, sampleShape: [2, 2], noise: 0.05, seed: 2 });
    const knn = evaluateNearestNeighbour(config, { dataset: ten, episodes: 20, onProgress: (done) => progress.push(done) });
    expect(progress).toEqual([16, 20]);
    expect(knn.accuracy.summary([10, 11]).map((row) => row.episodes)).toEqual([20, 0]);
    const seeded = evaluateNearestNeighbour(config, { dataset: ten, episodes: 20, seed: 0, shots: 10, batchSize: 16 });
    expect(seeded.accuracy.summary()).toEqual(knn.accuracy.summary());
    expect(knn.loss).toBeNaN();
    expect(knn.errors).toBeDefined();
  });

  it('scores the kNN baseline with the k it is given', () => {
    const config = { labels: 'one-hot', ways: 3 } as const;
    const options = { dataset, episodes: 4, shots: 3, batchSize: 4, seed: 2 };
    const byHand = (k: number) => {
      const batch = sampleEpisodes(dataset, { ways: 3, shots: 3, batchSize: 4, labels: labelEncodingFor(config), random: createRandom(2) });
      return new InstanceAccuracy().add(batch, nearestNeighbourPredictions(batch, k)).summary([1, 2, 3]);
    };
    expect(byHand(1)).not.toEqual(byHand(5)); // k matters on these episodes
    expect(evaluateNearestNeighbour(config, options).accuracy.summary([1, 2, 3])).toEqual(byHand(1));
    expect(evaluateNearestNeighbour(config, { ...options, k: 5 }).accuracy.summary([1, 2, 3])).toEqual(byHand(5));
  });

  it('labelEncodingFor: one-hot over the ways, or five characters of five', () => {
    expect(labelEncodingFor({ labels: 'one-hot', ways: 4 })).toMatchObject({ name: 'one-hot', groups: 1, choices: 4 });
    expect(labelEncodingFor({ labels: 'string', ways: 4 })).toMatchObject({ name: 'string', groups: 5, choices: 5 });
  });

  it('rejects a number of episodes that is not a positive integer', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    expect(() => evaluateModel(model, { dataset, episodes: 0 })).toThrow('evaluate: episodes must be a positive integer, got 0.');
    // A batchSize of 0 used to loop forever.
    expect(() => evaluateModel(model, { dataset, episodes: 4, batchSize: 0 })).toThrow('evaluate: batchSize must be a positive integer, got 0.');
    expect(() => evaluateModel(model, { dataset, episodes: 4, shots: 0 })).toThrow('evaluate: shots must be a positive integer, got 0.');
    expect(() => evaluateModel(model, { dataset, episodes: 1.5 })).toThrow('evaluate: episodes must be a positive integer, got 1.5.');
    expect(() => evaluateModel(model, { dataset, episodes: 4, batchSize: 2.5 })).toThrow('evaluate: batchSize must be a positive integer, got 2.5.');
    expect(() => evaluateModel(model, { dataset, episodes: 4, shots: 1.5 })).toThrow('evaluate: shots must be a positive integer, got 1.5.');
    expect(() => evaluateNearestNeighbour(model.config, { dataset, episodes: -1 })).toThrow('evaluate: episodes must be a positive integer, got -1.');
    model.dispose();
  });

  it('names images of another size than the model takes, leaving no tensors behind', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const larger = syntheticPatterns({ classes: 12, samplesPerClass: 6, sampleShape: [7, 7], noise: 0.05, seed: 2 });
    const before = tf.memory().numTensors;
    expect(() => evaluateModel(model, { dataset: larger, episodes: 4, shots: 2 })).toThrow(
      "evaluateModel: the batch's samples have 49 numbers (sampleSize) but the model takes 36 (imageSize 6^2); resize the images to 6x6 or build the model with their imageSize.",
    );
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
