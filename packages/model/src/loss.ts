import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean softmax cross-entropy of an episode batch: logits [T, B, G * C] against target choices [T, B, G] (int32).
 * Each of the G groups is its own C-way softmax (G = 1 for one-hot labels, 5 for the paper's string labels); the
 * mean runs over steps, episodes and groups.
 *
 * ```js
 * const loss = episodeLoss(tf.zeros([2, 1, 3]), tf.tensor3d([[[0]], [[2]]], [2, 1, 1], 'int32'));
 * loss.print(); // log(3) = 1.0986
 * ```
 */
export function episodeLoss(logits: tf.Tensor3D, targets: tf.Tensor3D, groups = 1): tf.Scalar {
  const [steps, batchSize, outputs] = logits.shape;
  if (targets.rank !== 3 || targets.shape[0] !== steps || targets.shape[1] !== batchSize || targets.shape[2] !== groups) {
    throw new Error(`episodeLoss: targets [${targets.shape}] do not match logits [${logits.shape}]: expected [${steps}, ${batchSize}, ${groups}].`);
  }
  if (outputs % groups !== 0) {
    throw new Error(`episodeLoss: ${outputs} logits per step cannot be split into ${groups} equal groups.`);
  }
  const choices = outputs / groups;
  return tf.tidy(() => {
    const flatLogits = tf.reshape(logits, [-1, choices]);
    const flatTargets = tf.oneHot(tf.reshape(targets, [-1]) as tf.Tensor1D, choices);
    const logProbabilities = tf.logSoftmax(flatLogits);
    return tf.neg(tf.mean(tf.sum(tf.mul(flatTargets, logProbabilities), 1))) as tf.Scalar;
  });
}

/** The chosen index in each group: logits [T, B, G * C] -> Int32Array [T, B, G] (row-major). */
export function predictChoices(logits: tf.Tensor3D, groups = 1): Int32Array {
  const [steps, batchSize, outputs] = logits.shape;
  const choices = outputs / groups;
  const argmax = tf.tidy(() => tf.argMax(tf.reshape(logits, [steps * batchSize * groups, choices]), 1));
  const out = Int32Array.from(argmax.dataSync());
  argmax.dispose();
  return out;
}
