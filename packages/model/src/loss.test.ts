import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { episodeLoss, predictChoices } from './loss';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('episodeLoss', () => {
  it('is log(C) for uniform logits', () => {
    const loss = episodeLoss(tf.zeros([2, 1, 3]) as tf.Tensor3D, tf.tensor3d([0, 2], [2, 1, 1], 'int32'));
    expect(loss.dataSync()[0]).toBeCloseTo(Math.log(3), 5);
  });

  it('averages the cross-entropy of each group', () => {
    // One step, one episode, two groups of two choices: logits [0, ln 3] and [ln 3, 0], targets [1, 1].
    // Group 1: p(1) = 3 / 4 -> -ln(3/4) = 0.28768; group 2: p(1) = 1 / 4 -> -ln(1/4) = 1.38629; mean 0.83698.
    const logits = tf.tensor3d([0, Math.log(3), Math.log(3), 0], [1, 1, 4]);
    const loss = episodeLoss(logits, tf.tensor3d([1, 1], [1, 1, 2], 'int32'), 2);
    expect(loss.dataSync()[0]).toBeCloseTo((-Math.log(0.75) - Math.log(0.25)) / 2, 5);
  });

  it('rejects targets of the wrong shape', () => {
    expect(() => episodeLoss(tf.zeros([2, 1, 3]) as tf.Tensor3D, tf.tensor3d([0], [1, 1, 1], 'int32'))).toThrow(
      'episodeLoss: targets [1,1,1] do not match logits [2,1,3]: expected [2, 1, 1].',
    );
    const logits = tf.zeros([2, 1, 4]) as tf.Tensor3D;
    const targets = (shape: number[]) => tf.zeros(shape, 'int32') as tf.Tensor as tf.Tensor3D;
    expect(() => episodeLoss(logits, targets([2, 2, 1]))).toThrow('episodeLoss: targets [2,2,1] do not match logits [2,1,4]: expected [2, 1, 1].');
    expect(() => episodeLoss(logits, targets([2, 1, 1]), 2)).toThrow('episodeLoss: targets [2,1,1] do not match logits [2,1,4]: expected [2, 1, 2].');
    expect(() => episodeLoss(logits, targets([2, 1, 1, 1]))).toThrow('episodeLoss: targets [2,1,1,1] do not match logits [2,1,4]: expected [2, 1, 1].');
  });

  it('rejects logits that do not split into the groups', () => {
    expect(() => episodeLoss(tf.zeros([1, 1, 5]) as tf.Tensor3D, tf.zeros([1, 1, 2], 'int32') as tf.Tensor3D, 2)).toThrow(
      'episodeLoss: 5 logits per step cannot be split into 2 equal groups.',
    );
  });
});

describe('predictChoices', () => {
  it('takes the argmax of each group', () => {
    const logits = tf.tensor3d([0.1, 0.9, 2, -1, 5, 1, 0, 0], [2, 1, 4]);
    expect(Array.from(predictChoices(logits, 2))).toEqual([1, 0, 0, 0]);
    // T = 2, B = 2, one group of 3: [T, B] row-major.
    const steps = tf.tensor3d([0, 0, 1, 2, 0, 0, 0, 3, 0, 0, 0, -1], [2, 2, 3]);
    expect(Array.from(predictChoices(steps))).toEqual([2, 0, 1, 0]);
  });
});
