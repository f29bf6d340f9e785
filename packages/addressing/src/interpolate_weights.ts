import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShape, shapeString } from '@mann/memory';

/**
 * NTM interpolation (Graves et al. 2014): w^g = g * w^c + (1 - g) * w_{t-1}.
 *
 * `content` w^c [B, H, N], `previous` w_{t-1} [B, H, N], `gate` g [B, H] in [0, 1] (already squashed, e.g. a
 * sigmoid; unlike `lruaWriteWeights`, which takes logits) -> [B, H, N]. g = 1 uses the content weighting
 * alone, g = 0 keeps the previous weighting.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { interpolateWeights } from '@mann/addressing';
 * interpolateWeights(tf.tensor3d([[[1, 0]]]), tf.tensor3d([[[0, 1]]]), tf.tensor2d([[0.25]])).print();
 * // [[[0.25, 0.75]]]
 * ```
 */
export function interpolateWeights(content: tf.Tensor3D, previous: tf.Tensor3D, gate: tf.Tensor2D): tf.Tensor3D {
  assertRank('interpolateWeights', 'content', content, 3, '[B, H, N]');
  assertRank('interpolateWeights', 'previous', previous, 3, '[B, H, N]');
  assertRank('interpolateWeights', 'gate', gate, 2, '[B, H]');
  const against = `does not match content ${shapeString(content.shape)}`;
  assertShape('interpolateWeights', 'previous', previous, content.shape, against);
  assertShape('interpolateWeights', 'gate', gate, content.shape.slice(0, 2), against);
  return tf.tidy(() => {
    const g = tf.expandDims(gate, 2);
    return tf.add(tf.mul(g, content), tf.mul(tf.sub(1, g), previous)) as tf.Tensor3D;
  });
}
