import * as tf from '@tensorflow/tfjs-core';
import { assertFiniteNumber, assertShape, formatShape } from './validate';

/**
 * One step of an LSTM cell with a fused kernel, as in TensorFlow's `BasicLSTMCell`:
 *
 * ```text
 * z   = [x, h] · kernel + bias                 [B, 4U], one matMul for the input and recurrent weights
 * i, f, g, o = split(z, 4)                     gate order: input, forget, candidate, output (each [B, U])
 * c_t = sigmoid(f + forgetBias) * c + sigmoid(i) * tanh(g)
 * h_t = sigmoid(o) * tanh(c_t)
 * ```
 *
 * `kernel` is [inputSize + U, 4U]: its first `inputSize` rows multiply the input, the last U rows the previous
 * `h`; its columns are the four gates in the order i, f, g, o (columns 0..U-1 are the input gate, and so on).
 * `forgetBias` is added to the forget gate's pre-activation at every step rather than stored in `bias`, so the
 * cell starts out remembering (sigmoid(1) = 0.73) even with zero-initialised biases, and the trained `bias`
 * stays comparable with TensorFlow checkpoints of `BasicLSTMCell`.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { lstmStep } from '@mann/controller';
 * const x = tf.ones([1, 2]), h = tf.zeros([1, 3]), c = tf.zeros([1, 3]);
 * const kernel = tf.fill([5, 12], 0.1), bias = tf.zeros([12]);
 * const next = lstmStep(x, h, c, kernel, bias, 1);
 * next.h.print(); // [[0.0594, 0.0594, 0.0594]]: every gate sees z = 1 * 0.1 + 1 * 0.1 = 0.2
 * ```
 *
 * Pure: returns new tensors and disposes nothing; call it inside `tf.tidy` (or `tf.grad`).
 */
export function lstmStep(
  input: tf.Tensor2D,
  h: tf.Tensor2D,
  c: tf.Tensor2D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  forgetBias: number,
): {
  /** The new hidden output h_t [B, U]. */
  h: tf.Tensor2D;
  /** The new cell c_t [B, U]. */
  c: tf.Tensor2D;
} {
  checkLstmStepArguments(input, h, c, kernel, bias, forgetBias);
  return tf.tidy(() => {
    const units = h.shape[1];
    const z = tf.add(tf.matMul(tf.concat([input, h], 1), kernel), bias);
    const [inputGate, forgetGate, candidate, outputGate] = tf.split(z, [units, units, units, units], 1);
    const nextC = tf.add(
      tf.mul(tf.sigmoid(tf.add(forgetGate, forgetBias)), c),
      tf.mul(tf.sigmoid(inputGate), tf.tanh(candidate)),
    ) as tf.Tensor2D;
    const nextH = tf.mul(tf.sigmoid(outputGate), tf.tanh(nextC)) as tf.Tensor2D;
    return { h: nextH, c: nextC };
  });
}

function checkLstmStepArguments(
  input: tf.Tensor2D,
  h: tf.Tensor2D,
  c: tf.Tensor2D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  forgetBias: number,
): void {
  const caller = 'lstmStep';
  if (input == null || input.rank !== 2) {
    throw new Error(`${caller}: input must be rank 2, [batch, inputSize], got shape ${input == null ? String(input) : formatShape(input.shape)}.`);
  }
  if (h == null || h.rank !== 2) {
    throw new Error(`${caller}: h must be rank 2, [batch, units], got shape ${h == null ? String(h) : formatShape(h.shape)}.`);
  }
  const [batch, inputSize] = input.shape;
  const units = h.shape[1];
  assertShape(h, [batch, units], `h (input has shape ${formatShape(input.shape)})`, caller);
  assertShape(c, [batch, units], `c (h has shape ${formatShape(h.shape)})`, caller);
  assertShape(kernel, [inputSize + units, 4 * units], `kernel (inputSize ${inputSize} + units ${units} rows, 4 * units columns)`, caller);
  assertShape(bias, [4 * units], `bias (4 * units ${units})`, caller);
  assertFiniteNumber(forgetBias, 'forgetBias', caller);
}
