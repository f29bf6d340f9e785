import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShapeMatches, shapeString } from './validate';

/**
 * The erase half of an NTM write (Graves et al. 2014): M * prod_h (1 - w_h e_h^T), i.e.
 * M(j, k) *= prod_h (1 - w_h(j) e_h(k)). With erase values in [0, 1] (a sigmoid) each cell shrinks towards 0.
 *
 * `memory` [B, N, W], `weights` [B, H, N], `erase` [B, H, W] -> new memory [B, N, W].
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { eraseMemory } from '@mann/memory';
 * const memory = tf.ones([1, 2, 2]);
 * eraseMemory(memory, tf.tensor3d([[[1, 0]]]), tf.tensor3d([[[1, 0.5]]])).print(); // [[[0, 0.5], [1, 1]]]
 * ```
 */
export function eraseMemory(memory: tf.Tensor3D, weights: tf.Tensor3D, erase: tf.Tensor3D): tf.Tensor3D {
  assertRank('eraseMemory', 'memory', memory, 3, '[B, N, W]');
  assertRank('eraseMemory', 'weights', weights, 3, '[B, H, N]');
  assertRank('eraseMemory', 'erase', erase, 3, '[B, H, W]');
  const [batch, slots, width] = memory.shape;
  assertShapeMatches('eraseMemory', 'weights', weights, 'memory', memory, [batch, 'H', slots]);
  const heads = weights.shape[1];
  if (erase.shape[0] !== batch || erase.shape[1] !== heads || erase.shape[2] !== width) {
    throw new Error(
      `eraseMemory: erase ${shapeString(erase.shape)} does not match weights ${shapeString(weights.shape)} ` +
        `and memory ${shapeString(memory.shape)}: expected [${batch},${heads},${width}]`,
    );
  }
  return tf.tidy(() => {
    // One head at a time rather than tf.prod over a [B, H, N, W] tensor: H is small, the products are plain
    // multiplications with well-defined gradients on every backend, and no 4-D intermediate is kept.
    let result: tf.Tensor3D = memory;
    for (let h = 0; h < heads; h++) {
      const w = tf.reshape(tf.slice(weights, [0, h, 0], [batch, 1, slots]), [batch, slots, 1]);
      const e = tf.slice(erase, [0, h, 0], [batch, 1, width]); // [B, 1, W]
      result = tf.mul(result, tf.sub(1, tf.mul(w, e))) as tf.Tensor3D; // [B, N, 1] * [B, 1, W]
    }
    return result;
  });
}
