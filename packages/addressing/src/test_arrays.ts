// Helpers for this package's tests that need no tfjs (not exported from the package): the WebAssembly tests import
// these alone, so that a run of them (a mutation run, say) does not load tfjs.
import { expect, vi } from 'vitest';

/**
 * max |actual - expected| / (1 + max |expected|): the normwise error the WebAssembly tests bound (their float32 sums
 * and polynomial exp/tanh round differently from the JavaScript), after checking the lengths match.
 */
export function normwiseError(actual: Float32Array, expected: Float32Array, what: string): number {
  expect(actual.length, what).toBe(expected.length);
  let difference = 0;
  let largest = 0;
  for (let i = 0; i < expected.length; i++) {
    difference = Math.max(difference, Math.abs(actual[i] - expected[i]));
    largest = Math.max(largest, Math.abs(expected[i]));
  }
  return difference / (1 + largest);
}

/** Fails when the {@link normwiseError} of `actual` exceeds `tolerance`. */
export function expectNormwiseClose(actual: Float32Array, expected: Float32Array, what: string, tolerance: number): void {
  expect(normwiseError(actual, expected, what), what).toBeLessThanOrEqual(tolerance);
}

/** A seeded generator of uniform numbers in [-0.5, 0.5) (a linear congruential generator: fast, reproducible). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
}

/** `length` numbers from `next`, times `scale`. */
export function randomArray(length: number, next: () => number, scale = 2): Float32Array {
  return Float32Array.from({ length }, () => scale * next());
}

/** Seeded uniform values in [-scale, scale). */
export function randomValues(length: number, seed: number, scale = 1): Float32Array {
  return randomArray(length, random(seed), 2 * scale);
}

/** The largest |a - b| over two lists of arrays, divided by (1 + the largest |b|): normwise, as float32 errors scale. */
export function relativeDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  let largest = 0;
  b.forEach((values, t) => {
    expect(a[t].length).toBe(values.length);
    values.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(a[t][i] - v));
      largest = Math.max(largest, Math.abs(v));
    });
  });
  return worst / (1 + largest);
}

/**
 * Makes `new WebAssembly.Module` throw as a browser's main thread does for a module over 4 KB, and resets the
 * module registry, so that the next `import()` of a loader compiles afresh and falls back to JavaScript. Undo with
 * `vi.unstubAllGlobals()`.
 */
export function refuseWasmCompilation(): void {
  vi.resetModules();
  function refuse(): never {
    throw new RangeError('WebAssembly.Module(): Buffer size is over the 4KB limit'); // Chromium's words
  }
  vi.stubGlobal('WebAssembly', Object.create(WebAssembly, { Module: { value: refuse } }));
}
