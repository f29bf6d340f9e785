import * as tf from '@tensorflow/tfjs-core';
import { assertPositiveInteger } from './validate';

/**
 * Per-head weightings at the start of an episode (the previous read weights w^r_0, previous write weights):
 * zeros, [B, H, N].
 *
 * Zeros, like the PyTorch reference in shared/bench: with LRUA the first write then goes entirely to the
 * least-used slots, whatever the write gate says, since sigmoid(alpha) * w^r_0 = 0.
 *
 * ```js
 * import { initialWeights } from '@mann/memory';
 * initialWeights(16, 4, 128).shape; // [16, 4, 128]
 * ```
 */
export function initialWeights(batchSize: number, heads: number, slots: number): tf.Tensor3D {
  assertPositiveInteger('initialWeights', 'batchSize', batchSize);
  assertPositiveInteger('initialWeights', 'heads', heads);
  assertPositiveInteger('initialWeights', 'slots', slots);
  return tf.zeros([batchSize, heads, slots], 'float32') as tf.Tensor3D;
}
