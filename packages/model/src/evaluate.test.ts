import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { syntheticPatterns } from '@mann/episodes';
import { evaluateModel, evaluateNearestNeighbour } from './evaluate';
import { MemoryAugmentedNetwork } from './model';
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

  it('rejects a number of episodes that is not a positive integer', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    expect(() => evaluateModel(model, { dataset, episodes: 0 })).toThrow('evaluate: episodes must be a positive integer, got 0.');
    // A batchSize of 0 used to loop forever.
    expect(() => evaluateModel(model, { dataset, episodes: 4, batchSize: 0 })).toThrow('evaluate: batchSize must be a positive integer, got 0.');
    expect(() => evaluateModel(model, { dataset, episodes: 4, shots: 0 })).toThrow('evaluate: shots must be a positive integer, got 0.');
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
