import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShape, shapeString } from '@mann/memory';

/**
 * NTM location shift (Graves et al. 2014): the circular convolution
 * w~(i) = sum_k s(k) w((i - o_k) mod N), where shift entry k stands for the offset o_k = k - (S - 1) / 2.
 * With S = 3 the offsets are -1, 0, +1: shift [0, 0, 1] moves every weight one slot up (slot j to j + 1, the
 * last slot to slot 0), [0, 1, 0] leaves the weights as they are.
 *
 * `weights` [B, H, N], `shift` [B, H, S] (S odd, at most N; rows usually a softmax) -> [B, H, N].
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { shiftWeights } from '@mann/addressing';
 * shiftWeights(tf.tensor3d([[[1, 0, 0, 0]]]), tf.tensor3d([[[0, 0, 1]]])).print(); // [[[0, 1, 0, 0]]]
 * ```
 *
 * Built from slices and concat, not gather: the wasm backend has no gradient for gather.
 */
export function shiftWeights(weights: tf.Tensor3D, shift: tf.Tensor3D): tf.Tensor3D {
  assertRank('shiftWeights', 'weights', weights, 3, '[B, H, N]');
  assertRank('shiftWeights', 'shift', shift, 3, '[B, H, S]');
  const [batch, heads, slots] = weights.shape;
  const size = shift.shape[2];
  assertShape('shiftWeights', 'shift', shift, [batch, heads, size], `does not match weights ${shapeString(weights.shape)}`);
  if (size % 2 !== 1) {
    throw new Error(`shiftWeights: shift ${shapeString(shift.shape)} must have an odd size S (offsets -(S-1)/2..(S-1)/2), got S = ${size}`);
  }
  if (size > slots) {
    throw new Error(`shiftWeights: shift ${shapeString(shift.shape)} has more offsets (${size}) than weights ${shapeString(weights.shape)} have slots (${slots})`);
  }
  return tf.tidy(() => {
    const half = (size - 1) / 2;
    const terms: tf.Tensor[] = [];
    for (let k = 0; k < size; k++) {
      const rolled = roll(weights, k - half, slots);
      terms.push(tf.mul(tf.slice(shift, [0, 0, k], [batch, heads, 1]), rolled));
    }
    return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Tensor3D;
  });
}

/** rolled(i) = w((i - offset) mod N) along the last axis: the last `offset` slots move to the front. */
function roll(weights: tf.Tensor3D, offset: number, slots: number): tf.Tensor3D {
  const cut = (((offset % slots) + slots) % slots);
  // Stryker disable next-line ConditionalExpression: a shortcut only; with cut = 0 the slices below give the weights unchanged (an empty tail, then all of them)
  if (cut === 0) return weights;
  const [batch, heads] = weights.shape;
  const tail = tf.slice(weights, [0, 0, slots - cut]); // the last `cut` slots (no size: to the end)
  const head = tf.slice(weights, 0, [batch, heads, slots - cut]); // the first slots - cut (begin 0: on every axis)
  return tf.concat([tail, head], 2);
}
