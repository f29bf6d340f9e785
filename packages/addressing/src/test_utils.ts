// Helpers for this package's tests (not exported from the package).
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { maxAbsDifference } from '@mann/backend/testing';

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
