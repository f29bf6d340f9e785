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
