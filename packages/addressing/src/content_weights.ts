import * as tf from '@tensorflow/tfjs-core';
import { cosineSimilarity } from './cosine_similarity';
import { assertRank, assertShape, shapeString } from '@mann/memory';

/**
 * Content-based addressing: w(j) = softmax_j( beta * K(k, M(j)) ), K the cosine similarity.
 *
 * `keys` [B, H, W], `memory` [B, N, W], optional `strength` beta [B, H] (non-negative; LRUA uses none, i.e.
 * beta = 1; NTM uses softplus of a controller output) -> weights [B, H, N], each row summing to 1.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { contentWeights } from '@mann/addressing';
 * const keys = tf.tensor3d([[[1, 0]]]);
 * const memory = tf.tensor3d([[[1, 0], [0, 1]]]);
 * contentWeights(keys, memory).print(); // softmax([1, 0]) = [[[0.7311, 0.2689]]]
 * ```
 */
export function contentWeights(keys: tf.Tensor3D, memory: tf.Tensor3D, strength?: tf.Tensor2D): tf.Tensor3D {
  assertRank('contentWeights', 'keys', keys, 3, '[B, H, W]');
  if (strength !== undefined) {
    assertRank('contentWeights', 'strength', strength, 2, '[B, H]');
    assertShape('contentWeights', 'strength', strength, keys.shape.slice(0, 2), `does not match keys ${shapeString(keys.shape)}`);
  }
  return tf.tidy(() => {
    const similarity = cosineSimilarity(keys, memory);
    const logits = strength === undefined ? similarity : tf.mul(similarity, tf.expandDims(strength, 2));
    return tf.softmax(logits) as tf.Tensor3D;
  });
}
