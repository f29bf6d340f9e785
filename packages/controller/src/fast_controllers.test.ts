import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { randomTensor } from '@mann/backend/testing';
import { differentiatedController } from './differentiated_controller';
import { feedForward } from './feed_forward';
import { expectSameRollout, fastRollout, finiteDifferenceError, largestOf, makeProblem, plainRollout } from './fast_test_helpers';
import { lstm } from './lstm';
import type { Controller, FastController } from './types';

/**
 * A small controller of a user's own, for the differentiated fallback: a leaky tanh RNN with a state that does
 * not start at zero (`m`), a state that never reaches the output (`count`) and a variable that is never used
 * (`unused`), whose gradients must come out as zeros.
 *   h' = tanh([x, h] K + b), m' = s(d) m + (1 - s(d)) h', count' = count + 1, output = 2 m' + h'
 */
function leakyRnn(inputSize: number, units: number, seed: number): Controller<{ h: tf.Tensor2D; m: tf.Tensor2D; count: tf.Tensor2D }> {
  const kernel = randomTensor([inputSize + units, units], seed, -0.6, 0.6);
  const bias = randomTensor([units], seed + 1, -0.3, 0.3);
  const decay = randomTensor([units], seed + 2, -1, 1);
  const variables = {
    kernel: tf.variable(kernel, true),
    bias: tf.variable(bias, true),
    decay: tf.variable(decay, true),
    unused: tf.variable(tf.ones([2]), true),
  };
  tf.dispose([kernel, bias, decay]);
  return {
    name: 'leaky-rnn',
    inputSize,
    outputSize: units,
    variables,
    initialState: (batchSize) => ({ h: tf.zeros([batchSize, units]), m: tf.fill([batchSize, units], 0.5), count: tf.zeros([batchSize, 1]) }),
    step: (input, { h, m, count }) =>
      tf.tidy(() => {
        const nextH = tf.tanh(tf.add(tf.matMul(tf.concat([input, h], 1), variables.kernel), variables.bias)) as tf.Tensor2D;
        const keep = tf.sigmoid(variables.decay);
        const nextM = tf.add(tf.mul(keep, m), tf.mul(tf.sub(1, keep), nextH)) as tf.Tensor2D;
        const output = tf.add(tf.mul(nextM, 2), nextH) as tf.Tensor2D;
        return { output, state: { h: nextH, m: nextM, count: tf.add(count, 1) as tf.Tensor2D } };
      }),
    dispose: () => Object.values(variables).forEach((v) => v.dispose()),
  };
}

type Case = [name: string, make: (inputSize: number) => { controller: Controller; fast: FastController }];

const own = (controller: Controller): { controller: Controller; fast: FastController } => ({ controller, fast: controller.fast! });
const generic = (controller: Controller): { controller: Controller; fast: FastController } => ({ controller, fast: differentiatedController(controller) });

const cases: Case[] = [
  ['lstm', (inputSize) => own(lstm({ inputSize, units: 6, seed: 2 }))],
  ['lstm, forget bias 0', (inputSize) => own(lstm({ inputSize, units: 5, forgetBias: 0, seed: 3 }))],
  ['feed-forward, 1 tanh layer', (inputSize) => own(feedForward({ inputSize, units: 6, seed: 4 }))],
  ['feed-forward, 2 tanh layers', (inputSize) => own(feedForward({ inputSize, units: 6, layers: 2, seed: 5 }))],
  ['feed-forward, 1 relu layer', (inputSize) => own(feedForward({ inputSize, units: 6, activation: 'relu', seed: 6 }))],
  ['feed-forward, 2 relu layers', (inputSize) => own(feedForward({ inputSize, units: 6, layers: 2, activation: 'relu', seed: 7 }))],
  ['differentiatedController(lstm)', (inputSize) => generic(lstm({ inputSize, units: 6, seed: 8 }))],
  ['differentiatedController(feed-forward, 2 relu layers)', (inputSize) => generic(feedForward({ inputSize, units: 6, layers: 2, activation: 'relu', seed: 9 }))],
  ['differentiatedController(a custom leaky RNN)', (inputSize) => generic(leakyRnn(inputSize, 5, 10))],
];

// Input width 12 split as [known, fed]: the MANN's case (both), nothing fed (the LSTM baseline), nothing known.
const splits: [string, number][] = [
  ['known 7 + fed 5', 7],
  ['known 12, fed 0', 12],
  ['known 0, fed 12', 0],
];

const STEPS = 8;
const BATCH = 3;

/** Gives the biases non-zero values, so that a dropped or misplaced bias shows. */
function randomiseBiases(controller: Controller, seed: number): void {
  for (const [name, variable] of Object.entries(controller.variables)) {
    if (name.startsWith('bias')) tf.tidy(() => variable.assign(randomTensor(variable.shape, seed++, -0.5, 0.5)));
  }
}

describe.each(['cpu', 'wasm'] as const)('fast controllers on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  describe.each(cases)('%s', (_, make) => {
    it.each(splits)('gives the plain rollout’s outputs and tfjs autodiff’s gradients (%s)', (_split, knownSize) => {
      const { controller, fast } = make(12);
      randomiseBiases(controller, 50);
      const problem = makeProblem(controller, STEPS, BATCH, knownSize, 11);
      const plain = plainRollout(controller, problem);
      const result = fastRollout(fast, problem);
      expectSameRollout(result, plain, Object.keys(controller.variables));
      // Not trivially zero: outputs move, the loss reaches every step's fed input and the variables.
      expect(largestOf(plain.outputs)).toBeGreaterThan(0.1);
      if (problem.fedSize > 0) expect(largestOf(plain.fedGradients)).toBeGreaterThan(1e-2);
      expect(largestOf(Object.values(plain.variableGradients))).toBeGreaterThan(1e-2);
      controller.dispose();
    });

    it('frees every tensor it makes: a forward-only run, and a full run apart from the returned gradients', () => {
      const { controller, fast } = make(12);
      const problem = makeProblem(controller, STEPS, BATCH, 7, 12);
      const known = tf.tensor2d(problem.known, [STEPS * BATCH, 7]);
      const before = tf.memory().numTensors;
      const evaluation = fast.start(known, STEPS, BATCH);
      problem.feds.forEach((fed) => evaluation.forward(fed));
      expect(tf.memory().numTensors).toBe(before);

      const run = fast.start(known, STEPS, BATCH);
      problem.feds.forEach((fed, t) => {
        run.forward(fed);
        if (t === 0) expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1); // at most the pass's kernel slice
      });
      expect(tf.memory().numTensors).toBe(before);
      for (let t = STEPS - 1; t >= 0; t--) run.backward(problem.weights[t]);
      expect(tf.memory().numTensors).toBe(before);
      const grads = run.gradients(known);
      expect(tf.memory().numTensors).toBe(before + Object.keys(controller.variables).length);
      tf.dispose(Object.values(grads));
      expect(tf.memory().numTensors).toBe(before);
      known.dispose();
      controller.dispose();
    });

    it('frees its pass tensors when a call throws, and then refuses further calls', () => {
      const { controller, fast } = make(12);
      const problem = makeProblem(controller, STEPS, BATCH, 7, 13);
      const known = tf.tensor2d(problem.known, [STEPS * BATCH, 7]);
      const before = tf.memory().numTensors;
      const run = fast.start(known, STEPS, BATCH);
      run.forward(problem.feds[0]);
      run.forward(problem.feds[1]);
      expect(() => run.forward(new Float32Array(4))).toThrow(`fed must be a Float32Array of length ${BATCH * 5}, got length 4.`);
      expect(tf.memory().numTensors).toBe(before);
      expect(() => run.forward(problem.feds[2])).toThrow('an earlier call of this run failed');
      expect(tf.memory().numTensors).toBe(before);

      const backwardRun = fast.start(known, STEPS, BATCH);
      problem.feds.forEach((fed) => backwardRun.forward(fed));
      backwardRun.backward(problem.weights[STEPS - 1]);
      expect(() => backwardRun.backward(new Float32Array(1))).toThrow('outputGradient must be a Float32Array');
      expect(tf.memory().numTensors).toBe(before);
      known.dispose();
      controller.dispose();
    });

    it('checks the order of calls', () => {
      const { controller, fast } = make(12);
      const known = tf.zeros([2 * BATCH, 12]) as tf.Tensor2D;
      const run = fast.start(known, 2, BATCH);
      expect(() => run.backward(new Float32Array(BATCH * controller.outputSize))).toThrow('the forward pass is not finished (0 of 2 steps)');
      run.forward(new Float32Array(0));
      expect(() => run.gradients(known)).toThrow('the backward pass is not finished (0 of 2 steps)');
      run.forward(new Float32Array(0));
      expect(() => run.forward(new Float32Array(0))).toThrow('called more than steps = 2 times');
      expect(() => fast.start(tf.zeros([5, 12]) as tf.Tensor2D, 2, BATCH)).toThrow(`known has shape [5,12] but must be [steps * batch, knownSize] = [${2 * BATCH}, knownSize]`);
      tf.dispose(known);
      controller.dispose();
    });
  });

  // Central differences of the fast runs themselves (not via tfjs autodiff), on tiny sizes: every entry of every
  // variable and every fed input. The loss is computed in doubles from float32 outputs, so the numeric gradient
  // carries ~1e-7 * |L| / epsilon ≈ 1e-5 of rounding (|L| ≈ 1) plus epsilon^2 * |L'''| / 6 ≈ 2e-5 of truncation;
  // the worst errors measured are 7e-6..5e-5 (cpu and wasm), and 1e-3 still catches any wrong term, whose size
  // here is ~1e-2..1.
  it.each([
    ['lstm', () => lstm({ inputSize: 3, units: 2, seed: 1 })],
    ['lstm, forget bias 0', () => lstm({ inputSize: 3, units: 3, forgetBias: 0, seed: 2 })],
    ['feed-forward, 2 tanh layers', () => feedForward({ inputSize: 3, units: 3, layers: 2, seed: 3 })],
  ] as const)('%s: its gradient matches central differences of its own forward', (_, make) => {
    const controller = make();
    randomiseBiases(controller, 70);
    const problem = makeProblem(controller, 3, 2, 2, 14);
    const error = finiteDifferenceError(controller, controller.fast!, problem, 1e-2);
    expect(error).toBeLessThan(1e-3);
    controller.dispose();
  });
});
