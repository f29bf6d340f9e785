import type { EpisodeBatch } from './types';

/**
 * A hand-made batch for tests: B = 2 episodes of T = 4 steps (2 ways x 2 shots), time-major (cell t * 2 + b).
 * Episode 0 shows labels 0 0 1 1 (instances 1 2 1 2); episode 1 shows labels 1 0 0 1 (instances 1 1 2 2).
 * With `groups` > 1 every group's target is the label (a string label of repeated characters).
 */
export function tinyBatch(groups = 1): EpisodeBatch {
  const instances = Int32Array.from([1, 1, 2, 1, 1, 2, 2, 2]);
  const labels = Int32Array.from([0, 1, 0, 0, 1, 0, 1, 1]);
  const targets = new Int32Array(8 * groups);
  labels.forEach((label, cell) => targets.fill(label, cell * groups, (cell + 1) * groups));
  return {
    steps: 4, batchSize: 2, ways: 2, sampleSize: 1, groups, choices: 2,
    inputs: new Float32Array(8), previousLabels: new Float32Array(8 * 2 * groups),
    targets, labels, instances, classes: Int32Array.from([0, 1, 0, 1]),
  };
}

/**
 * A one-hot batch built from each episode's label sequence (one array per episode, all of length T), time-major
 * (cell t * B + b), with each step's instance counted from the sequence. `ways` (default 1 + the largest label)
 * sets the choices.
 */
export function batchOf(episodes: number[][], ways = 1 + Math.max(...episodes.flat())): EpisodeBatch {
  const batchSize = episodes.length;
  const steps = episodes[0].length;
  const labels = new Int32Array(steps * batchSize);
  const instances = new Int32Array(steps * batchSize);
  episodes.forEach((sequence, b) => {
    const seen = new Map<number, number>();
    sequence.forEach((label, t) => {
      seen.set(label, (seen.get(label) ?? 0) + 1);
      labels[t * batchSize + b] = label;
      instances[t * batchSize + b] = seen.get(label)!;
    });
  });
  return {
    steps, batchSize, ways, sampleSize: 1, groups: 1, choices: ways,
    inputs: new Float32Array(steps * batchSize), previousLabels: new Float32Array(steps * batchSize * ways),
    targets: Int32Array.from(labels), labels, instances, classes: new Int32Array(batchSize * ways),
  };
}

/**
 * Predictions for a `batchOf` batch: episode b's step t is answered with its label where `right[b][t]` is 1,
 * and with the next label (mod ways) where it is 0.
 */
export function answersFor(batch: EpisodeBatch, right: number[][]): Int32Array {
  const predictions = new Int32Array(batch.steps * batch.batchSize);
  right.forEach((sequence, b) => {
    sequence.forEach((isRight, t) => {
      const label = batch.labels[t * batch.batchSize + b];
      predictions[t * batch.batchSize + b] = isRight ? label : (label + 1) % batch.ways;
    });
  });
  return predictions;
}
