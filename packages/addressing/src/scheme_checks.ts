// Checks shared by the addressing schemes (internal).
import type * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShape, shapeString } from '@mann/memory';

/** Throws unless `heads` is an integer in 1..slots (`limitToSlots`) or >= 1. */
export function checkHeads(scheme: string, heads: number, slots: number, limitToSlots: boolean): void {
  if (!Number.isInteger(heads) || heads < 1) {
    throw new Error(`${scheme}: heads must be a positive integer, got ${String(heads)}`);
  }
  if (limitToSlots && heads > slots) {
    throw new Error(`${scheme}: heads = ${heads} is larger than the number of slots (${slots})`);
  }
}

/** Checks `parameters` [B, parameterSize] and returns B. */
export function checkParameters(fn: string, parameters: tf.Tensor2D, parameterSize: number): number {
  assertRank(fn, 'parameters', parameters, 2, '[B, parameterSize]');
  if (parameters.shape[1] !== parameterSize) {
    throw new Error(
      `${fn}: parameters ${shapeString(parameters.shape)} do not match the scheme's parameterSize: expected [B,${parameterSize}]`,
    );
  }
  return parameters.shape[0];
}

/** Checks that every named state entry is a tensor of the given shape. */
export function checkState(fn: string, state: Record<string, tf.Tensor>, expected: Record<string, number[]>): void {
  if (state == null || typeof state !== 'object') {
    throw new Error(`${fn}: state must be an object of tensors (from initialState or the previous step), got ${String(state)}`);
  }
  for (const [name, shape] of Object.entries(expected)) {
    const tensor = state[name];
    if (tensor == null) {
      throw new Error(`${fn}: state.${name} is missing (expected a tensor ${shapeString(shape)})`);
    }
    assertShape(fn, `state.${name}`, tensor, shape, 'does not fit the batch of parameters and the memory size');
  }
}
