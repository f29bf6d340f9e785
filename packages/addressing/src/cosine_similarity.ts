import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShapeMatches } from '@mann/memory';

/**
 * Cosine similarity K(k, m) = k . m / (||k|| ||m||) between every key and every memory slot.
 *
 * `keys` [B, H, W], `memory` [B, N, W] -> [B, H, N].
 *
 * The norms are guarded: ||x|| is computed as sqrt(sum x^2 + epsilon^2), which is the true norm for any vector
 * much longer than `epsilon` (the 1e-6-filled initial memory, of norm ~6e-6 at W = 40, included) and `epsilon`
 * for the zero vector. So a zero key or a cleared (all-zero) slot has similarity 0 with everything, and the
 * gradient stays finite (plain sqrt has an infinite derivative at 0).
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { cosineSimilarity } from '@mann/addressing';
 * const keys = tf.tensor3d([[[1, 0]]]);
 * const memory = tf.tensor3d([[[2, 0], [1, 1], [0, 0]]]);
 * cosineSimilarity(keys, memory).print(); // [[[1, 0.7071, 0]]]
 * ```
 */
export function cosineSimilarity(keys: tf.Tensor3D, memory: tf.Tensor3D, epsilon = 1e-8): tf.Tensor3D {
  assertRank('cosineSimilarity', 'keys', keys, 3, '[B, H, W]');
  assertRank('cosineSimilarity', 'memory', memory, 3, '[B, N, W]');
  const [batch, , width] = memory.shape;
  assertShapeMatches('cosineSimilarity', 'keys', keys, 'memory', memory, [batch, 'H', width]);
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) {
    throw new Error(`cosineSimilarity: epsilon must be a positive number, got ${String(epsilon)}`);
  }
  return tf.tidy(() => {
    const epsilonSquared = epsilon * epsilon;
    const dot = tf.matMul(keys, memory, false, true); // [B, H, N]
    const keyNorm = tf.sqrt(tf.add(tf.sum(tf.square(keys), 2, true), epsilonSquared)); // [B, H, 1]
    const memoryNorm = tf.sqrt(tf.add(tf.sum(tf.square(memory), 2), epsilonSquared)); // [B, N]
    return tf.div(dot, tf.mul(keyNorm, tf.expandDims(memoryNorm, 1))) as tf.Tensor3D;
  });
}
