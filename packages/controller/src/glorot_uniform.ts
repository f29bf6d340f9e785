import * as tf from '@tensorflow/tfjs-core';
import { seededRandom } from './seeded_random';
import { assertInteger, assertPositiveInteger, formatShape } from './validate';

/**
 * Glorot (Xavier) uniform initial values: uniform in [-limit, limit) with limit = sqrt(6 / (fanIn + fanOut)),
 * drawn from `seededRandom(seed)` so that one seed gives the same numbers on every backend.
 *
 * Fans follow Keras: for a kernel [fanIn, fanOut] they are its two sizes; for a vector [n] both are n.
 *
 * ```js
 * import { glorotUniform } from '@mann/controller';
 * const kernel = glorotUniform([200, 10], 3); // limit sqrt(6 / 210) = 0.169
 * kernel.print();
 * ```
 *
 * The caller owns the returned tensor (wrap it in `tf.variable(kernel, true)` to train it, then dispose it).
 */
export function glorotUniform(shape: readonly number[], seed: number): tf.Tensor {
  return tf.tensor(glorotUniformValues(shape, seededRandom(checkSeed(seed, 'glorotUniform'))), [...shape], 'float32');
}

/** The values behind {@link glorotUniform}, drawn from a given generator (so several kernels can share one). */
export function glorotUniformValues(shape: readonly number[], random: () => number): Float32Array {
  if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 2)) {
    throw new Error(
      `glorotUniform: shape must be [fanIn, fanOut] or [size], got ${Array.isArray(shape) ? formatShape(shape) : String(shape)}.`,
    );
  }
  shape.forEach((size, i) => assertPositiveInteger(size, `shape[${i}]`, 'glorotUniform'));
  const fanIn = shape[0];
  const fanOut = shape.length === 2 ? shape[1] : shape[0];
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = limit * (2 * random() - 1);
  return values;
}

/** Validates a seed and returns it; shared by the controllers so the message names the caller. */
export function checkSeed(seed: unknown, caller: string): number {
  assertInteger(seed, 'seed', caller);
  return seed;
}
