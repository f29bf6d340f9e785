// Shape checks shared by the @mann tensor packages (@mann/addressing uses them too). Each public function validates
// its inputs up front with these, so that a wrong shape fails with a message naming the function, the tensor and the
// shapes instead of deep inside a tfjs kernel.
import type * as tf from '@tensorflow/tfjs-core';

/** `[2,128,40]`: a shape as the error messages print it. */
export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Throws unless `tensor` has rank `rank`; `layout` names the axes, e.g. `'[B, N, W]'`. */
export function assertRank(fn: string, name: string, tensor: tf.Tensor, rank: number, layout: string): void {
  if (tensor == null || !Array.isArray((tensor as tf.Tensor).shape)) {
    throw new Error(`${fn}: ${name} must be a tensor ${layout}, got ${String(tensor)}`);
  }
  if (tensor.rank !== rank) {
    throw new Error(
      `${fn}: ${name} must be a rank-${rank} tensor ${layout}, got shape ${shapeString(tensor.shape)} (rank ${tensor.rank})`,
    );
  }
}

/**
 * Throws unless `tensor.shape` equals `expected` on every axis where `expected` holds a number (a string there,
 * like `'R'`, matches any size). The message shows both shapes and the expected pattern:
 * "readMemory: weights [2,4,64] do not match memory [2,128,40]: expected [2,R,128]".
 */
export function assertShapeMatches(
  fn: string,
  name: string,
  tensor: tf.Tensor,
  otherName: string,
  other: tf.Tensor,
  expected: ReadonlyArray<number | string>,
): void {
  const ok = expected.length === tensor.rank && expected.every((size, axis) => typeof size === 'string' || tensor.shape[axis] === size);
  if (!ok) {
    throw new Error(
      `${fn}: ${name} ${shapeString(tensor.shape)} do${name.endsWith('s') ? '' : 'es'} not match ${otherName} ${shapeString(other.shape)}: ` +
        `expected [${expected.join(',')}]`,
    );
  }
}

/** Throws unless `value` is a positive integer. */
export function assertPositiveInteger(fn: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${fn}: ${name} must be a positive integer, got ${String(value)}`);
  }
}

/** Throws unless `tensor` is exactly `expected`, naming the function, the tensor and `context` (why). */
export function assertShape(fn: string, name: string, tensor: tf.Tensor, expected: readonly number[], context: string): void {
  const ok = tensor.rank === expected.length && expected.every((size, axis) => tensor.shape[axis] === size);
  if (!ok) {
    throw new Error(`${fn}: ${name} ${shapeString(tensor.shape)} ${context}: expected ${shapeString(expected)}`);
  }
}
