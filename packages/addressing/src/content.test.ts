import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { checkGradients, randomTensor } from '@mann/backend/testing';
import { contentWeights, cosineSimilarity } from './index';
import { expectClose } from './test_utils';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('cosineSimilarity', () => {
  it('compares every key with every slot, a zero vector giving 0', () => {
    const keys = tf.tensor3d([[[1, 0], [0, 0]]]); // H=2: key 1 is the zero vector
    const memory = tf.tensor3d([[[2, 0], [1, 1], [0, 0]]]); // slot 2 is the zero vector
    // key 0: [1,0].[2,0] / (1*2) = 1;  [1,0].[1,1] / (1*sqrt 2) = 0.70711;  zero slot: 0 / (1*1e-8) = 0
    // key 1: dot products are all 0, so 0 everywhere (not NaN: the norms are at least epsilon)
    expectClose(cosineSimilarity(keys, memory), [[[1, Math.SQRT1_2, 0], [0, 0, 0]]]);
  });

  it('treats the 1e-6 initial memory as a direction, not as zero', () => {
    // ||[1e-6, 1e-6]|| = 1.4e-6 >> epsilon = 1e-8, so cos([1,1], [1e-6,1e-6]) = 1 as for any parallel vectors.
    expectClose(cosineSimilarity(tf.tensor3d([[[1, 1]]]), tf.tensor3d([[[1e-6, 1e-6]]])), [[[1]]], 1e-4);
  });

  it('has finite gradients at a zero key and a zero slot', () => {
    const probe = tf.tensor3d([[[1, -2, 3], [0.5, 1, -1]]]);
    const [gKeys, gMemory] = tf.grads((k: tf.Tensor, m: tf.Tensor) =>
      tf.sum(tf.mul(cosineSimilarity(k as tf.Tensor3D, m as tf.Tensor3D), probe)),
    )([tf.tensor3d([[[1, 0], [0, 0]]]), tf.tensor3d([[[2, 0], [1, 1], [0, 0]]])]);
    expect(Array.from(gKeys.dataSync()).every(Number.isFinite)).toBe(true);
    expect(Array.from(gMemory.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it('uses the epsilon it is given, and refuses one that is not a positive finite number', () => {
    // epsilon 0.5: ||[1, 0]|| = sqrt(1 + 0.25), ||[2, 0]|| = sqrt(4 + 0.25): cos = 2 / sqrt(1.25 * 4.25) = 0.867722;
    // the zero key: 0 / (0.5 * ...) = 0.
    const keys = tf.tensor3d([[[1, 0], [0, 0]]]);
    const memory = tf.tensor3d([[[2, 0]]]);
    expectClose(cosineSimilarity(keys, memory, 0.5), [[[0.867722], [0]]]);
    // epsilon 0 would make a zero key's similarity 0 / 0 = NaN.
    expect(() => cosineSimilarity(keys, memory, 0)).toThrow('cosineSimilarity: epsilon must be a positive number, got 0');
    expect(() => cosineSimilarity(keys, memory, -1e-8)).toThrow('cosineSimilarity: epsilon must be a positive number, got -1e-8');
    expect(() => cosineSimilarity(keys, memory, Infinity)).toThrow('cosineSimilarity: epsilon must be a positive number, got Infinity');
    expect(() => cosineSimilarity(keys, memory, NaN)).toThrow('cosineSimilarity: epsilon must be a positive number, got NaN');
  });

  it('rejects tensors of another rank, naming the argument and its layout', () => {
    const t2 = tf.zeros([1, 2]) as unknown as tf.Tensor3D;
    const t3 = tf.zeros([1, 1, 2]) as tf.Tensor3D;
    expect(() => cosineSimilarity(t2, t3)).toThrow('cosineSimilarity: keys must be a rank-3 tensor [B, H, W], got shape [1,2] (rank 2)');
    expect(() => cosineSimilarity(t3, t2)).toThrow('cosineSimilarity: memory must be a rank-3 tensor [B, N, W], got shape [1,2] (rank 2)');
    expect(() => contentWeights(t2, t3)).toThrow('contentWeights: keys must be a rank-3 tensor [B, H, W], got shape [1,2] (rank 2)');
    expect(() => contentWeights(t3, t3, t3 as unknown as tf.Tensor2D)).toThrow(
      'contentWeights: strength must be a rank-2 tensor [B, H], got shape [1,1,2] (rank 3)',
    );
  });

  it('rejects keys of another width', () => {
    expect(() => cosineSimilarity(tf.zeros([2, 4, 64]) as tf.Tensor3D, tf.zeros([2, 128, 40]) as tf.Tensor3D)).toThrow(
      'cosineSimilarity: keys [2,4,64] do not match memory [2,128,40]: expected [2,H,40]',
    );
  });
});

describe('contentWeights', () => {
  // Built lazily: the describe body runs before beforeAll has chosen a backend.
  const keys = () => tf.tensor3d([[[1, 0]]]);
  const memory = () => tf.tensor3d([[[1, 0], [0, 1], [-1, 0]]]);

  it('is the softmax of the cosine similarities', () => {
    // cos = [1, 0, -1]; softmax = [e, 1, 1/e] / (e + 1 + 1/e) = [2.71828, 1, 0.36788] / 4.08616
    //     = [0.66524, 0.24473, 0.09003]
    expectClose(contentWeights(keys(), memory()), [[[0.66524, 0.24473, 0.09003]]]);
  });

  it('sharpens with a key strength', () => {
    // beta = 2: softmax([2, 0, -2]) = [7.38906, 1, 0.13534] / 8.52440 = [0.86681, 0.11731, 0.01588]
    expectClose(contentWeights(keys(), memory(), tf.tensor2d([[2]])), [[[0.86681, 0.11731, 0.01588]]]);
  });

  it('rejects a strength of the wrong shape', () => {
    expect(() => contentWeights(keys(), memory(), tf.tensor2d([[1, 2]]))).toThrow(
      'contentWeights: strength [1,2] does not match keys [1,1,2]: expected [1,1]',
    );
  });

  it('has the gradient finite differences give (keys, memory, strength)', () => {
    // Tolerance: float32 central differences with epsilon 1e-2 carry ~1e-7 * |loss| / 1e-2 ~ 1e-4 rounding
    // error plus epsilon^2 * |f'''| / 6 ~ 1e-4 truncation error for these smooth O(1) functions; a wrong
    // gradient is off by O(0.1) or more. 5e-3 separates the two.
    const probe = randomTensor([2, 2, 5], 30);
    const result = checkGradients(
      (k, m, s) => tf.sum(tf.mul(contentWeights(k as tf.Tensor3D, m as tf.Tensor3D, s as tf.Tensor2D), probe)),
      [randomTensor([2, 2, 3], 31), randomTensor([2, 5, 3], 32), randomTensor([2, 2], 33, 0.5, 3)],
    );
    expect(result.maxError).toBeLessThan(5e-3);
  });
});
