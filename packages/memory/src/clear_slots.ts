import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShapeMatches } from './validate';

/**
 * Zeroes whole memory slots: M * (1 - mask), row-wise. `mask` is 1 for a slot to clear and 0 for a slot to
 * keep (LRUA clears the least-used slots before writing). Values between 0 and 1 scale the slot down.
 *
 * `memory` [B, N, W], `mask` [B, N] -> new memory [B, N, W].
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { clearSlots } from '@mann/memory';
 * const memory = tf.tensor3d([[[1, 2], [3, 4]]]);
 * clearSlots(memory, tf.tensor2d([[0, 1]])).print(); // [[[1, 2], [0, 0]]]
 * ```
 */
export function clearSlots(memory: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
  assertRank('clearSlots', 'memory', memory, 3, '[B, N, W]');
  assertRank('clearSlots', 'mask', mask, 2, '[B, N]');
  const [batch, slots] = memory.shape;
  assertShapeMatches('clearSlots', 'mask', mask, 'memory', memory, [batch, slots]);
  return tf.tidy(() => tf.mul(memory, tf.expandDims(tf.sub(1, mask), 2)));
}
