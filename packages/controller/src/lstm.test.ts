import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference, randomTensor, tensorCountAfterSteps } from '@mann/backend/testing';
import { lstm } from './lstm';
import { glorotUniform } from './glorot_uniform';
import { lstmStep } from './lstm_step';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('lstm', () => {
  it('has the documented name, sizes and variables', () => {
    const controller = lstm({ inputSize: 5, units: 3 });
    expect(controller.name).toBe('lstm');
    expect(controller.inputSize).toBe(5);
    expect(controller.outputSize).toBe(3);
    expect(Object.keys(controller.variables).sort()).toEqual(['bias', 'kernel']);
    expect(controller.variables.kernel.shape).toEqual([8, 12]);
    expect(controller.variables.bias.shape).toEqual([12]);
    expect(controller.variables.kernel.trainable).toBe(true);
    expect(Array.from(controller.variables.bias.dataSync())).toEqual(new Array(12).fill(0));
    // Glorot limit sqrt(6 / (8 + 12)) = 0.5477
    const kernel = controller.variables.kernel.dataSync();
    expect(Math.max(...kernel.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 20));
    expect(Math.max(...kernel.map(Math.abs))).toBeGreaterThan(0.4);
    controller.dispose();
  });

  it('defaults to 200 units', () => {
    const controller = lstm({ inputSize: 405 });
    expect(controller.outputSize).toBe(200);
    expect(controller.variables.kernel.shape).toEqual([605, 800]);
    controller.dispose();
  });

  it('steps with the values computed by hand from variables set by hand', () => {
    // The same numbers as lstmStep's hand-computed test, through the controller: see lstm_step.test.ts for
    // the arithmetic (i = [0, 1], f = [0, -1] + forgetBias 1, g = [0.5, -0.5], o = [2, 0] before activation).
    const controller = lstm({ inputSize: 2, units: 2 });
    const kernel = tf.buffer([4, 8], 'float32');
    kernel.set(1, 0, 0);
    kernel.set(-1, 3, 1);
    kernel.set(0.25, 1, 4);
    kernel.set(-1, 2, 5);
    controller.variables.kernel.assign(kernel.toTensor());
    controller.variables.bias.assign(tf.tensor1d([-1, 0, 0, -1, 0, 0, 2, 0]));
    const { output, state } = controller.step(tf.tensor2d([[1, 2]]), { h: tf.tensor2d([[0.5, -1]]), c: tf.tensor2d([[1, -2]]) });
    expect(maxAbsDifference(state.c, [0.9621172, -1.3378347])).toBeLessThan(1e-6);
    expect(maxAbsDifference(state.h, [0.6563874, -0.4355756])).toBeLessThan(1e-6);
    expect(output).toBe(state.h);
    controller.dispose();
  });

  it('adds forgetBias at every step without storing it in the bias', () => {
    // All weights zero: every gate pre-activation is 0, so with forgetBias b:
    // c_t = sigmoid(b) * c + sigmoid(0) * tanh(0) = sigmoid(b) * c. With c = 1: sigmoid(3) = 0.9525741.
    const controller = lstm({ inputSize: 1, units: 1, forgetBias: 3 });
    controller.variables.kernel.assign(tf.zeros([2, 4]));
    const { state } = controller.step(tf.tensor2d([[1]]), { h: tf.tensor2d([[0]]), c: tf.tensor2d([[1]]) });
    expect(maxAbsDifference(state.c, [0.9525741])).toBeLessThan(1e-6);
    expect(Array.from(controller.variables.bias.dataSync())).toEqual([0, 0, 0, 0]);
    controller.dispose();
  });

  it('starts from zero state', () => {
    const controller = lstm({ inputSize: 2, units: 3 });
    const state = controller.initialState(4);
    expect(state.h.shape).toEqual([4, 3]);
    expect(state.c.shape).toEqual([4, 3]);
    expect(maxAbsDifference(state.h, new Array(12).fill(0))).toBe(0);
    expect(maxAbsDifference(state.c, new Array(12).fill(0))).toBe(0);
    controller.dispose();
  });

  it('trains through its variables: the gradients of a step equal those of lstmStep', () => {
    const controller = lstm({ inputSize: 3, units: 2, seed: 4 });
    const x = randomTensor([2, 3], 1) as tf.Tensor2D;
    const state = { h: randomTensor([2, 2], 2) as tf.Tensor2D, c: randomTensor([2, 2], 3) as tf.Tensor2D };
    const { grads } = tf.variableGrads(() => tf.sum(controller.step(x, state).output) as tf.Scalar);
    const [kernelGrad, biasGrad] = tf.grads((k: tf.Tensor, b: tf.Tensor) =>
      tf.sum(lstmStep(x, state.h, state.c, k as tf.Tensor2D, b as tf.Tensor1D, 1).h),
    )([controller.variables.kernel, controller.variables.bias]);
    expect(maxAbsDifference(grads[controller.variables.kernel.name], kernelGrad)).toBeLessThan(1e-7);
    expect(maxAbsDifference(grads[controller.variables.bias.name], biasGrad)).toBeLessThan(1e-7);
    expect(maxAbsDifference(biasGrad, new Array(8).fill(0))).toBeGreaterThan(1e-3);
    controller.dispose();
  });

  it('gives identical weights for the same seed and different ones for different seeds', () => {
    const a = lstm({ inputSize: 3, units: 4, seed: 7 });
    const b = lstm({ inputSize: 3, units: 4, seed: 7 });
    const c = lstm({ inputSize: 3, units: 4, seed: 8 });
    expect(maxAbsDifference(a.variables.kernel, b.variables.kernel)).toBe(0);
    expect(maxAbsDifference(a.variables.kernel, c.variables.kernel)).toBeGreaterThan(0.1);
    [a, b, c].forEach((controller) => controller.dispose());
  });

  it('does not leak tensors over 100 steps inside tf.tidy', () => {
    const controller = lstm({ inputSize: 3, units: 4 });
    const input = randomTensor([2, 3], 1) as tf.Tensor2D;
    let state = controller.initialState(2);
    const counts = tensorCountAfterSteps(() => {
      const next = tf.tidy(() => controller.step(input, state).state);
      tf.dispose(state);
      state = next;
    }, 100);
    expect(counts.afterLast).toBe(counts.afterFirst);
    // And the state really moved: h is no longer zero.
    expect(maxAbsDifference(state.h, new Array(8).fill(0))).toBeGreaterThan(1e-3);
    tf.dispose([state, input]);
    controller.dispose();
  });

  it('disposes its variables, once', () => {
    const before = tf.memory().numTensors;
    const controller = lstm({ inputSize: 3, units: 4 });
    expect(tf.memory().numTensors).toBe(before + 2);
    controller.dispose();
    controller.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(controller.variables.kernel.isDisposed).toBe(true);
    expect(() => controller.initialState(1)).toThrow('lstm.initialState: the controller has been disposed.');
  });

  it('can be built many times (variables are not named)', () => {
    const controllers = [lstm({ inputSize: 1, units: 1 }), lstm({ inputSize: 1, units: 1 })];
    expect(controllers[0].variables.kernel.name).not.toBe(controllers[1].variables.kernel.name);
    controllers.forEach((controller) => controller.dispose());
  });

  it('rejects bad configurations, naming the option', () => {
    expect(() => lstm({ inputSize: 0 })).toThrow('lstm: inputSize must be a positive integer, got 0.');
    expect(() => lstm({ inputSize: 2.5 })).toThrow('lstm: inputSize must be a positive integer, got 2.5.');
    expect(() => lstm({ inputSize: 3, units: -1 })).toThrow('lstm: units must be a positive integer, got -1.');
    expect(() => lstm({ inputSize: 3, forgetBias: Infinity })).toThrow('lstm: forgetBias must be a finite number, got Infinity.');
    expect(() => lstm({ inputSize: 3, seed: 0.5 })).toThrow('lstm: seed must be an integer, got 0.5.');
    expect(() => lstm(undefined as never)).toThrow('lstm: options must be an object like { inputSize: 305 }, got undefined.');
    expect(() => lstm(null as never)).toThrow('lstm: options must be an object like { inputSize: 305 }, got null.');
    expect(() => lstm(305 as never)).toThrow('lstm: options must be an object like { inputSize: 305 }, got 305.');
    // Beyond 2^53 integers are no longer exact, so a seed there is refused too.
    expect(() => lstm({ inputSize: 3, seed: 2 ** 53 })).toThrow('lstm: seed must be an integer, got 9007199254740992.');
    expect(() => lstm({ inputSize: 3, units: 1, seed: -(2 ** 53 - 1) }).dispose()).not.toThrow();
  });

  it('draws its kernel as glorotUniform([inputSize + units, 4 * units], seed), seed 0 by default', () => {
    const controller = lstm({ inputSize: 3, units: 2 });
    expect(maxAbsDifference(controller.variables.kernel, glorotUniform([5, 8], 0))).toBe(0);
    const seeded = lstm({ inputSize: 3, units: 2, seed: 5 });
    expect(maxAbsDifference(seeded.variables.kernel, glorotUniform([5, 8], 5))).toBe(0);
    [controller, seeded].forEach((c) => c.dispose());
  });

  it('rejects bad inputs and states, naming the shapes', () => {
    const controller = lstm({ inputSize: 305, units: 2 });
    const state = controller.initialState(16);
    expect(() => controller.step(tf.zeros([16, 300]) as tf.Tensor2D, state)).toThrow(
      'lstm.step: input has shape [16,300] but the controller was built for inputSize 305',
    );
    expect(() => controller.step(tf.zeros([16, 1, 305]) as never, state)).toThrow(
      'lstm.step: input has shape [16,1,305] but must be rank 2, [batch, inputSize] = [batch, 305].',
    );
    expect(() => controller.step(tf.zeros([8, 305]) as tf.Tensor2D, state)).toThrow(
      'lstm.step: state.h has shape [16,2] but must be [8,2].',
    );
    expect(() => controller.step(tf.zeros([16, 305]) as tf.Tensor2D, { h: state.h, c: tf.zeros([16, 3]) as tf.Tensor2D })).toThrow(
      'lstm.step: state.c has shape [16,3] but must be [16,2].',
    );
    expect(() => controller.step(tf.zeros([16, 305]) as tf.Tensor2D, { h: state.h } as never)).toThrow(
      'lstm.step: state.c must be a tf.Tensor of shape [16,2], got undefined.',
    );
    expect(() => controller.initialState(0)).toThrow('lstm.initialState: batchSize must be a positive integer, got 0.');
    expect(() => controller.step(null as never, state)).toThrow('lstm.step: input must be a tf.Tensor of shape [batch, 305], got null.');
    const input = tf.zeros([16, 305]) as tf.Tensor2D;
    expect(() => controller.step(input, null as never)).toThrow(
      'lstm.step: state must be { h, c } (from initialState or a previous step), got null.',
    );
    expect(() => controller.step(input, 'h' as never)).toThrow(
      'lstm.step: state must be { h, c } (from initialState or a previous step), got h.',
    );
    // Right batch size but rank 1: the rank alone must fail the check.
    expect(() => controller.step(input, { h: tf.zeros([16]) as never, c: state.c })).toThrow(
      'lstm.step: state.h has shape [16] but must be [16,2].',
    );
    controller.dispose();
    expect(() => controller.step(input, state)).toThrow('lstm.step: the controller has been disposed.');
  });
});
