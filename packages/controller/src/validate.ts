// Up-front checks shared by the controllers. Each message starts with the caller's name and states both what it
// got and what it needed, so that a mistake in a model several layers up is easy to trace.
import type * as tf from '@tensorflow/tfjs-core';

/** Formats a shape the way the error messages show it: `[16,300]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function assertPositiveInteger(value: unknown, what: string, caller: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${caller}: ${what} must be a positive integer, got ${String(value)}.`);
  }
}

// Number.isSafeInteger and Number.isFinite do not coerce: they are false for a string or any other non-number.
export function assertInteger(value: unknown, what: string, caller: string): asserts value is number {
  if (!Number.isSafeInteger(value)) {
    throw new Error(`${caller}: ${what} must be an integer, got ${String(value)}.`);
  }
}

export function assertFiniteNumber(value: unknown, what: string, caller: string): asserts value is number {
  if (!Number.isFinite(value)) {
    throw new Error(`${caller}: ${what} must be a finite number, got ${String(value)}.`);
  }
}

/** Checks a step input: a rank-2 tensor [batch, width]. Returns the batch size. */
export function assertStepInput(input: tf.Tensor, inputSize: number, caller: string): number {
  if (input == null || !Array.isArray((input as { shape?: unknown }).shape)) {
    throw new Error(`${caller}: input must be a tf.Tensor of shape [batch, ${inputSize}], got ${String(input)}.`);
  }
  if (input.rank !== 2) {
    throw new Error(
      `${caller}: input has shape ${formatShape(input.shape)} but must be rank 2, [batch, inputSize] = [batch, ${inputSize}].`,
    );
  }
  if (input.shape[1] !== inputSize) {
    throw new Error(
      `${caller}: input has shape ${formatShape(input.shape)} but the controller was built for inputSize ${inputSize}.`,
    );
  }
  return input.shape[0];
}

/** Checks that `tensor` (called `what` in the message) has exactly the shape `expected`. */
export function assertShape(tensor: tf.Tensor | undefined, expected: readonly number[], what: string, caller: string): void {
  if (tensor == null || !Array.isArray((tensor as { shape?: unknown }).shape)) {
    throw new Error(`${caller}: ${what} must be a tf.Tensor of shape ${formatShape(expected)}, got ${String(tensor)}.`);
  }
  const same = tensor.rank === expected.length && tensor.shape.every((size, i) => size === expected[i]);
  if (!same) {
    throw new Error(`${caller}: ${what} has shape ${formatShape(tensor.shape)} but must be ${formatShape(expected)}.`);
  }
}
