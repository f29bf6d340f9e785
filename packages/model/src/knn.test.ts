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
    expect(() => nearestNeighbourPredictions(batch, 2.5)).toThrow('nearestNeighbourPredictions: k must be a positive integer, got 2.5.');
  });

  // One episode of 1-pixel samples 4, 7, 8, 5, 6 with labels 0, 1, 1, 0, 1. Squared distances to the earlier
  // samples, nearest first (equal distances: the later sample first):
  //   t1 (7): t0 9 (label 0)
  //   t2 (8): t1 1 (1), t0 16 (0)
  //   t3 (5): t0 1 (0), t1 4 (1), t2 9 (1)
  //   t4 (6): t3 1 (0), t1 1 (1), t2 4 (1), t0 4 (0)
  const votes: EpisodeBatch = {
    ...batch,
    steps: 5,
    sampleSize: 1,
    inputs: Float32Array.from([4, 7, 8, 5, 6]),
    previousLabels: new Float32Array(10),
    targets: Int32Array.from([0, 1, 1, 0, 1]),
    labels: Int32Array.from([0, 1, 1, 0, 1]),
    instances: Int32Array.from([1, 1, 2, 2, 3]),
  };

  it('k = 1: the nearest, and of two at the same distance the later one', () => {
    // t4: t3 and t1 are both at distance 1; t3 is the later, label 0.
    expect(Array.from(nearestNeighbourPredictions(votes, 1))).toEqual([0, 0, 1, 0, 0]);
  });

  it('k = 3: the majority of the three nearest (of those there are)', () => {
    // t1: one neighbour, 0. t2: two, 1 and 0, a tie: the nearest's 1. t3: 0, 1, 1 -> 1. t4: 0, 1, 1 -> 1.
    expect(Array.from(nearestNeighbourPredictions(votes, 3))).toEqual([0, 0, 1, 1, 1]);
  });

  it('k = 2 and k = 4: a tie goes to the nearest neighbour', () => {
    // k = 2: t3 has 0 and 1 (nearest 0), t4 0 and 1 (nearest 0). k = 4: t3 still 0, 1, 1 -> 1; t4 two each -> 0.
    expect(Array.from(nearestNeighbourPredictions(votes, 2))).toEqual([0, 0, 1, 0, 0]);
    expect(Array.from(nearestNeighbourPredictions(votes, 4))).toEqual([0, 0, 1, 1, 0]);
  });

  it('keeps episodes apart and votes on whole string labels, [T, B, G] like the model', () => {
    // T = 3, B = 2 episodes, 2 pixels, G = 2 groups of 3 choices. Episode 0: (0,0) [0,1], (5,5) [2,2], (4,5) [1,0];
    // episode 1: (9,9) [1,2], (0,1) [2,0], (8,9) [0,0]. Each step's nearest earlier sample of its own episode:
    // e0 t1 -> t0 [0,1], e0 t2 -> t1 [2,2] (distance 1 vs 41); e1 t1 -> t0 [1,2], e1 t2 -> t0 [1,2] (1 vs 128).
    const strings: EpisodeBatch = {
      steps: 3,
      batchSize: 2,
      ways: 2,
      sampleSize: 2,
      groups: 2,
      choices: 3,
      inputs: Float32Array.from([0, 0, 9, 9, 5, 5, 0, 1, 4, 5, 8, 9]),
      previousLabels: new Float32Array(36),
      targets: Int32Array.from([0, 1, 1, 2, 2, 2, 2, 0, 1, 0, 0, 0]),
      labels: Int32Array.from([0, 0, 1, 1, 2, 0]),
      instances: Int32Array.from([1, 1, 1, 1, 1, 2]),
      classes: Int32Array.from([0, 1, 2, 3]),
    };
    expect(Array.from(nearestNeighbourPredictions(strings))).toEqual([0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 1, 2]);
    // k = 3: at t2 each episode has two neighbours with one vote each; the nearest's label wins, as at k = 1.
    expect(Array.from(nearestNeighbourPredictions(strings, 3))).toEqual([0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 1, 2]);
  });
});
