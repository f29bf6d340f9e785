// Test helpers for the fast runs (fast_lstm.test.ts, fast_feed_forward.test.ts, differentiated_controller.test.ts,
// readme.test.ts): a problem of random inputs, the plain rollout with tfjs autodiff as the reference, and the same
// through a FastController.
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { maxAbsDifference, testRandom } from '@mann/backend/testing';
import { tidyValue } from './fast_run';
import type { Controller, FastController } from './types';

/** Inputs of a T-step run: known [T*B, knownSize], fed_t [B, fedSize], and the loss weights R_t [B, outputSize]. */
export interface Problem {
  steps: number;
  batch: number;
  knownSize: number;
  fedSize: number;
  known: Float32Array;
  feds: Float32Array[];
  weights: Float32Array[];
}

function uniform(size: number, random: () => number, low = -1, high = 1): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = low + (high - low) * random();
  return out;
}

/** Random inputs in [-1, 1) for `controller`, split [knownSize, inputSize - knownSize]. */
export function makeProblem(controller: Controller, steps: number, batch: number, knownSize: number, seed: number): Problem {
  const random = testRandom(seed);
  const fedSize = controller.inputSize - knownSize;
  return {
    steps,
    batch,
    knownSize,
    fedSize,
    known: uniform(steps * batch * knownSize, random),
    feds: Array.from({ length: steps }, () => uniform(batch * fedSize, random)),
    weights: Array.from({ length: steps }, () => uniform(batch * controller.outputSize, random)),
  };
}

/** What a rollout gives: each step's output, dL/d(each step's fed input) and dL/d(each variable), as arrays. */
export interface RolloutResult {
  outputs: Float32Array[];
  fedGradients: Float32Array[];
  variableGradients: Record<string, Float32Array>;
  loss: number;
}

/** The loss sum_t sum(output_t * R_t), in doubles. */
export function lossOf(outputs: Float32Array[], weights: Float32Array[]): number {
  let loss = 0;
  outputs.forEach((output, t) => output.forEach((value, i) => (loss += value * weights[t][i])));
  return loss;
}

/**
 * The reference: `controller.step` rolled out on tensors from `initialState`, and tfjs' autodiff of
 * L = sum_t sum(output_t * R_t) with respect to every fed input and every variable (a variable L does not
 * depend on gets zeros).
 */
export function plainRollout(controller: Controller, p: Problem): RolloutResult {
  return tidyValue(() => {
    const names = Object.keys(controller.variables);
    const variables = names.map((name) => controller.variables[name]);
    const feds = p.fedSize > 0 ? p.feds.map((fed) => tf.tensor2d(fed, [p.batch, p.fedSize])) : [];
    const outputs: Float32Array[] = [];
    const f = (): tf.Scalar => {
      let state = controller.initialState(p.batch);
      let loss = tf.scalar(0);
      for (let t = 0; t < p.steps; t++) {
        const parts: tf.Tensor2D[] = [];
        if (p.knownSize > 0) parts.push(tf.tensor2d(p.known.subarray(t * p.batch * p.knownSize, (t + 1) * p.batch * p.knownSize), [p.batch, p.knownSize]));
        if (p.fedSize > 0) parts.push(feds[t]);
        const input = parts.length === 1 ? parts[0] : (tf.concat(parts, 1) as tf.Tensor2D);
        const next = controller.step(input, state);
        state = next.state;
        outputs.push((next.output.dataSync() as Float32Array).slice());
        loss = tf.add(loss, tf.sum(tf.mul(next.output, tf.tensor2d(p.weights[t], next.output.shape))));
      }
      return loss;
    };
    const { value, grads } = tf.engine().gradients(f, [...feds, ...variables], undefined, true);
    const read = (grad: tf.Tensor | undefined, size: number): Float32Array => (grad ? (grad.dataSync() as Float32Array).slice() : new Float32Array(size));
    const fedGradients = p.feds.map((fed, t) => (p.fedSize > 0 ? read(grads[t], fed.length) : new Float32Array(0)));
    const variableGradients: Record<string, Float32Array> = {};
    names.forEach((name, i) => (variableGradients[name] = read(grads[feds.length + i], variables[i].size)));
    return { outputs, fedGradients, variableGradients, loss: value.dataSync()[0] };
  });
}

/** The same through a FastController run: T forwards, T backwards with dL/d(output_t) = R_t, then gradients. */
export function fastRollout(fast: FastController, p: Problem, options: { backward?: boolean } = {}): RolloutResult {
  const known = tf.tensor2d(p.known, [p.steps * p.batch, p.knownSize]);
  try {
    const run = fast.start(known, p.steps, p.batch);
    const outputs = p.feds.map((fed) => run.forward(fed));
    const result: RolloutResult = { outputs, fedGradients: [], variableGradients: {}, loss: lossOf(outputs, p.weights) };
    if (options.backward === false) return result;
    for (let t = p.steps - 1; t >= 0; t--) result.fedGradients[t] = run.backward(p.weights[t]);
    const grads = run.gradients(known);
    for (const [name, grad] of Object.entries(grads)) result.variableGradients[name] = (grad.dataSync() as Float32Array).slice();
    tf.dispose(Object.values(grads));
    return result;
  } finally {
    known.dispose();
  }
}

/** The largest absolute value over some arrays. */
export function largestOf(arrays: Float32Array[]): number {
  let largest = 0;
  for (const values of arrays) for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}

/**
 * Tolerance of fast vs plain: both compute in float32, the same maths in a different order (the fast runs do the
 * gate and activation maths in JavaScript doubles and round to float32 per array, the plain path rounds after
 * every tfjs kernel, and the matMuls are split differently: known rows for all steps at once, the rest per step).
 * Over 8 steps the rounding differences (~6e-8 relative per operation) accumulate to a few 1e-7 relative to the
 * largest value involved; the gradients here are sums over up to T*B = 24 rows with entries up to ~10, so 1e-5
 * relative to max(1, the largest entry) is ~10-100x the expected float32 noise, yet far below any real mistake: a
 * dropped term (the carried dc of one step, the bias of a deeper layer), a wrong sign or an off-by-one step moves
 * a gradient by the size of that term, 1e-2..1 here.
 */
export const TOLERANCE = 1e-5;

/** Expects `fast` to match `plain`: outputs, fed gradients and every variable's gradient (non-trivial ones). */
export function expectSameRollout(fast: RolloutResult, plain: RolloutResult, variableNames: string[]): void {
  const outputScale = Math.max(1, largestOf(plain.outputs));
  plain.outputs.forEach((output, t) => expect(maxAbsDifference(fast.outputs[t], output), `output of step ${t}`).toBeLessThan(TOLERANCE * outputScale));
  const fedScale = Math.max(1, largestOf(plain.fedGradients));
  plain.fedGradients.forEach((grad, t) => {
    expect(fast.fedGradients[t].length, `fed gradient of step ${t}`).toBe(grad.length);
    expect(maxAbsDifference(fast.fedGradients[t], grad), `fed gradient of step ${t}`).toBeLessThan(TOLERANCE * fedScale);
  });
  expect(Object.keys(fast.variableGradients).sort()).toEqual([...variableNames].sort());
  for (const name of variableNames) {
    const scale = Math.max(1, largestOf([plain.variableGradients[name]]));
    expect(maxAbsDifference(fast.variableGradients[name], plain.variableGradients[name]), name).toBeLessThan(TOLERANCE * scale);
  }
}

/**
 * Central differences of the fast run's loss, (L(x + e) - L(x - e)) / 2e, for every entry of every variable
 * (through `variable.assign`) and every fed input; returns the largest |fast gradient - numeric| / max(1, |numeric|).
 */
export function finiteDifferenceError(controller: Controller, fast: FastController, p: Problem, epsilon: number): number {
  const analytic = fastRollout(fast, p);
  const loss = (): number => lossOf(fastRollout(fast, p, { backward: false }).outputs, p.weights);
  let worst = 0;
  const compare = (a: number, numeric: number): void => {
    worst = Math.max(worst, Math.abs(a - numeric) / Math.max(1, Math.abs(numeric)));
  };
  for (const [name, variable] of Object.entries(controller.variables)) {
    const values = (variable.dataSync() as Float32Array).slice();
    for (let i = 0; i < values.length; i++) {
      const original = values[i];
      const at = (value: number): number => {
        values[i] = value;
        tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
        return loss();
      };
      const numeric = (at(original + epsilon) - at(original - epsilon)) / (2 * epsilon);
      at(original);
      compare(analytic.variableGradients[name][i], numeric);
    }
  }
  p.feds.forEach((fed, t) => {
    for (let i = 0; i < fed.length; i++) {
      const original = fed[i];
      fed[i] = original + epsilon;
      const up = loss();
      fed[i] = original - epsilon;
      const down = loss();
      fed[i] = original;
      compare(analytic.fedGradients[t][i], (up - down) / (2 * epsilon));
    }
  });
  return worst;
}
