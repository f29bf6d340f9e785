import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { differentiatedAddressing } from './differentiated_addressing';
import { lrua, type LruaOptions } from './lrua';
import { ntm } from './ntm';
import { expectClose, fastRollout, plainRollout, randomValues, relativeDifference } from './test_utils';
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


// The cheap tests below run first, on cpu.
beforeAll(async () => {
  await useBackend('cpu');
});

describe('fast addressing runs', () => {
  it('refuse parameters of the wrong size and more backward steps than forward ones', () => {
    const run = lrua({ memory: { slots: 4, width: 2 }, heads: 1 }).fast!.start(2);
    expect(() => run.forward(new Float32Array(5))).toThrow('lrua.fast forward: parameters must be a Float32Array of length 6, got length 5.');
    expect(() => run.forward([0, 0, 0, 0, 0, 0] as unknown as Float32Array)).toThrow(
      'lrua.fast forward: parameters must be a Float32Array of length 6, got 0,0,0,0,0,0.',
    );
    expect(() => run.backward(new Float32Array(4))).toThrow('lrua.fast backward: called more often than forward (0 steps).');
    expect(run.forward(new Float32Array(6))).toHaveLength(2 * 2);
    expect(() => run.backward(new Float32Array(3))).toThrow('lrua.fast backward: readGradient must be a Float32Array of length 4, got length 3.');
    expect(run.backward(new Float32Array(4))).toHaveLength(2 * 3);
    expect(() => run.backward(new Float32Array(4))).toThrow('lrua.fast backward: called more often than forward (1 steps).');
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

describe('differentiatedAddressing', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  /** A scheme returning `reads` from its step, the memory passed on unchanged. */
  const reading = (name: string, reads: (parameters: tf.Tensor2D, state: AddressingState) => tf.Tensor): AddressingScheme => ({
    ...contentOnly(3, 2),
    name,
    step: (parameters, state) =>
      tf.tidy(() => ({ reads: reads(parameters, state) as tf.Tensor3D, state: { memory: tf.clone(state.memory) } as AddressingState })),
  });

  it('checks the order of calls, the read gradient, the reads and the state the scheme returns', () => {
    const run = differentiatedAddressing(contentOnly(3, 2)).start(1);
    expect(() => run.backward(new Float32Array(2))).toThrow('content-only (differentiated) backward: called more often than forward.');
    run.forward(new Float32Array(2));
    expect(() => run.backward(new Float32Array(3))).toThrow(
      'content-only (differentiated) backward: readGradient must be a Float32Array of length 2, got length 3.',
    );
    const wide = reading('wide', () => tf.zeros([1, 2, 2]));
    expect(() => differentiatedAddressing(wide).start(1).forward(new Float32Array(2))).toThrow(
      'wide.step: reads (flattened) must be a Float32Array of length 2, got length 4.',
    );
    const stateless: AddressingScheme = { ...contentOnly(3, 2), initialState: () => null as unknown as AddressingState };
    expect(() => differentiatedAddressing(stateless).start(1)).toThrow('addressing state must be an object of tensors, got null.');
    const numbers: AddressingScheme = { ...contentOnly(3, 2), initialState: () => ({ memory: 3 }) as unknown as AddressingState };
    expect(() => differentiatedAddressing(numbers).start(1)).toThrow("addressing state entry 'memory' must be a tensor, got 3.");
  });

  it('gives a zero gradient to parameters the reads do not depend on', () => {
    // reads = slot 0 of the memory (0.1 everywhere): no path from the parameters to the loss.
    const memoryReader = reading('memory-reader', (_, state) => tf.slice(state.memory, [0, 0, 0], [-1, 1, -1]));
    const run = fastRollout(differentiatedAddressing(memoryReader), 1, [new Float32Array([1, 2])], [new Float32Array([1, 1])]);
    expectClose(tf.tensor(run.reads[0]), [0.1, 0.1]);
    expect(Array.from(run.parameterGradients[0])).toEqual([0, 0]);
  });

  it('passes int32 state entries from step to step, and entries no output depends on, without differentiating them', () => {
    // reads_t = tanh(p_t) f(c) with an int32 step counter c (t at step t) and f(c) = (c + 1) (1 + [c < 1]): f = 2, 2, 3.
    // So dL/dp_t = R_t f(t) (1 - tanh(p_t)^2). tfjs has no gradient for the comparison c < 1: differentiating the
    // counter would fail. `last` (the previous step's parameters) is replaced every step: nothing depends on the
    // previous one, so it has no gradient either.
    const counting: AddressingScheme = {
      name: 'counting',
      heads: 1,
      memory: { slots: 1, width: 2, initialValue: 0 },
      parameterSize: 2,
      initialState: (batch) => ({ memory: tf.zeros([batch, 1, 2]) as tf.Tensor3D, count: tf.zeros([batch], 'int32'), last: tf.zeros([batch, 2]) }),
      step: (parameters, state) =>
        tf.tidy(() => {
          const first = tf.cast(tf.less(state.count, 1), 'float32');
          const factor = tf.expandDims(tf.mul(tf.cast(tf.add(state.count, 1), 'float32'), tf.add(first, 1)), 1);
          return {
            reads: tf.reshape(tf.mul(tf.tanh(parameters), factor), [-1, 1, 2]) as tf.Tensor3D,
            state: { memory: tf.clone(state.memory), count: tf.add(state.count, tf.scalar(1, 'int32')), last: tf.clone(parameters) } as AddressingState,
          };
        }),
    };
    const factors = [2, 2, 3];
    const parameters = [new Float32Array([0.5, -1]), new Float32Array([0.25, 2]), new Float32Array([-0.75, 1])];
    const readGradients = [new Float32Array([1, -2]), new Float32Array([0.5, 1]), new Float32Array([-1, 3])];
    const run = fastRollout(differentiatedAddressing(counting), 1, parameters, readGradients);
    parameters.forEach((p, t) => {
      expectClose(tf.tensor(run.reads[t]), Array.from(p, (x) => Math.tanh(x) * factors[t]));
      expectClose(tf.tensor(run.parameterGradients[t]), Array.from(p, (x, i) => readGradients[t][i] * factors[t] * (1 - Math.tanh(x) ** 2)));
    });
  });

  it("keeps its own copy of each step's parameters: the caller may reuse its array", () => {
    const scheme = contentOnly(4, 3);
    const parameters = [randomValues(2 * 3, 1, 2), randomValues(2 * 3, 2, 2), randomValues(2 * 3, 3, 2)];
    const readGradients = [randomValues(2 * 3, 4), randomValues(2 * 3, 5), randomValues(2 * 3, 6)];
    const expected = fastRollout(differentiatedAddressing(scheme), 2, parameters, readGradients);
    const run = differentiatedAddressing(scheme).start(2);
    const buffer = new Float32Array(2 * 3);
    for (const p of parameters) {
      buffer.set(p);
      run.forward(buffer);
    }
    buffer.fill(7);
    for (let t = parameters.length - 1; t >= 0; t--) {
      expect(Array.from(run.backward(readGradients[t])), `step ${t}`).toEqual(Array.from(expected.parameterGradients[t]));
    }
  });

  it('runs backward inside another gradient computation (as a model whose recurrence is one op with this in its gradient)', () => {
    const run = differentiatedAddressing(contentOnly(3, 2)).start(1);
    run.forward(new Float32Array([0.5, -0.5]));
    let inner: Float32Array = new Float32Array(0);
    const recurrence = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
      value: tf.mul(args[0] as tf.Tensor, 1),
      gradFunc: (dy: tf.Tensor) => {
        inner = run.backward(Float32Array.from(dy.dataSync()));
        return [tf.mul(dy, 2)];
      },
    }));
    // d/dx sum(3 recurrence(x) + x^2) = 3 * 2 + 2x at x = [1, 2]: [8, 10]. tfjs' engine drops the outer gradient's
    // tape when the inner one (run.backward) ends; without putting it back the outer computation fails.
    const gradient = tf.grad((x: tf.Tensor) => tf.sum(tf.add(tf.mul(recurrence(x), 3), tf.square(x))))(tf.tensor1d([1, 2]));
    expectClose(gradient, [8, 10]);
    const outside = differentiatedAddressing(contentOnly(3, 2)).start(1);
    outside.forward(new Float32Array([0.5, -0.5]));
    expect(Array.from(inner)).toEqual(Array.from(outside.backward(new Float32Array([3, 3]))));
  });
});

// Last: the rollouts against tfjs are the slow tests (a mutant's run stops at its first failure). The plain step runs
// on cpu and on tfjs' wasm backend; mutation runs (vitest.mutation.config.ts sets MANN_MUTATION_RUN) compare on cpu
// only, which reaches every line the wasm comparison does: the wasm backend adds tfjs' kernels, which no mutant changes.
const PLAIN_BACKENDS = process.env.MANN_MUTATION_RUN ? (['cpu'] as const) : (['cpu', 'wasm'] as const);

describe.each(PLAIN_BACKENDS)('fast addressing against the plain step on %s', (backend) => {
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
