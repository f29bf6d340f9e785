import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { differentiatedAddressing } from './differentiated_addressing';
import { lrua, type LruaOptions } from './lrua';
import { ntm } from './ntm';
import { fastRollout, plainRollout, randomValues, relativeDifference } from './test_utils';
import type { AddressingScheme, AddressingState } from './types';

// Both sides compute in float32 in a different order (the fast step sums in doubles or in f32x4 lanes); over 8
// steps the differences stay at a few 1e-7 of the largest value, so 1e-5 normwise is ~20x the noise while any real
// mistake (a dropped term, a wrong sign, the wrong step's state) moves values by 1e-3 or more.
const TOLERANCE = 1e-5;
const STEPS = 8;
const BATCH = 3;

/** Parameters large enough that the weightings are far from uniform, and a random R_t for L = sum R_t . reads_t. */
function inputs(scheme: AddressingScheme, seed: number) {
  const readSize = scheme.heads * scheme.memory.width;
  return {
    parameters: Array.from({ length: STEPS }, (_, t) => randomValues(BATCH * scheme.parameterSize, seed + t, 3)),
    readGradients: Array.from({ length: STEPS }, (_, t) => randomValues(BATCH * readSize, seed + 100 + t)),
  };
}

function expectSameAsPlain(scheme: AddressingScheme, fast = scheme.fast!, seed = 7): void {
  const { parameters, readGradients } = inputs(scheme, seed);
  const plain = plainRollout(scheme, BATCH, parameters, readGradients);
  const before = tf.memory().numTensors;
  const run = fastRollout(fast, BATCH, parameters, readGradients);
  expect(tf.memory().numTensors).toBe(before);
  expect(relativeDifference(run.reads, plain.reads)).toBeLessThanOrEqual(TOLERANCE);
  expect(relativeDifference(run.parameterGradients, plain.parameterGradients)).toBeLessThanOrEqual(TOLERANCE);
  // Not vacuous: the reads and gradients are not all zero.
  expect(Math.max(...plain.parameterGradients[0].map(Math.abs))).toBeGreaterThan(1e-3);
}

const lruaCases: [string, LruaOptions][] = [
  ['2 heads, keys written, least-used slot cleared', { memory: { slots: 10, width: 6 }, heads: 2 }],
  ['5 heads, add vectors', { memory: { slots: 12, width: 5 }, heads: 5, writeVector: 'add' }],
  ['3 heads, every least-used slot cleared, decay 0.5', { memory: { slots: 9, width: 7 }, heads: 3, clearing: 'all-least-used', decay: 0.5 }],
];

/** A scheme of a user's own, without `fast`: one head that reads by content and writes its key where it read. */
function contentOnly(slots: number, width: number): AddressingScheme {
  const memory = { slots, width, initialValue: 0.1 };
  return {
    name: 'content-only',
    heads: 1,
    memory,
    parameterSize: width,
    initialState: (batch) => ({ memory: tf.fill([batch, slots, width], 0.1) as tf.Tensor3D }),
    step(parameters, state) {
      return tf.tidy(() => {
        const key = tf.tanh(parameters); // [B, W]
        const weights = tf.softmax(tf.squeeze(tf.matMul(state.memory, tf.expandDims(key, 2)), [2])); // [B, N]
        const written = tf.add(state.memory, tf.mul(tf.expandDims(weights, 2), tf.expandDims(key, 1))) as tf.Tensor3D;
        const reads = tf.matMul(tf.expandDims(weights, 1), written) as tf.Tensor3D; // [B, 1, W]
        return { reads, state: { memory: written } as AddressingState };
      });
    },
  };
}

describe.each(['cpu', 'wasm'] as const)('fast addressing against the plain step on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each(lruaCases)('lrua.fast, %s', (_, options) => expectSameAsPlain(lrua(options)));

  it.each(lruaCases)('differentiatedAddressing(lrua), %s', (_, options) => {
    const scheme = lrua(options);
    expectSameAsPlain(scheme, differentiatedAddressing(scheme));
  });

  it('differentiatedAddressing(ntm)', () => {
    const scheme = ntm({ memory: { slots: 8, width: 4 }, heads: 2 });
    expectSameAsPlain(scheme, differentiatedAddressing(scheme));
  });

  it("differentiatedAddressing of a user's scheme without fast", () => {
    const scheme = contentOnly(6, 4);
    expectSameAsPlain(scheme, differentiatedAddressing(scheme));
  });
});

describe('fast addressing runs', () => {
  it('refuse parameters of the wrong size and more backward steps than forward ones', () => {
    const run = lrua({ memory: { slots: 4, width: 2 }, heads: 1 }).fast!.start(2);
    expect(() => run.forward(new Float32Array(5))).toThrow('lrua.fast forward: parameters must be a Float32Array of length 6, got length 5.');
    expect(() => run.backward(new Float32Array(4))).toThrow('called more often than forward');
    const other = differentiatedAddressing(contentOnly(3, 2)).start(1);
    expect(() => other.forward(new Float32Array(3))).toThrow('content-only (differentiated) forward: parameters must be a Float32Array of length 2, got length 3.');
  });

  it('say which step tfjs could not differentiate', () => {
    const broken: AddressingScheme = {
      ...contentOnly(3, 2),
      name: 'top-reader',
      // TopK has no gradient in tfjs.
      step: (parameters, state) => ({
        reads: tf.tidy(() => tf.expandDims(tf.topk(parameters, 2).values, 1)) as tf.Tensor3D,
        state: { memory: tf.clone(state.memory) } as AddressingState,
      }),
    };
    const run = differentiatedAddressing(broken).start(1);
    run.forward(new Float32Array([1, 2]));
    expect(() => run.backward(new Float32Array(2).fill(1))).toThrow(/top-reader\.step could not be differentiated by tfjs/);
  });
});
