import { describe, expect, it } from 'vitest';
import type { EpisodeBatch } from '@mann/episodes';
import { nearestNeighbourPredictions } from './knn';

// One episode, four steps of 2-pixel samples, one-hot labels over 2 classes.
const batch: EpisodeBatch = {
  steps: 4,
  batchSize: 1,
  ways: 2,
  sampleSize: 2,
  groups: 1,
  choices: 2,
  inputs: Float32Array.from([0, 0, 10, 10, 1, 0, 9, 10]),
  previousLabels: new Float32Array(8),
  targets: Int32Array.from([0, 1, 0, 1]),
  labels: Int32Array.from([0, 1, 0, 1]),
  instances: Int32Array.from([1, 1, 2, 2]),
  classes: Int32Array.from([0, 1]),
};

describe('nearestNeighbourPredictions', () => {
  it('predicts the label of the closest earlier sample', () => {
    // t0: nothing seen -> 0. t1: (10,10) vs (0,0) -> label 0. t2: (1,0) is nearest (0,0) -> 0.
    // t3: (9,10) is nearest (10,10) -> 1.
    expect(Array.from(nearestNeighbourPredictions(batch))).toEqual([0, 0, 0, 1]);
  });

  it('rejects a k that is not a positive integer', () => {
    expect(() => nearestNeighbourPredictions(batch, 0)).toThrow('nearestNeighbourPredictions: k must be a positive integer, got 0.');
  });
});
