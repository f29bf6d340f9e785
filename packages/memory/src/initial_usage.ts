import * as tf from '@tensorflow/tfjs-core';
import { assertPositiveInteger } from './validate';

/**
 * The usage weights w^u_0 at the start of an episode: zeros, [B, N].
 *
 * Starting at zero (as the PyTorch reference in shared/bench does) means every slot is equally unused, so the
 * first least-used slots are the lowest-indexed ones (ties go to the lower index).
 *
 * ```js
 * import { initialUsage } from '@mann/memory';
 * initialUsage(2, 4).arraySync(); // [[0, 0, 0, 0], [0, 0, 0, 0]]
 * ```
 */
export function initialUsage(batchSize: number, slots: number): tf.Tensor2D {
  assertPositiveInteger('initialUsage', 'batchSize', batchSize);
  assertPositiveInteger('initialUsage', 'slots', slots);
  return tf.zeros([batchSize, slots], 'float32') as tf.Tensor2D;
}
