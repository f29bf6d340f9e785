import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShapeMatches } from './validate';

/**
 * The LRUA usage update (Santoro et al. 2016):
 * w^u_t = decay * w^u_{t-1} + sum_r w^r_{r,t} + sum_h w^w_{h,t}.
 *
 * `usage` [B, N], `readWeights` [B, R, N], `writeWeights` [B, H, N] -> new usage [B, N]. `decay` (gamma) is a
 * number in [0, 1]; the paper's peers use 0.95.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { updateUsage } from '@mann/memory';
 * const usage = tf.tensor2d([[1, 0]]);
 * updateUsage(usage, 0.5, tf.tensor3d([[[0, 1]]]), tf.tensor3d([[[1, 0]]])).print(); // [[1.5, 1]]
 * ```
 */
export function updateUsage(usage: tf.Tensor2D, decay: number, readWeights: tf.Tensor3D, writeWeights: tf.Tensor3D): tf.Tensor2D {
  assertRank('updateUsage', 'usage', usage, 2, '[B, N]');
  assertRank('updateUsage', 'readWeights', readWeights, 3, '[B, R, N]');
  assertRank('updateUsage', 'writeWeights', writeWeights, 3, '[B, H, N]');
  if (typeof decay !== 'number' || !(decay >= 0 && decay <= 1)) {
    throw new Error(`updateUsage: decay must be a number in [0, 1], got ${String(decay)}`);
  }
  const [batch, slots] = usage.shape;
  assertShapeMatches('updateUsage', 'readWeights', readWeights, 'usage', usage, [batch, 'R', slots]);
  assertShapeMatches('updateUsage', 'writeWeights', writeWeights, 'usage', usage, [batch, 'H', slots]);
  return tf.tidy(() => tf.addN([tf.mul(usage, decay), tf.sum(readWeights, 1), tf.sum(writeWeights, 1)]) as tf.Tensor2D);
}
