import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference } from '@mann/backend/testing';
import { differentiatedController } from './differentiated_controller';
import { makeProblem, plainRollout, TOLERANCE } from './fast_test_helpers';
import { lstm } from './lstm';
import type { Controller, FastController } from './types';

/**
 * A run driven the way a model drives it: forward inside a `tf.customGrad` op over the whole recurrence, backward
 * inside that op's gradFunc, under `tf.variableGrads`. For the differentiated controller this nests one
 * `tf.engine().gradients` inside another's backward pass.
 */
function gradientsThroughCustomOp(controller: Controller, fast: FastController, seed: number): { grads: Record<string, Float32Array>; plain: Record<string, Float32Array> } {
  const problem = makeProblem(controller, 4, 2, 3, seed);
  const { steps, batch } = problem;
  const width = controller.outputSize;
  const names = Object.keys(controller.variables);
  const known = tf.tensor2d(problem.known, [steps * batch, problem.knownSize]);
  const weights = tf.tensor2d(Float32Array.from(problem.weights.flatMap((w) => Array.from(w))), [steps * batch, width]);
  const recurrence = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    expect(args.length - 1).toBe(names.length); // the variables, and customGrad's save function
    const run = fast.start(known, steps, batch);
    const outputs = new Float32Array(steps * batch * width);
    problem.feds.forEach((fed, t) => outputs.set(run.forward(fed), t * batch * width));
    const gradFunc = (dy: tf.Tensor | tf.Tensor[]): tf.Tensor[] => {
      const outputGradient = (Array.isArray(dy) ? dy[0] : dy).dataSync() as Float32Array;
      for (let t = steps - 1; t >= 0; t--) run.backward(outputGradient.slice(t * batch * width, (t + 1) * batch * width));
      const grads = run.gradients(known);
      return names.map((name) => grads[name]);
    };
    return { value: tf.tensor2d(outputs, [steps * batch, width]), gradFunc };
  });
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(recurrence(...names.map((name) => controller.variables[name])), weights)) as tf.Scalar);
  const result: Record<string, Float32Array> = {};
  for (const name of names) result[name] = (grads[controller.variables[name].name].dataSync() as Float32Array).slice();
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([known, weights]);
  return { grads: result, plain: plainRollout(controller, problem).variableGradients };
}

describe.each(['cpu', 'wasm'] as const)('differentiatedController on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each([
    ['differentiatedController(lstm)', (c: Controller) => differentiatedController(c)],
    ['lstm.fast', (c: Controller) => c.fast!],
  ] as const)('%s trains from inside a tf.customGrad gradFunc, as in a model, without leaking', (_, fastOf) => {
    const controller = lstm({ inputSize: 5, units: 4, seed: 6 });
    tf.tidy(() => controller.variables.bias.assign(tf.linspace(-0.5, 0.5, 16)));
    const { grads, plain } = gradientsThroughCustomOp(controller, fastOf(controller), 21);
    for (const name of ['kernel', 'bias']) {
      expect(maxAbsDifference(grads[name], plain[name]), name).toBeLessThan(TOLERANCE * Math.max(1, ...plain[name].map(Math.abs)));
    }
    expect(Math.max(...plain.kernel.map(Math.abs))).toBeGreaterThan(1e-2);
    controller.dispose();
  });

  it('rejects what is not a controller', () => {
    expect(() => differentiatedController({} as never)).toThrow('differentiatedController: expects a Controller (with step and initialState)');
  });

  it('names the controller when its step returns the wrong output', () => {
    const controller = lstm({ inputSize: 2, units: 3 });
    const broken: Controller = { ...controller, name: 'broken', outputSize: 4, step: controller.step.bind(controller), initialState: controller.initialState.bind(controller) };
    const run = differentiatedController(broken).start(tf.zeros([2, 2]) as tf.Tensor2D, 1, 2);
    expect(() => run.forward(new Float32Array(0))).toThrow("differentiatedController(broken) forward: step's output must be [2, 4] (outputSize), got shape [2,3].");
    controller.dispose();
  });
});
