import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference } from '@mann/backend/testing';
import { differentiatedAddressing } from './differentiated_addressing';
import { lruaInitialRecord, lruaStepForward, type LruaSizes } from './fast_lrua_cell';
import { setLruaImplementation } from './fast_lrua_wasm';
import { NtmJsRun, ntmSizes } from './fast_ntm';
import { activeNtmWasm, setNtmImplementation, type NtmWasmRun } from './fast_ntm_wasm';
import { lrua } from './lrua';
import { ntm } from './ntm';
import { atanh, fastRollout, inverseSoftplus, plainRollout, type Rollout } from './test_utils';
import type { AddressingScheme } from './types';

// Steps small enough to work out by hand, which every implementation must reproduce: the plain step (tfjs), the
// fast step in JavaScript and in WebAssembly, and differentiatedAddressing. The other tests compare the
// implementations with each other (wasm with JavaScript, fast with plain), so a mistake they all share would pass
// there; these values come from the paper's formulas alone (and agree with a float64 re-computation).

const TOLERANCE = 1e-5;

function expectValues(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  expect(maxAbsDifference(actual, expected), what).toBeLessThanOrEqual(TOLERANCE);
}

/** A rollout of `scheme` by one implementation: T steps forward, then backward (see test_utils). */
type Implementation = (scheme: AddressingScheme, parameters: Float32Array[], readGradients: Float32Array[]) => Rollout;

function fastWith(choice: 'js' | 'wasm'): Implementation {
  return (scheme, parameters, readGradients) => {
    setLruaImplementation(choice);
    setNtmImplementation(choice);
    try {
      return fastRollout(scheme.fast!, 1, parameters, readGradients);
    } finally {
      setLruaImplementation('auto');
      setNtmImplementation('auto');
    }
  };
}

const IMPLEMENTATIONS: [string, Implementation][] = [
  ['the plain step (tfjs)', (scheme, parameters, readGradients) => plainRollout(scheme, 1, parameters, readGradients)],
  ['fast, JavaScript', fastWith('js')],
  ['fast, WebAssembly', fastWith('wasm')],
  ['differentiatedAddressing', (scheme, parameters, readGradients) => fastRollout(differentiatedAddressing(scheme), 1, parameters, readGradients)],
];

beforeAll(async () => {
  await useBackend('cpu');
});

// LRUA, 1 head, 3 slots of width 2, decay 0.5, memory starting at 1e-6. Parameters: key (2), gate logit (1).
// Step 1: k = tanh(atanh([0.5, -0.5])) = [0.5, -0.5], gate logit 0 (sigmoid 0.5).
// - usage [0, 0, 0]: least used slot 0 (ties to the lower index), the one cleared;
// - w^w = 0.5 * w^r_0 + 0.5 * [1, 0, 0] = [0.5, 0, 0] (w^r_0 = 0);
// - M: slot 0 = 0 + 0.5 k = [0.25, -0.25]; slots 1, 2 keep [1e-6, 1e-6];
// - cos(k, slot 0) = 1, cos(k, [1e-6, 1e-6]) = 0: w^r = softmax([1, 0, 0]) = [e, 1, 1] / (e + 2)
//   = [0.576117, 0.211942, 0.211942];
// - r = 0.576117 * [0.25, -0.25] + 2 * 0.211942 * [1e-6, 1e-6] = [0.144030, -0.144029];
// - w^u = 0.5 * 0 + w^r + w^w = [1.076117, 0.211942, 0.211942].
// Step 2: k = [0.5, 0.5], gate logit 0.
// - least used: slots 1 and 2 tie at 0.211942, slot 1 wins and is cleared;
// - w^w = 0.5 * [0.576117, 0.211942, 0.211942] + 0.5 * [0, 1, 0] = [0.288058, 0.605971, 0.105971];
// - M: slot 0 = [0.25, -0.25] + 0.288058 * [0.5, 0.5] = [0.394029, -0.105971];
//      slot 1 = 0 + 0.605971 * [0.5, 0.5] = [0.302985, 0.302985];
//      slot 2 = [1e-6, 1e-6] + 0.105971 * [0.5, 0.5] = [0.052986, 0.052986];
// - cos(k, slot 0) = 0.5 * (0.394029 - 0.105971) / (0.707107 * sqrt(0.394029^2 + 0.105971^2))
//   = 0.144029 / (0.707107 * 0.408031) = 0.499198; slots 1 and 2 are parallel to k: cos 1;
//   w^r = [e^0.499198, e, e] / (e^0.499198 + 2e) = [1.647406, 2.718282, 2.718282] / 7.083970
//   = [0.232553, 0.383723, 0.383723];
// - r = 0.232553 * [0.394029, -0.105971] + 0.383723 * ([0.302985, 0.302985] + [0.052986, 0.052986])
//   = [0.091633 + 0.136595, -0.024644 + 0.136595] = [0.228228, 0.111951];
// - w^u = 0.5 * [1.076117, 0.211942, 0.211942] + w^r + w^w
//   = [0.538058 + 0.232553 + 0.288058, 0.105971 + 0.383723 + 0.605971, 0.105971 + 0.383723 + 0.105971]
//   = [1.058670, 1.095665, 0.595665].
const LRUA_SIZES: LruaSizes = { batch: 1, heads: 1, slots: 3, width: 2, decay: 0.5 };
const LRUA_PARAMETERS = [new Float32Array([atanh(0.5), atanh(-0.5), 0]), new Float32Array([atanh(0.5), atanh(0.5), 0])];
const LRUA_STEPS = [
  {
    leastUsed: [1, 0, 0],
    writeWeights: [0.5, 0, 0],
    memory: [0.25, -0.25, 1e-6, 1e-6, 1e-6, 1e-6],
    readWeights: [0.576117, 0.211942, 0.211942],
    reads: [0.14403, -0.144029],
    usage: [1.076117, 0.211942, 0.211942],
  },
  {
    leastUsed: [0, 1, 0],
    writeWeights: [0.288058, 0.605971, 0.105971],
    memory: [0.394029, -0.105971, 0.302985, 0.302985, 0.052986, 0.052986],
    readWeights: [0.232553, 0.383723, 0.383723],
    reads: [0.228228, 0.111951],
    usage: [1.05867, 1.095665, 0.595665],
  },
];

// The gradient of L = r_1 . [1, 0] (step 2's reads not in the loss) with respect to step 1's parameters.
// After step 1, slot 0 = (1 - s) k with s = sigmoid(gate): parallel to k whatever the gate, so cos(k, slot 0) = 1
// and the read weights do not depend on the gate; slots 1 and 2 are [1e-6, 1e-6], so with c = cos(k, [1, 1])
// w^r = softmax([1, c, c]) and r_a = w_0 (1 - s) k_a (+ terms of order 1e-6).
// - gate: dr_a/dgate = -w_0 s (1 - s) k_a = -0.576117 * 0.25 * 0.5 = -0.072015;
// - keys, through k = tanh(x) (dk/dx = 1 - k^2 = 0.75): dc/dk_a = dc/dk_b = 1 / (|k| sqrt 2) = 1 at k = [0.5, -0.5],
//   dw_0/dc = -w_0 (w_1 + w_2) = -0.576117 * 0.423883 = -0.244209, so
//   dr_a/dk_a = w_0 (1 - s) + (1 - s) k_a dw_0/dc = 0.288058 - 0.25 * 0.244209 = 0.227006 -> * 0.75 = 0.170255;
//   dr_a/dk_b = (1 - s) k_a dw_0/dc = -0.061052 -> * 0.75 = -0.045789 (-0.045787 with the 1e-6 terms).
const LRUA_GRADIENT = [0.170255, -0.045788, -0.072015];

describe('an LRUA step by hand', () => {
  afterEach(() => setLruaImplementation('auto'));

  it.each(['js', 'wasm'] as const)('the fast step in %s: every record of two steps', (choice) => {
    setLruaImplementation(choice);
    let record = lruaInitialRecord(LRUA_SIZES, 1e-6);
    LRUA_STEPS.forEach((expected, t) => {
      record = lruaStepForward(LRUA_PARAMETERS[t], record, LRUA_SIZES);
      expect(Array.from(record.leastUsed), `step ${t + 1} leastUsed`).toEqual(expected.leastUsed);
      // The paper's clearing: the one least-used slot (here the whole 1-slot mask).
      expect(Array.from(record.cleared), `step ${t + 1} cleared`).toEqual(expected.leastUsed);
      for (const name of ['writeWeights', 'memory', 'readWeights', 'reads', 'usage'] as const) {
        expectValues(record[name], expected[name], `step ${t + 1} ${name}`);
      }
    });
  });

  it.each(IMPLEMENTATIONS)('%s: reads of two steps and the gradient of the first', (_, implementation) => {
    const scheme = lrua({ memory: { slots: 3, width: 2 }, heads: 1, decay: 0.5 });
    const run = implementation(scheme, LRUA_PARAMETERS, [new Float32Array([1, 0]), new Float32Array(2)]);
    expectValues(run.reads[0], LRUA_STEPS[0].reads, 'step 1 reads');
    expectValues(run.reads[1], LRUA_STEPS[1].reads, 'step 2 reads');
    expectValues(run.parameterGradients[0], LRUA_GRADIENT, 'step 1 dL/dparameters');
    expectValues(run.parameterGradients[1], [0, 0, 0], 'step 2 dL/dparameters');
  });
});

// NTM addressing, 1 read and 1 write head, 3 slots of width 2, 3 shifts, memory starting at 1. Each head: zero key
// (cosines 0, so the content weights are uniform [1/3, 1/3, 1/3] whatever the memory), strength logit 0, gate
// logit 0 (g = 0.5), sharpening logit softplus^-1(1) (gamma = 2). Shift logits: the write head [-30, -30, 0]
// (offset +1, softmax [0, 0, 1] in float32), the read head [-30, 0, -30] (no shift). Erase logits 0 (e = 0.5),
// add tanh^-1([0.5, -0.5]).
// - Both heads interpolate 0.5 * [1/3, 1/3, 1/3] + 0.5 * [1, 0, 0] (one-hot on slot 0) = [2/3, 1/6, 1/6].
// - Write head: shift +1 moves slot j to j + 1: [1/6, 2/3, 1/6]; gamma 2: [1/36, 4/9, 1/36] / (1/2)
//   = [1/18, 8/9, 1/18].
// - Erase: slot 1 * (1 - 8/9 * 0.5) = 5/9, slots 0 and 2 * (1 - 1/18 * 0.5) = 35/36; add w a:
//   slot 1 = [5/9 + 4/9, 5/9 - 4/9] = [1, 1/9], slots 0 and 2 = [35/36 + 1/36, 35/36 - 1/36] = [1, 17/18].
// - Read head: no shift; gamma 2: [4/9, 1/36, 1/36] / (1/2) = [8/9, 1/18, 1/18].
// - r = 8/9 [1, 17/18] + 1/18 [1, 1/9] + 1/18 [1, 17/18] = [1, 136/162 + 1/162 + 8.5/162] = [1, 291/324].
// (Reads alone cannot tell the shift's direction: mirroring the slots, n -> -n mod 3, maps the initial state onto
// itself, so offset -1 gives the same reads with slot 2 written instead of slot 1. The write weights can.)
const sharpen = inverseSoftplus(1);
const NTM_PARAMETERS = new Float32Array([
  ...[0, 0, 0, 0, -30, 0, -30, sharpen], // read head: key, strength, gate, shift, sharpening
  ...[0, 0, 0, 0, -30, -30, 0, sharpen], // write head
  ...[0, 0, atanh(0.5), atanh(-0.5)], // erase, add
]);
const NTM_WRITE_WEIGHTS = [1 / 18, 8 / 9, 1 / 18];
const NTM_READ_WEIGHTS = [8 / 9, 1 / 18, 1 / 18];
const NTM_MEMORY = [1, 17 / 18, 1, 1 / 9, 1, 17 / 18];
const NTM_READS = [1, 291 / 324];

// The gradient of L = r . [1, 2]. The read key is zero, so the read weights do not depend on the memory, and
// r = sum_n w^r(n) M(n) with M(n) = M_0(n) (1 - w^w(n) e) + w^w(n) a, M_0 = 1:
// - add: dr_j/da_j = sum_n w^r(n) w^w(n) = 8/9 * 1/18 + 1/18 * 8/9 + 1/18 * 1/18 = 33/324; through tanh (1 - a^2 =
//   0.75): dL/d(add logits) = [1, 2] * 33/324 * 0.75 = [0.076389, 0.152778];
// - erase: dr_j/de_j = -33/324; through sigmoid (e (1 - e) = 0.25): dL/d(erase logits) = [-0.025463, -0.050926];
// - read gate: dw^r/dg through the interpolation, d[2/3, 1/6, 1/6]/dg = [-2/3, 1/3, 1/3], and the sharpening
//   w = x^2 / Q (Q = sum x^2 = 1/2): dw_n = (2/Q) (x_n dx_n - w_n sum_m x_m dx_m), sum_m x_m dx_m = -4/9 + 1/9 = -1/3:
//   dw^r/dg = 4 * [-4/9 + 8/27, 1/18 + 1/54, 1/18 + 1/54] = [-16/27, 8/27, 8/27]; dr/dg = [0, 8/27 (1/9 + 17/18
//   - 2 * 17/18)] = [0, -120/486]; through the sigmoid (0.25) and . [1, 2]: -60/486 = -10/81 = -0.123457.
const NTM_GRADIENTS: [number, number][] = [
  [3, -10 / 81], // read gate logit (after the key's 2 numbers and the strength)
  [16, -0.025463],
  [17, -0.050926],
  [18, 0.076389],
  [19, 0.152778],
];

describe('an NTM step by hand', () => {
  afterEach(() => setNtmImplementation('auto'));

  it('the plain step: weights, memory and reads', () => {
    const scheme = ntm({ memory: { slots: 3, width: 2, initialValue: 1 }, heads: 1 });
    expect(scheme.parameterSize).toBe(NTM_PARAMETERS.length);
    const { reads, state } = tf.tidy(() => scheme.step(tf.tensor2d(NTM_PARAMETERS, [1, NTM_PARAMETERS.length]), scheme.initialState(1)));
    expectValues(state.writeWeights.dataSync(), NTM_WRITE_WEIGHTS, 'write weights');
    expectValues(state.readWeights.dataSync(), NTM_READ_WEIGHTS, 'read weights');
    expectValues(state.memory.dataSync(), NTM_MEMORY, 'memory');
    expectValues(reads.dataSync(), NTM_READS, 'reads');
    tf.dispose([reads, ...Object.values(state)]);
  });

  it.each(['js', 'wasm'] as const)('the fast run in %s: weights and memory in its record', (choice) => {
    const sizes = ntmSizes(1, 1, 3, 2, 3);
    setNtmImplementation(choice);
    const run = choice === 'js' ? new NtmJsRun(sizes, 1) : activeNtmWasm()!.start(sizes, 1);
    expectValues(run.forward(NTM_PARAMETERS), NTM_READS, 'reads');
    const record = run instanceof NtmJsRun ? run.records[1] : (run as NtmWasmRun).record(1);
    expectValues(record.write.interpolated, [2 / 3, 1 / 6, 1 / 6], 'write head interpolated');
    expectValues(record.write.shifted, [1 / 6, 2 / 3, 1 / 6], 'write head shifted');
    expectValues(record.write.weights, NTM_WRITE_WEIGHTS, 'write weights');
    expectValues(record.read.weights, NTM_READ_WEIGHTS, 'read weights');
    expectValues(record.erase, [0.5, 0.5], 'erase');
    expectValues(record.memory, NTM_MEMORY, 'memory');
  });

  it.each(IMPLEMENTATIONS)('%s: reads and gradients', (_, implementation) => {
    const scheme = ntm({ memory: { slots: 3, width: 2, initialValue: 1 }, heads: 1 });
    const run = implementation(scheme, [NTM_PARAMETERS], [new Float32Array([1, 2])]);
    expectValues(run.reads[0], NTM_READS, 'reads');
    for (const [index, value] of NTM_GRADIENTS) expectValues([run.parameterGradients[0][index]], [value], `dL/dparameters[${index}]`);
  });
});
