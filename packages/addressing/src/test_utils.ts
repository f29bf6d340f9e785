// Helpers for this package's tests (not exported from the package).
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { maxAbsDifference } from '@mann/backend/testing';
import type { AddressingScheme, FastAddressing } from './types';

export { random, randomArray, randomValues, relativeDifference, refuseWasmCompilation } from './test_arrays';

type Nested = number | Nested[];

/** Asserts that `actual` holds `expected` (any nesting, flattened) to within `tolerance` (0: exactly). */
export function expectClose(actual: tf.Tensor, expected: Nested, tolerance = 1e-5): void {
  const flat = (Array.isArray(expected) ? (expected as unknown[]).flat(Infinity) : [expected]) as number[];
  expect(actual.size).toBe(flat.length);
  expect(maxAbsDifference(actual, flat)).toBeLessThanOrEqual(tolerance);
}

/** atanh, to write a parameter whose tanh is a chosen value. */
export const atanh = (x: number): number => 0.5 * Math.log((1 + x) / (1 - x));

/** The inverse of softplus: softplus(inverseSoftplus(y)) = y. */
export const inverseSoftplus = (y: number): number => Math.log(Math.expm1(y));

/** What a rollout of T steps gives: each step's reads [B, H*W] and dL/d(each step's parameters) [B, P]. */
export interface Rollout {
  reads: Float32Array[];
  parameterGradients: Float32Array[];
}

/**
 * The plain path: `scheme.step` T times from `initialState`, and the gradient of L = sum_t sum(reads_t * R_t)
 * with respect to every step's parameters, by tfjs' autodiff.
 */
export function plainRollout(scheme: AddressingScheme, batch: number, parameters: Float32Array[], readGradients: Float32Array[]): Rollout {
  return tf.tidy(() => {
    const inputs = parameters.map((p) => tf.tensor2d(p, [batch, scheme.parameterSize]));
    const reads: Float32Array[] = [];
    const loss = (...xs: tf.Tensor[]) => {
      let state = scheme.initialState(batch);
      let total = tf.scalar(0);
      xs.forEach((x, t) => {
        const result = scheme.step(x as tf.Tensor2D, state);
        state = result.state;
        const flat = tf.reshape(result.reads, [batch, -1]);
        reads[t] = Float32Array.from(flat.dataSync());
        total = tf.add(total, tf.sum(tf.mul(flat, tf.tensor2d(readGradients[t], flat.shape as [number, number]))));
      });
      return total;
    };
    const gradients = tf.grads(loss)(inputs);
    return { reads, parameterGradients: gradients.map((g) => Float32Array.from(g.dataSync())) } as unknown as tf.TensorContainer;
  }) as unknown as Rollout;
}

/** The same rollout through a fast run: forward T times, then backward T times from the last step. */
export function fastRollout(fast: FastAddressing, batch: number, parameters: Float32Array[], readGradients: Float32Array[]): Rollout {
  const run = fast.start(batch);
  const reads = parameters.map((p) => run.forward(p));
  const parameterGradients: Float32Array[] = [];
  for (let t = parameters.length - 1; t >= 0; t--) parameterGradients[t] = run.backward(readGradients[t]);
  return { reads, parameterGradients };
}
