/**
 * Helpers for testing tfjs maths, shared by the `@mann` packages' tests: finite-difference gradient checks,
 * tensor comparisons, a leak check and seeded test data. Framework-free: they return numbers, and each test states
 * its own tolerance.
 *
 * @module @mann/backend/testing
 */
// Helpers for testing tfjs maths, shared by every @mann package's tests. Framework-free: they return
// numbers, and each test states its own tolerance.
import * as tf from '@tensorflow/tfjs-core';
import './register';

/** Options of {@link checkGradients}. */
export interface GradientCheckOptions {
  /** Step of the central difference. float32 arithmetic makes very small steps noisy; 1e-2 is a good start. */
  epsilon?: number;
}

/** What {@link checkGradients} found: the largest error, where it occurred, and both gradients in full. */
export interface GradientCheckResult {
  /** Largest |analytic - numeric| / max(1, |numeric|) over every element of every input. */
  maxError: number;
  /** Where it occurred: input index and flat element index. */
  worst: {
    /** Index of the input in `inputs`. */
    input: number;
    /** Flat (row-major) index of the element in that input. */
    element: number;
    /** The gradient tfjs computed there. */
    analytic: number;
    /** The central-difference gradient there. */
    numeric: number;
  };
  /** The gradients tfjs computed, one flat array per input, in the order of `inputs`. */
  analytic: Float32Array[];
  /** The central-difference gradients, one flat array per input, in the order of `inputs`. */
  numeric: Float32Array[];
}

/**
 * Compares the gradients tfjs computes for `f` with central finite differences,
 * (f(x + e) - f(x - e)) / 2e, element by element.
 *
 * All tfjs backends compute in float32, so the numeric gradient carries an error of roughly
 * 1e-7 * |f| / epsilon from rounding plus epsilon^2 * |f'''| from truncation: with epsilon = 1e-2 and O(1)
 * values, errors up to a few 1e-3 are expected and anything above 1e-2 is a wrong gradient.
 */
export function checkGradients(
  f: (...inputs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  options: GradientCheckOptions = {},
): GradientCheckResult {
  const epsilon = options.epsilon ?? 1e-2;
  const analytic = tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => f(...xs))(inputs)).map((g) => {
    const data = g.dataSync() as Float32Array;
    g.dispose();
    return Float32Array.from(data);
  });
  const values = inputs.map((x) => Float64Array.from(x.dataSync()));
  const evaluate = (which: number, flat: Float64Array): number =>
    tf.tidy(() => {
      const args = inputs.map((x, i) => (i === which ? tf.tensor(Float32Array.from(flat), x.shape, 'float32') : x));
      return f(...args).dataSync()[0];
    });
  const numeric: Float32Array[] = [];
  let worst = { input: -1, element: -1, analytic: 0, numeric: 0 };
  let maxError = 0;
  values.forEach((flat, which) => {
    const out = new Float32Array(flat.length);
    for (let i = 0; i < flat.length; i++) {
      const original = flat[i];
      flat[i] = original + epsilon;
      const up = evaluate(which, flat);
      flat[i] = original - epsilon;
      const down = evaluate(which, flat);
      flat[i] = original;
      out[i] = (up - down) / (2 * epsilon);
      const error = Math.abs(analytic[which][i] - out[i]) / Math.max(1, Math.abs(out[i]));
      if (error > maxError || worst.input < 0) {
        if (error >= maxError) maxError = error;
        worst = { input: which, element: i, analytic: analytic[which][i], numeric: out[i] };
      }
    }
    numeric.push(out);
  });
  return { maxError, worst, analytic, numeric };
}

/** Largest absolute elementwise difference between two tensors or arrays of the same size. */
export function maxAbsDifference(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>): number {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  if (x.length !== y.length) {
    throw new Error(`maxAbsDifference: sizes differ (${x.length} vs ${y.length}).`);
  }
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return max;
}

/**
 * Runs `step` `count` times and returns `tf.memory().numTensors` after the first call and after the last,
 * so a test can assert that a step does not leak: the two are equal when it doesn't.
 */
export function tensorCountAfterSteps(
  step: (i: number) => void,
  count: number,
): {
  /** `tf.memory().numTensors` after the first call. */
  afterFirst: number;
  /** `tf.memory().numTensors` after the last call. */
  afterLast: number;
} {
  step(0);
  const afterFirst = tf.memory().numTensors;
  for (let i = 1; i < count; i++) step(i);
  return { afterFirst, afterLast: tf.memory().numTensors };
}

/** A small deterministic pseudo-random generator (mulberry32) for test data, independent of tfjs's seeds. */
export function testRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A tensor of the given shape filled with uniform values in [low, high) from `testRandom(seed)`. */
export function randomTensor(shape: number[], seed: number, low = -1, high = 1): tf.Tensor {
  const random = testRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = low + (high - low) * random();
  return tf.tensor(data, shape, 'float32');
}
