import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { leastUsedMasks, leastUsedWeights } from './index';
import { expectClose } from './test_utils';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('leastUsedWeights', () => {
  it('marks slots 0..n-1 when every usage is 0 (the start of an episode)', () => {
    expectClose(leastUsedWeights(tf.zeros([2, 4]) as tf.Tensor2D, 2), [[1, 1, 0, 0], [1, 1, 0, 0]]);
  });

  it('marks the n smallest usages, ties to the lower index', () => {
    const usage = tf.tensor2d([
      [0.5, 0.1, 0.1, 0.9], // slots 1 and 2 tie at the minimum
      [0.3, 0.2, 0.3, 0.3], // slot 1 is smallest, then slots 0, 2, 3 tie
    ]);
    // n = 1: episode 0 takes slot 1 (tie with 2, lower index); episode 1 takes slot 1.
    expectClose(leastUsedWeights(usage, 1), [[0, 1, 0, 0], [0, 1, 0, 0]]);
    // n = 2: episode 0 takes both tied slots 1, 2; episode 1 takes slot 1, then slot 0 of the three tied.
    expectClose(leastUsedWeights(usage, 2), [[0, 1, 1, 0], [1, 1, 0, 0]]);
    // n = 3: episode 0 adds 0.5 (slot 0); episode 1 adds slot 2, the next of the tied.
    expectClose(leastUsedWeights(usage, 3), [[1, 1, 1, 0], [1, 1, 1, 0]]);
    // n = 4 = N: every slot.
    expectClose(leastUsedWeights(usage, 4), [[1, 1, 1, 1], [1, 1, 1, 1]]);
    // n = 0: none.
    expectClose(leastUsedWeights(usage, 0), [[0, 0, 0, 0], [0, 0, 0, 0]]);
  });

  it('marks exactly n slots for any usage', () => {
    const usage = tf.tensor2d([[3, -1, 2, 2, 0, 5, 2, -1]]);
    for (let n = 0; n <= 8; n++) {
      expect(tf.sum(leastUsedWeights(usage, n)).dataSync()[0]).toBe(n);
    }
    // n = 3: -1 (slot 1), -1 (slot 7), 0 (slot 4)
    expectClose(leastUsedWeights(usage, 3), [[0, 1, 0, 0, 1, 0, 0, 1]]);
  });

  it('has a zero gradient and does not break backpropagation', () => {
    // loss = sum(mask(u) * u): its gradient is mask(u) through the direct path plus 0 through the mask.
    const usage = tf.tensor2d([[0.5, 0.1, 0.2, 0.9]]);
    const gradient = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(leastUsedWeights(u as tf.Tensor2D, 2), u)))(usage);
    expectClose(gradient, [[0, 1, 1, 0]], 0);
  });

  it('refuses a negative or fractional count rather than return an empty mask', () => {
    const usage = tf.zeros([1, 4]) as tf.Tensor2D;
    expect(() => leastUsedWeights(usage, -1)).toThrow('leastUsedWeights: n must be a non-negative integer, got -1');
    expect(() => leastUsedWeights(usage, 0.5)).toThrow('leastUsedWeights: n must be a non-negative integer, got 0.5');
    expect(() => leastUsedWeights(usage, NaN)).toThrow('leastUsedWeights: n must be a non-negative integer, got NaN');
  });

  it('refuses more slots than there are', () => {
    expect(() => leastUsedWeights(tf.zeros([1, 4]) as tf.Tensor2D, 5)).toThrow(
      'leastUsedWeights: n = 5 is larger than the number of slots (4)',
    );
    expect(() => leastUsedWeights(tf.zeros([4]) as unknown as tf.Tensor2D, 1)).toThrow(
      'leastUsedWeights: usage must be a rank-2 tensor [B, N], got shape [4] (rank 1)',
    );
  });
});

describe('leastUsedMasks', () => {
  it('gives, from one ranking, the masks leastUsedWeights gives one at a time', () => {
    const usage = tf.tensor2d([
      [3, -1, 2, 2, 0, 5, 2, -1],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ]);
    const counts = [4, 1, 0, 8, 3];
    const masks = leastUsedMasks(usage, counts);
    expect(masks).toHaveLength(counts.length);
    counts.forEach((n, i) => expectClose(masks[i], leastUsedWeights(usage, n).arraySync() as number[][], 0));
    // By hand, episode 0 with n = 4: -1 (slot 1), -1 (slot 7), 0 (slot 4), then 2 (slot 2, first of three ties).
    expectClose(masks[0], [[0, 1, 1, 0, 1, 0, 0, 1], [1, 1, 1, 1, 0, 0, 0, 0]]);
    expect(leastUsedMasks(usage, [])).toEqual([]);
    // Only the masks outlive the call.
    const before = tf.memory().numTensors;
    tf.dispose(leastUsedMasks(usage, counts));
    tf.dispose(leastUsedWeights(usage, 2));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('has a zero gradient through every mask', () => {
    // loss = sum((2 mask_2 + mask_1) * u): gradient 2 mask_2 + mask_1 from the direct path, 0 through the masks.
    const usage = tf.tensor2d([[0.5, 0.1, 0.2, 0.9]]);
    const gradient = tf.grad((u: tf.Tensor) => {
      const [two, one] = leastUsedMasks(u as tf.Tensor2D, [2, 1]);
      return tf.sum(tf.mul(tf.add(tf.mul(two, 2), one), u));
    })(usage);
    expectClose(gradient, [[0, 3, 2, 0]], 0);
  });

  it('names the count it refuses', () => {
    expect(() => leastUsedMasks(tf.zeros([1, 4]) as tf.Tensor2D, [2, 5])).toThrow(
      'leastUsedMasks: n = 5 is larger than the number of slots (4)',
    );
    expect(() => leastUsedMasks(tf.zeros([1, 4]) as tf.Tensor2D, [1.5])).toThrow(
      'leastUsedMasks: n must be a non-negative integer, got 1.5',
    );
  });
});
