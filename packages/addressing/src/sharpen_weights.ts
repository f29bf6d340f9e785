import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShape, shapeString } from '@mann/memory';

/**
 * NTM sharpening (Graves et al. 2014): w(i) = w~(i)^gamma / sum_j w~(j)^gamma, gamma >= 1.
 *
 * `weights` [B, H, N] (non-negative), `gamma` [B, H] -> [B, H, N], each row summing to 1.
 *
 * Computed as softmax(gamma * log(w~ + epsilon)), which is (w~ + epsilon)^gamma / sum (w~ + epsilon)^gamma:
 * the same value as the formula, but the power of a small weight cannot underflow to a row of zeros (with
 * N = 128 uniform weights and gamma = 20, (1/128)^20 ~ 1e-42 is below float32's range) and a zero weight has
 * a finite logarithm and gradient.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { sharpenWeights } from '@mann/addressing';
 * // [0.5, 0.25, 0.25]^2 = [0.25, 0.0625, 0.0625], / 0.375 = [2/3, 1/6, 1/6]
 * sharpenWeights(tf.tensor3d([[[0.5, 0.25, 0.25]]]), tf.tensor2d([[2]])).print();
 * ```
 */
export function sharpenWeights(weights: tf.Tensor3D, gamma: tf.Tensor2D, epsilon = 1e-8): tf.Tensor3D {
  assertRank('sharpenWeights', 'weights', weights, 3, '[B, H, N]');
  assertRank('sharpenWeights', 'gamma', gamma, 2, '[B, H]');
  assertShape('sharpenWeights', 'gamma', gamma, weights.shape.slice(0, 2), `does not match weights ${shapeString(weights.shape)}`);
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) {
    throw new Error(`sharpenWeights: epsilon must be a positive number, got ${String(epsilon)}`);
  }
  return tf.tidy(() => tf.softmax(tf.mul(tf.expandDims(gamma, 2), tf.log(tf.add(weights, epsilon)))) as tf.Tensor3D);
}
