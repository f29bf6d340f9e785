import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference, testRandom } from '@mann/backend/testing';
import { ntmFast } from './fast_ntm';
import { ntmImplementation, setNtmImplementation } from './fast_ntm_wasm';
import { ntm, type NtmOptions, type NtmState } from './ntm';

// Fast vs plain: both compute in float32, the same maths in a different order (the fast step sums in JavaScript
// doubles and rounds to float32 per array, tfjs rounds after every kernel). With parameters ~ normal * 2 the
// weightings are sharp (beta and gamma up to ~6) and rounding differences grow over 8 steps: measured over 20
// seeds of the cases below, the reads differ by at most 3e-6 (values O(1)) and the gradients by at most 1e-5 of
// the largest entry (or of 1 when all are smaller). That is the plain path's own rounding, not a difference in
// the maths: the plain path on cpu and on wasm disagree with each other by as much (up to 5e-6 here, 1.8e-5 at
// the paper's size), and a float64 run of fast_ntm.ts' code is as far from each of the three float32 results
// (up to 1e-5 for tfjs cpu, 1.5e-5 for wasm, 5e-6 for the fast step, relative to the largest). Hence 1e-5
// absolute for the reads and 5e-5 (relative to max(1, the largest entry)) for the gradients: 3-5x the noise,
// and well below a real mistake. Checked by breaking one term at a time (the erase's gradient to the write
// weights or its sign, the carry to the previous weights, the erase factor on dL/dM, the key and slot norms'
// gradients, the shift direction forward or backward, g and 1 - g swapped, zero initial weights): each failed
// these tests on cpu and wasm. The shift direction cannot show in the reads: from the initial state (one-hot on
// slot 0, uniform memory), mirroring the slots (n -> -n mod N) maps every step with offsets reversed onto the
// same reads, so only an inconsistent forward and backward is caught.
// The WebAssembly run (fast_ntm_wasm.ts: float32 throughout, exp and log as float32 polynomials) is as close to the
// plain step: over 20 further seeds of these cases, on cpu and wasm, reads within 1.9e-6 and gradients within
// 1.3e-5 of the largest entry, against 1.7e-6 and 1.5e-5 for the JavaScript on the same seeds.
const READ_TOLERANCE = 1e-5;
const GRADIENT_TOLERANCE = 5e-5;
const STEPS = 8;

/** Normal(0, 1) * scale from `testRandom(seed)` (Box-Muller): parameters large enough that the weights are far from uniform. */
function normalValues(size: number, seed: number, scale = 1): Float32Array {
  const random = testRandom(seed);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = 1 - random();
    values[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return values;
}

/** Random parameters_t (normal * 2) and R_t for the loss L = sum_t sum(reads_t * R_t). */
function inputs(parameterSize: number, readSize: number, batch: number, seed: number, steps = STEPS) {
  return {
    parameters: Array.from({ length: steps }, (_, t) => normalValues(batch * parameterSize, seed + t, 2)),
    readGradients: Array.from({ length: steps }, (_, t) => normalValues(batch * readSize, seed + 1000 + t)),
  };
}

/**
 * The plain path: `step` over every step from the initial state; reads_t, and dL/dparameters_t by tf.grads
 * (left out with `gradients: false`: the reads tests do not need them, and differentiating costs twice the forward).
 */
function plainRollout(options: NtmOptions, batch: number, parameters: Float32Array[], readGradients: Float32Array[], { gradients = true } = {}) {
  const scheme = ntm(options);
  return tf.tidy(() => {
    const inputs = parameters.map((p) => tf.tensor2d(p, [batch, scheme.parameterSize]));
    const probes = readGradients.map((r) => tf.tensor3d(r, [batch, scheme.heads, scheme.memory.width]));
    const initial = scheme.initialState(batch);
    const reads: Float32Array[] = [];
    const rollout = (...steps: tf.Tensor[]): tf.Scalar => {
      let state: NtmState = initial;
      let loss = tf.scalar(0);
      steps.forEach((p, t) => {
        const result = scheme.step(p as tf.Tensor2D, state);
        reads[t] = result.reads.dataSync() as Float32Array;
        loss = tf.add(loss, tf.sum(tf.mul(result.reads, probes[t])));
        state = result.state;
      });
      return loss;
    };
    if (!gradients) {
      rollout(...inputs);
      return { reads: reads.map((r) => Float32Array.from(r)), parameterGradients: [] as Float32Array[] };
    }
    const parameterGradients = tf.grads(rollout)(inputs).map((g) => Float32Array.from(g.dataSync()));
    return { reads: reads.map((r) => Float32Array.from(r)), parameterGradients };
  });
}

/** The fast path: forward every step, then backward from the last step with the same R_t. */
function fastRollout(options: NtmOptions, batch: number, parameters: Float32Array[], readGradients: Float32Array[]) {
  const run = ntm(options).fast!.start(batch);
  const reads = parameters.map((p) => run.forward(p));
  const parameterGradients: Float32Array[] = [];
  for (let t = parameters.length - 1; t >= 0; t--) parameterGradients[t] = run.backward(readGradients[t]);
  return { reads, parameterGradients };
}

const largest = (values: Float32Array): number => values.reduce((max, v) => Math.max(max, Math.abs(v)), 0);

// Cheapest first: Stryker stops a mutant's run at its first failing test.
const cases: [string, NtmOptions, number][] = [
  ['B=2, H=1, N=7, W=5, S=1 (no shift)', { memory: { slots: 7, width: 5 }, heads: 1, shifts: 1 }, 2],
  // All-zero memory at the start: the write heads' first cosines are 0 / epsilon^2-guarded norms.
  ['B=2, H=3, N=6, W=3, S=3, initial value 0', { memory: { slots: 6, width: 3, initialValue: 0 }, heads: 3, shifts: 3 }, 2],
  ['B=3, H=2, N=10, W=6, S=3', { memory: { slots: 10, width: 6 }, heads: 2, shifts: 3 }, 3],
  // 5 heads: a full block of four and a padded one; 5 offsets; memory starting at 0.5.
  ['B=2, H=5, N=9, W=4, S=5, initial value 0.5', { memory: { slots: 9, width: 4, initialValue: 0.5 }, heads: 5, shifts: 5 }, 2],
];

// The plain step runs on cpu and on tfjs' wasm backend (whose kernels round differently). Mutation runs
// (vitest.mutation.config.ts sets MANN_MUTATION_RUN) compare on cpu only: every line of fast_ntm.ts and
// fast_ntm_wasm.ts is reached by the cpu comparison, and the wasm one adds tfjs' kernels, which no mutant changes.
const PLAIN_BACKENDS = process.env.MANN_MUTATION_RUN ? (['cpu'] as const) : (['cpu', 'wasm'] as const);

// Every test below runs with each implementation of the fast step: WebAssembly SIMD (the default in Node,
// fast_ntm_wasm.ts) and the JavaScript loops (the fallback, and the reference src/ntm_wasm.test.ts compares the
// wasm run with).
describe.each(['wasm', 'js'] as const)('with setNtmImplementation(%s)', (implementation) => {
  beforeAll(() => setNtmImplementation(implementation));
  afterAll(() => setNtmImplementation('auto'));

  it('runs that implementation', () => {
    expect(ntmImplementation()).toBe(implementation);
  });

  // The cheap tests first (a mutant's run stops at its first failure), the rollouts against tfjs after.
  describe('ntm.fast', () => {
    it('is ntmFast with ntm’s options', () => {
      const scheme = ntm({ memory: { slots: 128, width: 40 }, heads: 4 });
      expect(scheme.fast).toBeDefined();
      // Paper size: parameterSize 688 per episode, reads 4 * 40.
      const reads = scheme.fast!.start(2).forward(new Float32Array(2 * 688));
      expect(reads.length).toBe(2 * 160);
      // Zero parameters: zero keys (uniform content), gate 1/2, uniform shift, gamma 1 + log 2; erase 1/2, add 0.
      // Reads are a weighted mean of the 1e-6-filled memory, halved where the write heads erased.
      expect(Math.max(...reads)).toBeLessThanOrEqual(1e-6 + 1e-12);
      expect(Math.min(...reads)).toBeGreaterThan(0);
    });

    it('has the gradient central differences of its own forward give (tiny size)', () => {
      // B = 1, H = 2, N = 5, W = 3, S = 3, T = 3 steps: 3 * 48 parameters, each moved by +-eps.
      // The forward is float32, so a central difference (L(p + eps) - L(p - eps)) / 2 eps carries a rounding error
      // of ~1e-7 |L| / eps plus a truncation error eps^2 |L'''| / 6. Measured worst |analytic - numeric| /
      // max(1, |numeric|): 1.3e-4 with eps = 1e-3 (rounding dominates), 4e-5 with eps = 1e-2. With eps = 1e-2 a
      // tolerance of 1e-3 is 25x that, and far below a real mistake (each broken term tried moved some gradient by
      // 1e-2 or more).
      const options = { memory: { slots: 5, width: 3, initialValue: 0.2 }, heads: 2, shifts: 3 };
      const memory = { ...options.memory, initialValue: 0.2 };
      const fast = ntmFast({ memory, heads: 2, shifts: 3 });
      const parameterSize = ntm(options).parameterSize;
      const steps = 3;
      const { parameters, readGradients } = inputs(parameterSize, 2 * 3, 1, 41, steps);
      const loss = (ps: Float32Array[]): number => {
        const run = fast.start(1);
        let sum = 0;
        ps.forEach((p, t) => {
          const reads = run.forward(p);
          for (let i = 0; i < reads.length; i++) sum += reads[i] * readGradients[t][i];
        });
        return sum;
      };
      const run = fast.start(1);
      parameters.forEach((p) => run.forward(p));
      const analytic: Float32Array[] = [];
      for (let t = steps - 1; t >= 0; t--) analytic[t] = run.backward(readGradients[t]);
      const eps = 1e-2;
      let worst = 0;
      for (let t = 0; t < steps; t++) {
        for (let i = 0; i < parameterSize; i++) {
          const moved = parameters.map((p) => Float32Array.from(p));
          moved[t][i] = parameters[t][i] + eps;
          const up = loss(moved);
          moved[t][i] = parameters[t][i] - eps;
          const down = loss(moved);
          const numeric = (up - down) / (2 * eps);
          worst = Math.max(worst, Math.abs(analytic[t][i] - numeric) / Math.max(1, Math.abs(numeric)));
        }
      }
      expect(worst).toBeLessThanOrEqual(1e-3);
      expect(largest(analytic[0])).toBeGreaterThan(1e-2);
    });

    it('checks its inputs and the order of calls', () => {
      const fast = ntmFast({ memory: { slots: 4, width: 2, initialValue: 1e-6 }, heads: 1, shifts: 3 });
      const run = fast.start(1);
      expect(() => run.forward(new Float32Array(19))).toThrow('ntm.fast forward: parameters must be a Float32Array of length 20, got length 19.');
      expect(() => run.backward(new Float32Array(2))).toThrow('ntm.fast backward: called more often than forward (0 steps).');
      run.forward(new Float32Array(20));
      expect(() => run.backward(new Float32Array(3))).toThrow('ntm.fast backward: readGradient must be a Float32Array of length 2, got length 3.');
      expect(run.backward(new Float32Array(2)).length).toBe(20);
      expect(() => run.forward(new Float32Array(20))).toThrow('ntm.fast forward: the run is already going backward; start a new run.');
      expect(() => ntmFast({ memory: { slots: 4, width: 2, initialValue: 0 }, heads: 1, shifts: 2 })).toThrow(
        'ntmFast: shifts must be an odd positive integer at most slots (4), got 2',
      );
    });
  });

  describe.each(PLAIN_BACKENDS)('ntm.fast against the plain step on %s', (backend) => {
    beforeAll(async () => {
      await useBackend(backend);
    });
    afterAll(async () => {
      await useBackend('cpu');
    });

    it('with zero keys, where the cosine’s epsilon sets the gradient', () => {
      // tanh(0) = 0: the key's norm is sqrt(0 + 1e-16) = 1e-8, every cosine 0 and dL/dk = sum_n dL/dK(n) M(n) /
      // (1e-8 ||M(n)||), ~1e7 here, so those keys' gradients measure the epsilon itself (1e-6 would make them
      // 100x smaller). Compared relative to the step's largest entry: they are sums of 1e7-sized terms that
      // partly cancel, so their float32 noise is ~1e-6 of the largest. Not at step 0: the memory is still uniform
      // there, so the zero write key's exact gradient is 0 = a cancellation of 1e8-sized terms (noise on both sides).
      const options = { memory: { slots: 6, width: 3 }, heads: 2, shifts: 3 };
      const batch = 2;
      const steps = 3;
      const scheme = ntm(options);
      const { parameters, readGradients } = inputs(scheme.parameterSize, 2 * 3, batch, 61, steps);
      const groupSize = 2 * (3 + 3 + 3);
      for (const p of parameters) {
        for (let b = 0; b < batch; b++) {
          // Read head 0's and write head 1's keys.
          for (const at of [0, groupSize + 3]) p.fill(0, b * scheme.parameterSize + at, b * scheme.parameterSize + at + 3);
        }
      }
      const plain = plainRollout(options, batch, parameters, readGradients);
      const fast = fastRollout(options, batch, parameters, readGradients);
      for (let t = 0; t < steps; t++) {
        expect(maxAbsDifference(fast.reads[t], plain.reads[t])).toBeLessThanOrEqual(READ_TOLERANCE);
        if (t === 0) continue;
        const scale = largest(plain.parameterGradients[t]);
        expect(scale).toBeGreaterThan(1e6);
        expect(maxAbsDifference(fast.parameterGradients[t], plain.parameterGradients[t]), `step ${t}`).toBeLessThanOrEqual(GRADIENT_TOLERANCE * scale);
      }
    });

    it.each(cases)('reads over 8 steps, %s', (_, options, batch) => {
      const scheme = ntm(options);
      const { parameters, readGradients } = inputs(scheme.parameterSize, scheme.heads * scheme.memory.width, batch, 11);
      const plain = plainRollout(options, batch, parameters, readGradients, { gradients: false });
      const fast = fastRollout(options, batch, parameters, readGradients);
      for (let t = 0; t < STEPS; t++) {
        expect(fast.reads[t].length).toBe(batch * scheme.heads * scheme.memory.width);
        expect(maxAbsDifference(fast.reads[t], plain.reads[t]), `step ${t}`).toBeLessThanOrEqual(READ_TOLERANCE);
      }
      // Not vacuous: the reads vary (the memory is written), and the last step's are not near the initial value.
      expect(largest(plain.reads[STEPS - 1])).toBeGreaterThan(0.05);
    });

    it.each(cases)('dL/dparameters of every step, %s', (_, options, batch) => {
      const scheme = ntm(options);
      const { parameters, readGradients } = inputs(scheme.parameterSize, scheme.heads * scheme.memory.width, batch, 23);
      const plain = plainRollout(options, batch, parameters, readGradients);
      const fast = fastRollout(options, batch, parameters, readGradients);
      for (let t = 0; t < STEPS; t++) {
        const scale = Math.max(1, largest(plain.parameterGradients[t]));
        expect(maxAbsDifference(fast.parameterGradients[t], plain.parameterGradients[t]), `step ${t}`).toBeLessThanOrEqual(GRADIENT_TOLERANCE * scale);
      }
      // Not vacuous: the first step's parameters (reaching the loss through 7 later steps' memory and weights)
      // have gradients well above the tolerance.
      expect(largest(plain.parameterGradients[0])).toBeGreaterThan(1e-2);
    });

  });

});

// ntmFast is exported: it checks the options `ntm` would have resolved for it.
describe('ntmFast options', () => {
  const memory = { slots: 4, width: 2, initialValue: 1e-6 };
  const memoryError = (got: string) => `ntmFast: memory must be { slots, width, initialValue } (positive integers, a finite number), got ${got}`;

  it('refuses a memory that is not resolved', () => {
    expect(() => ntmFast({ memory: { ...memory, slots: 0 }, heads: 1, shifts: 1 })).toThrow(memoryError('{"slots":0,"width":2,"initialValue":0.000001}'));
    expect(() => ntmFast({ memory: { ...memory, slots: 2.5 }, heads: 1, shifts: 1 })).toThrow(memoryError('{"slots":2.5,"width":2,"initialValue":0.000001}'));
    expect(() => ntmFast({ memory: { ...memory, width: 0 }, heads: 1, shifts: 1 })).toThrow(memoryError('{"slots":4,"width":0,"initialValue":0.000001}'));
    expect(() => ntmFast({ memory: { ...memory, width: 1.5 }, heads: 1, shifts: 1 })).toThrow(memoryError('{"slots":4,"width":1.5,"initialValue":0.000001}'));
    expect(() => ntmFast({ memory: { slots: 4, width: 2 } as typeof memory, heads: 1, shifts: 1 })).toThrow(memoryError('{"slots":4,"width":2}'));
    expect(() => ntmFast({ memory: { ...memory, initialValue: Infinity }, heads: 1, shifts: 1 })).toThrow(memoryError('{"slots":4,"width":2,"initialValue":null}'));
  });

  it('refuses heads, shifts and batches that are not positive integers (shifts odd, at most the slots)', () => {
    expect(() => ntmFast({ memory, heads: 0, shifts: 1 })).toThrow('ntmFast: heads must be a positive integer, got 0');
    expect(() => ntmFast({ memory, heads: 1.5, shifts: 1 })).toThrow('ntmFast: heads must be a positive integer, got 1.5');
    const shiftsError = (got: string) => `ntmFast: shifts must be an odd positive integer at most slots (4), got ${got}`;
    expect(() => ntmFast({ memory, heads: 1, shifts: 5 })).toThrow(shiftsError('5'));
    expect(() => ntmFast({ memory, heads: 1, shifts: -1 })).toThrow(shiftsError('-1'));
    expect(() => ntmFast({ memory, heads: 1, shifts: '3' as unknown as number })).toThrow(shiftsError('3'));
    // As many shifts as slots is allowed.
    expect(ntmFast({ memory: { ...memory, slots: 3 }, heads: 1, shifts: 3 }).start(1).forward(new Float32Array(20))).toHaveLength(2);
    const fast = ntmFast({ memory, heads: 1, shifts: 3 });
    expect(() => fast.start(0)).toThrow('ntm.fast start: batch must be a positive integer, got 0');
    expect(() => fast.start(1.5)).toThrow('ntm.fast start: batch must be a positive integer, got 1.5');
  });
});
