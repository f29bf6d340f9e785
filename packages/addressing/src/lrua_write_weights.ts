import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShape, shapeString } from '@mann/memory';

/**
 * LRUA write weights (Santoro et al. 2016):
 * w^w_t = sigmoid(alpha) * w^r_{t-1} + (1 - sigmoid(alpha)) * w^lu_{t-1}.
 *
 * `gate` alpha [B, H] as logits (before the sigmoid), `previousReadWeights` w^r_{t-1} [B, H, N], `leastUsed`
 * w^lu_{t-1} [B, N] (shared by all heads) -> write weights [B, H, N]. A gate near +inf writes where the head
 * read last step (updating a memory); near -inf it writes to the least-used slots (a fresh memory).
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { lruaWriteWeights } from '@mann/addressing';
 * // sigmoid(0) = 0.5: half the previous read weights, half the least-used mask
 * lruaWriteWeights(tf.tensor2d([[0]]), tf.tensor3d([[[1, 0, 0]]]), tf.tensor2d([[0, 0, 1]])).print();
 * // [[[0.5, 0, 0.5]]]
 * ```
 */
export function lruaWriteWeights(gate: tf.Tensor2D, previousReadWeights: tf.Tensor3D, leastUsed: tf.Tensor2D): tf.Tensor3D {
  assertRank('lruaWriteWeights', 'gate', gate, 2, '[B, H]');
  assertRank('lruaWriteWeights', 'previousReadWeights', previousReadWeights, 3, '[B, H, N]');
  assertRank('lruaWriteWeights', 'leastUsed', leastUsed, 2, '[B, N]');
  const [batch, heads, slots] = previousReadWeights.shape;
  const against = `does not match previousReadWeights ${shapeString(previousReadWeights.shape)}`;
  assertShape('lruaWriteWeights', 'gate', gate, [batch, heads], against);
  assertShape('lruaWriteWeights', 'leastUsed', leastUsed, [batch, slots], against);
  return tf.tidy(() => {
    const g = tf.expandDims(tf.sigmoid(gate), 2); // [B, H, 1]
    const fromRead = tf.mul(g, previousReadWeights);
    const fromLeastUsed = tf.mul(tf.sub(1, g), tf.expandDims(leastUsed, 1)); // [B, H, 1] * [B, 1, N]
    return tf.add(fromRead, fromLeastUsed) as tf.Tensor3D;
  });
}
