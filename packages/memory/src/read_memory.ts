import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShapeMatches } from './validate';

/**
 * Reads R vectors from memory: r_i = sum_j w_i(j) M(j), i.e. r = w M, batched.
 *
 * `memory` [B, N, W], `weights` [B, R, N] -> read vectors [B, R, W].
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { readMemory } from '@mann/memory';
 * const memory = tf.tensor3d([[[1, 2], [3, 4]]]);          // B=1, N=2, W=2
 * readMemory(memory, tf.tensor3d([[[0.5, 0.5]]])).print(); // [[[2, 3]]]
 * ```
 */
export function readMemory(memory: tf.Tensor3D, weights: tf.Tensor3D): tf.Tensor3D {
  assertRank('readMemory', 'memory', memory, 3, '[B, N, W]');
  assertRank('readMemory', 'weights', weights, 3, '[B, R, N]');
  const [batch, slots] = memory.shape;
  assertShapeMatches('readMemory', 'weights', weights, 'memory', memory, [batch, 'R', slots]);
  return tf.matMul(weights, memory);
}
