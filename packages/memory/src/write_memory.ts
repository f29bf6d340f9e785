import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShapeMatches, shapeString } from './validate';

/**
 * Adds vectors to memory: M + sum_h w_h^T v_h, i.e. M(j) += sum_h w_h(j) v_h, in one batched matMul.
 *
 * `memory` [B, N, W], `weights` [B, H, N], `values` [B, H, W] -> new memory [B, N, W].
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { writeMemory } from '@mann/memory';
 * const memory = tf.zeros([1, 2, 2]);
 * writeMemory(memory, tf.tensor3d([[[1, 0]]]), tf.tensor3d([[[5, 6]]])).print(); // [[[5, 6], [0, 0]]]
 * ```
 */
export function writeMemory(memory: tf.Tensor3D, weights: tf.Tensor3D, values: tf.Tensor3D): tf.Tensor3D {
  assertRank('writeMemory', 'memory', memory, 3, '[B, N, W]');
  assertRank('writeMemory', 'weights', weights, 3, '[B, H, N]');
  assertRank('writeMemory', 'values', values, 3, '[B, H, W]');
  const [batch, slots, width] = memory.shape;
  assertShapeMatches('writeMemory', 'weights', weights, 'memory', memory, [batch, 'H', slots]);
  const heads = weights.shape[1];
  if (values.shape[0] !== batch || values.shape[1] !== heads || values.shape[2] !== width) {
    throw new Error(
      `writeMemory: values ${shapeString(values.shape)} do not match weights ${shapeString(weights.shape)} ` +
        `and memory ${shapeString(memory.shape)}: expected [${batch},${heads},${width}]`,
    );
  }
  // [B, N, H] x [B, H, W] = [B, N, W]: the sum over heads is the inner dimension of the product.
  return tf.tidy(() => tf.add(memory, tf.matMul(weights, values, true, false)));
}
