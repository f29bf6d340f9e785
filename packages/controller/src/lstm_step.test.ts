import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { checkGradients, maxAbsDifference, randomTensor } from '@mann/backend/testing';
import { lstmStep } from './lstm_step';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('lstmStep', () => {
  it('computes the gates i, f, g, o in that order from the fused kernel', () => {
    // inputSize 2, units 2: concat([x, h]) = [x0, x1, h0, h1] = [1, 2, 0.5, -1], c = [1, -2].
    // Kernel columns are [i0, i1, f0, f1, g0, g1, o0, o1]; all entries zero except:
    //   x0 -> i0: 1      so i0 = 1 * 1 + bias(-1)        = 0
    //   h1 -> i1: -1     so i1 = -1 * -1 + bias(0)       = 1
    //                       f0 = bias(0) + forgetBias 1  = 1,  f1 = bias(-1) + 1 = 0
    //   x1 -> g0: 0.25   so g0 = 0.25 * 2                = 0.5
    //   h0 -> g1: -1     so g1 = -1 * 0.5                = -0.5
    //                       o0 = bias(2) = 2,           o1 = 0
    // sigmoid(0) = 0.5, sigmoid(1) = 0.7310586, sigmoid(2) = 0.8807971, tanh(0.5) = 0.4621172
    // c0 = 0.7310586 * 1  + 0.5 * 0.4621172          = 0.9621172
    // c1 = 0.5 * -2       + 0.7310586 * -0.4621172   = -1.3378347
    // h0 = 0.8807971 * tanh(0.9621172) = 0.8807971 * 0.7452197 = 0.6563874
    // h1 = 0.5 * tanh(-1.3378347)      = 0.5 * -0.8711512      = -0.4355756
    const kernel = tf.buffer([4, 8], 'float32');
    kernel.set(1, 0, 0);
    kernel.set(-1, 3, 1);
    kernel.set(0.25, 1, 4);
    kernel.set(-1, 2, 5);
    const bias = tf.tensor1d([-1, 0, 0, -1, 0, 0, 2, 0]);
    const next = lstmStep(
      tf.tensor2d([[1, 2]]),
      tf.tensor2d([[0.5, -1]]),
      tf.tensor2d([[1, -2]]),
      kernel.toTensor() as tf.Tensor2D,
      bias,
      1,
    );
    expect(maxAbsDifference(next.c, [0.9621172, -1.3378347])).toBeLessThan(1e-6);
    expect(maxAbsDifference(next.h, [0.6563874, -0.4355756])).toBeLessThan(1e-6);
  });

  it('has the right gradients with respect to input, h, c, kernel and bias', () => {
    const batch = 2;
    const inputSize = 3;
    const units = 2;
    const inputs = [
      randomTensor([batch, inputSize], 1),
      randomTensor([batch, units], 2),
      randomTensor([batch, units], 3),
      randomTensor([inputSize + units, 4 * units], 4),
      randomTensor([4 * units], 5),
    ];
    // Random weightings of h_t and c_t, so every output element's gradient is tested with a distinct weight.
    const weightH = randomTensor([batch, units], 6);
    const weightC = randomTensor([batch, units], 7);
    const loss = (x: tf.Tensor, h: tf.Tensor, c: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor): tf.Scalar => {
      const next = lstmStep(x as tf.Tensor2D, h as tf.Tensor2D, c as tf.Tensor2D, kernel as tf.Tensor2D, bias as tf.Tensor1D, 1);
      return tf.add(tf.sum(tf.mul(next.h, weightH)), tf.sum(tf.mul(next.c, weightC)));
    };
    const result = checkGradients(loss as (...xs: tf.Tensor[]) => tf.Scalar, inputs, { epsilon: 1e-2 });
    // The loss is a sum of 8 terms of size <= ~2, so |loss| < ~10. With epsilon 1e-2 in float32 the central
    // difference carries rounding error ~ 6e-8 * 10 / 1e-2 = 6e-5 and truncation error ~ epsilon^2 / 6 * |f'''|
    // = 1.7e-5 * O(1); a wrong gradient (a missing term, a swapped gate) is off by O(0.1) or more.
    expect(result.maxError).toBeLessThan(1e-3);
  });

  it('names the shapes when they do not fit together', () => {
    const x = tf.zeros([2, 3]) as tf.Tensor2D;
    const h = tf.zeros([2, 4]) as tf.Tensor2D;
    const c = tf.zeros([2, 4]) as tf.Tensor2D;
    const kernel = tf.zeros([7, 16]) as tf.Tensor2D;
    const bias = tf.zeros([16]) as tf.Tensor1D;
    expect(() => lstmStep(x, h, c, tf.zeros([6, 16]) as tf.Tensor2D, bias, 1)).toThrow(
      'lstmStep: kernel (inputSize 3 + units 4 rows, 4 * units columns) has shape [6,16] but must be [7,16].',
    );
    expect(() => lstmStep(x, h, tf.zeros([1, 4]) as tf.Tensor2D, kernel, bias, 1)).toThrow(
      'lstmStep: c (h has shape [2,4]) has shape [1,4] but must be [2,4].',
    );
    expect(() => lstmStep(x, tf.zeros([3, 4]) as tf.Tensor2D, c, kernel, bias, 1)).toThrow(
      'lstmStep: h (input has shape [2,3]) has shape [3,4] but must be [2,4].',
    );
    expect(() => lstmStep(x, h, c, kernel, tf.zeros([12]) as tf.Tensor1D, 1)).toThrow(
      'lstmStep: bias (4 * units 4) has shape [12] but must be [16].',
    );
    expect(() => lstmStep(tf.zeros([3]) as never, h, c, kernel, bias, 1)).toThrow(
      'lstmStep: input must be rank 2, [batch, inputSize], got shape [3].',
    );
    expect(() => lstmStep(x, h, c, kernel, bias, Number.NaN)).toThrow('lstmStep: forgetBias must be a finite number, got NaN.');
  });

  it('says what it got for a missing input or h, or an h of the wrong rank', () => {
    const x = tf.zeros([2, 3]) as tf.Tensor2D;
    const h = tf.zeros([2, 4]) as tf.Tensor2D;
    const c = tf.zeros([2, 4]) as tf.Tensor2D;
    const kernel = tf.zeros([7, 16]) as tf.Tensor2D;
    const bias = tf.zeros([16]) as tf.Tensor1D;
    expect(() => lstmStep(null as never, h, c, kernel, bias, 1)).toThrow('lstmStep: input must be rank 2, [batch, inputSize], got shape null.');
    expect(() => lstmStep(x, undefined as never, c, kernel, bias, 1)).toThrow('lstmStep: h must be rank 2, [batch, units], got shape undefined.');
    expect(() => lstmStep(x, tf.zeros([4]) as never, c, kernel, bias, 1)).toThrow('lstmStep: h must be rank 2, [batch, units], got shape [4].');
  });
});
