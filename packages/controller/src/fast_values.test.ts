// Hand-computed values for the fast runs. fast_controllers.test.ts checks each fast run against the plain path
// (`step` rolled out, tfjs autodiff); these pin both to numbers worked out by hand, so that a mistake the two
// share (in a helper they both use, or in how a test drives them) cannot pass unnoticed.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference } from '@mann/backend/testing';
import { differentiatedController } from './differentiated_controller';
import { feedForward } from './feed_forward';
import { fastRollout, plainRollout, type Problem, type RolloutResult } from './fast_test_helpers';
import { lstm } from './lstm';
import type { Controller } from './types';

beforeAll(async () => {
  await useBackend('cpu');
});

/** T = 2 steps of B = 1 episode; each input is [known_t, fed_t] (one number each) and L = sum_t sum(output_t). */
function twoSteps(controller: Controller, known: [number, number], fed: [number, number]): Problem {
  const ones = new Float32Array(controller.outputSize).fill(1);
  return {
    steps: 2,
    batch: 1,
    knownSize: 1,
    fedSize: 1,
    known: Float32Array.from(known),
    feds: fed.map((value) => Float32Array.of(value)),
    weights: [ones, ones.slice()],
  };
}

interface Expected {
  outputs: number[][];
  fedGradients: number[][];
  variableGradients: Record<string, number[]>;
}

function expectValues(result: RolloutResult, expected: Expected, tolerance: number): void {
  expected.outputs.forEach((output, t) => expect(maxAbsDifference(result.outputs[t], output), `output ${t}`).toBeLessThanOrEqual(tolerance));
  expected.fedGradients.forEach((grad, t) =>
    expect(maxAbsDifference(result.fedGradients[t], grad), `fed gradient ${t}`).toBeLessThanOrEqual(tolerance),
  );
  expect(Object.keys(result.variableGradients).sort()).toEqual(Object.keys(expected.variableGradients).sort());
  for (const [name, grad] of Object.entries(expected.variableGradients)) {
    expect(maxAbsDifference(result.variableGradients[name], grad), name).toBeLessThanOrEqual(tolerance);
  }
}

describe('hand-computed runs', () => {
  it('lstm: outputs, fed gradients and variable gradients of two steps, on all three paths', () => {
    // inputSize 2 = [known, fed], 1 unit, forgetBias 1. Kernel rows [known; fed; h], columns [i, f, g, o]; all
    // zero but the candidate column g: known -> g 1, fed -> g 1, h -> g 2. Bias zero. So at every step
    //   i = o = sigmoid(0) = 0.5, f = sigmoid(0 + 1) = 0.7310586 (f(1 - f) = 0.1966119, i(1 - i) = 0.25)
    //   g_t = tanh(known_t + fed_t + 2 h_{t-1}),  c_t = f c_{t-1} + 0.5 g_t,  h_t = 0.5 tanh(c_t)
    // Inputs: known = [0.5, 1], fed = [0.5, -1].
    // t = 0: g0 = tanh(0.5 + 0.5 + 0) = tanh(1) = 0.7615942; c0 = 0.5 * 0.7615942 = 0.3807971
    //        h0 = 0.5 * tanh(0.3807971) = 0.5 * 0.3633995 = 0.1816997
    // t = 1: g1 = tanh(1 - 1 + 2 * 0.1816997) = tanh(0.3633995) = 0.3482049
    //        c1 = 0.7310586 * 0.3807971 + 0.5 * 0.3482049 = 0.2783850 + 0.1741025 = 0.4524874
    //        h1 = 0.5 * tanh(0.4524874) = 0.5 * 0.4239415 = 0.2119708
    // Backward, L = h0 + h1:
    // t = 1: dh1 = 1, dc1 = dh1 * o * (1 - tanh(c1)^2) = 0.5 * (1 - 0.1797264) = 0.4101368
    //        dz_i = dc1 * g1 * 0.25 = 0.0357029;  dz_f = dc1 * c0 * 0.1966119 = 0.0307066
    //        dz_g = dc1 * 0.5 * (1 - g1^2) = 0.4101368 * 0.5 * (1 - 0.1212466) = 0.1802045
    //        dz_o = dh1 * tanh(c1) * 0.25 = 0.1059854;  dL/dfed1 = 1 * dz_g = 0.1802045
    // t = 0: dh0 = 1 + 2 * dz_g(t=1) = 1.3604091 (through h -> g of step 1)
    //        dc0 = dh0 * 0.5 * (1 - tanh(c0)^2) + dc1 * f = 0.5903772 + 0.2998340 = 0.8902113
    //        dz_i = dc0 * g0 * 0.25 = 0.1694949;  dz_f = dc0 * c_{-1} * ... = 0 (c_{-1} = 0)
    //        dz_g = dc0 * 0.5 * (1 - g0^2) = 0.8902113 * 0.5 * 0.4199743 = 0.1869330
    //        dz_o = dh0 * tanh(c0) * 0.25 = 0.1235930;  dL/dfed0 = dz_g = 0.1869330
    // bias = dz(t=0) + dz(t=1) = [0.2051978, 0.0307066, 0.3671375, 0.2295784]
    // kernel rows: known = 0.5 dz(0) + 1 dz(1); fed = 0.5 dz(0) - 1 dz(1); h = h_{-1} dz(0) + h0 dz(1) = 0.1816997 dz(1)
    const dz0 = [0.1694949, 0, 0.186933, 0.123593];
    const dz1 = [0.0357029, 0.0307066, 0.1802045, 0.1059854];
    const expected: Expected = {
      outputs: [[0.1816997], [0.2119708]],
      fedGradients: [[0.186933], [0.1802045]],
      variableGradients: {
        kernel: [
          ...dz0.map((d, j) => 0.5 * d + dz1[j]),
          ...dz0.map((d, j) => 0.5 * d - dz1[j]),
          ...dz1.map((d) => 0.1816997 * d),
        ],
        bias: [0.2051978, 0.0307066, 0.3671375, 0.2295784],
      },
    };
    const controller = lstm({ inputSize: 2, units: 1 });
    const kernel = tf.buffer([3, 4], 'float32');
    kernel.set(1, 0, 2);
    kernel.set(1, 1, 2);
    kernel.set(2, 2, 2);
    controller.variables.kernel.assign(kernel.toTensor());
    const problem = twoSteps(controller, [0.5, 1], [0.5, -1]);
    // 7-digit hand values, float32 arithmetic: 1e-6 is a few roundings; a wrong term moves a value by >= 5e-3.
    expectValues(plainRollout(controller, problem), expected, 1e-6);
    expectValues(fastRollout(controller.fast!, problem), expected, 1e-6);
    expectValues(fastRollout(differentiatedController(controller), problem), expected, 1e-6);
    controller.dispose();
  });

  it('feed-forward, 2 relu layers: exact values, a dead unit passing no gradient', () => {
    // inputSize 2 = [known, fed], units 2. kernel0 [[1, 2], [3, 0.5]] (rows known, fed), bias0 [0.5, 0];
    // kernel1 [[1, 0], [-2, 1]], bias1 [1, 0]. Inputs known = [1, 0.5], fed = [-1, 1].
    // t = 0: x = [1, -1]:  z0 = [1 - 3 + 0.5, 2 - 0.5 + 0] = [-1.5, 1.5] -> a0 = [0, 1.5]
    //                      z1 = [0 * 1 + 1.5 * -2 + 1, 0 * 0 + 1.5 * 1 + 0] = [-2, 1.5] -> a1 = [0, 1.5]
    // t = 1: x = [0.5, 1]: z0 = [0.5 + 3 + 0.5, 1 + 0.5 + 0] = [4, 1.5] -> a0 = [4, 1.5]
    //                      z1 = [4 - 3 + 1, 0 + 1.5 + 0] = [2, 1.5] -> a1 = [2, 1.5]
    // Backward, dL/da1 = [1, 1] at both steps; relu' is 1 where a > 0 and 0 where a = 0:
    // t = 1: dz1 = [1, 1]; da0 = dz1 kernel1^T = [1 * 1 + 1 * 0, 1 * -2 + 1 * 1] = [1, -1]; dz0 = [1, -1]
    //        dL/dfed1 = dz0 . kernel0[fed] = 1 * 3 + -1 * 0.5 = 2.5
    // t = 0: dz1 = [0, 1] (unit 0 dead); da0 = [0 * 1 + 1 * 0, 0 * -2 + 1 * 1] = [0, 1]; dz0 = [0, 1] (a0[0] = 0)
    //        dL/dfed0 = 0 * 3 + 1 * 0.5 = 0.5
    // bias1 = [0, 1] + [1, 1] = [1, 2];  bias0 = [0, 1] + [1, -1] = [1, 0]
    // kernel1 = a0(0)^T dz1(0) + a0(1)^T dz1(1) = [[0, 0], [0, 1.5]] + [[4, 4], [1.5, 1.5]] = [[4, 4], [1.5, 3]]
    // kernel0 = x(0)^T dz0(0) + x(1)^T dz0(1) = [[0, 1], [0, -1]] + [[0.5, -0.5], [1, -1]] = [[0.5, 0.5], [1, -2]]
    const expected: Expected = {
      outputs: [[0, 1.5], [2, 1.5]],
      fedGradients: [[0.5], [2.5]],
      variableGradients: { kernel0: [0.5, 0.5, 1, -2], bias0: [1, 0], kernel1: [4, 4, 1.5, 3], bias1: [1, 2] },
    };
    const controller = feedForward({ inputSize: 2, units: 2, layers: 2, activation: 'relu' });
    controller.variables.kernel0.assign(tf.tensor2d([[1, 2], [3, 0.5]]));
    controller.variables.bias0.assign(tf.tensor1d([0.5, 0]));
    controller.variables.kernel1.assign(tf.tensor2d([[1, 0], [-2, 1]]));
    controller.variables.bias1.assign(tf.tensor1d([1, 0]));
    const problem = twoSteps(controller, [1, 0.5], [-1, 1]);
    // Every number above is exact in float32.
    expectValues(plainRollout(controller, problem), expected, 0);
    expectValues(fastRollout(controller.fast!, problem), expected, 0);
    expectValues(fastRollout(differentiatedController(controller), problem), expected, 0);
    controller.dispose();
  });

  it('feed-forward, 1 tanh layer, nothing fed: tanh and its derivative 1 - a^2', () => {
    // inputSize 1, all known; units 1, kernel0 [[1]], bias0 [0.5]. known = [0.5, -0.5].
    // t = 0: a = tanh(0.5 + 0.5) = tanh(1) = 0.7615942;   t = 1: a = tanh(-0.5 + 0.5) = tanh(0) = 0
    // dz = 1 - a^2: t = 0: 1 - 0.5800257 = 0.4199743; t = 1: 1
    // bias0 = 0.4199743 + 1 = 1.4199743; kernel0 = 0.5 * 0.4199743 + -0.5 * 1 = -0.2900129
    const controller = feedForward({ inputSize: 1, units: 1 });
    controller.variables.kernel0.assign(tf.tensor2d([[1]]));
    controller.variables.bias0.assign(tf.tensor1d([0.5]));
    const problem: Problem = {
      steps: 2,
      batch: 1,
      knownSize: 1,
      fedSize: 0,
      known: Float32Array.of(0.5, -0.5),
      feds: [new Float32Array(0), new Float32Array(0)],
      weights: [Float32Array.of(1), Float32Array.of(1)],
    };
    const expected: Expected = {
      outputs: [[0.7615942], [0]],
      fedGradients: [[], []],
      variableGradients: { kernel0: [-0.2900129], bias0: [1.4199743] },
    };
    expectValues(fastRollout(controller.fast!, problem), expected, 1e-6);
    expectValues(fastRollout(differentiatedController(controller), problem), expected, 1e-6);
    controller.dispose();
  });

  it('differentiatedController: the gradient carried through a state, and summed over steps', () => {
    // A linear accumulator: s_t = s_{t-1} + x_t (s_{-1} = 0), output_t = w * s_t, w = 3; x = fed, nothing known.
    // Forward with x = [1, 2]: s = [1, 3], outputs [3, 9].
    // L = output_0 + output_1 = w s_0 + w s_1 = w x_0 + w (x_0 + x_1):
    //   dL/dx_1 = w = 3; dL/dx_0 = w + w = 6 (the second through s, carried back from step 1);
    //   dL/dw = s_0 + s_1 = 1 + 3 = 4.
    const w = tf.variable(tf.tensor2d([[3]]), true);
    const accumulator: Controller<{ s: tf.Tensor2D }> = {
      name: 'accumulator',
      inputSize: 1,
      outputSize: 1,
      variables: { w },
      initialState: (batchSize) => ({ s: tf.zeros([batchSize, 1]) }),
      step: (input, { s }) => {
        const next = tf.add(s, input) as tf.Tensor2D;
        return { output: tf.matMul(next, w), state: { s: next } };
      },
      dispose: () => w.dispose(),
    };
    const problem: Problem = {
      steps: 2,
      batch: 1,
      knownSize: 0,
      fedSize: 1,
      known: new Float32Array(0),
      feds: [Float32Array.of(1), Float32Array.of(2)],
      weights: [Float32Array.of(1), Float32Array.of(1)],
    };
    expectValues(fastRollout(differentiatedController(accumulator), problem), {
      outputs: [[3], [9]],
      fedGradients: [[6], [3]],
      variableGradients: { w: [4] },
    }, 0);
    accumulator.dispose();
  });

  it('differentiatedController: a controller with no variables, no state and nothing fed', () => {
    // output_t = 2 * known_t. There is nothing to differentiate: backward returns empty fed gradients and
    // gradients() an empty record.
    const double: Controller<{}> = {
      name: 'double',
      inputSize: 1,
      outputSize: 1,
      variables: {},
      initialState: () => ({}),
      step: (input) => ({ output: tf.mul(input, 2) as tf.Tensor2D, state: {} }),
      dispose: () => {},
    };
    const problem: Problem = {
      steps: 2,
      batch: 1,
      knownSize: 1,
      fedSize: 0,
      known: Float32Array.of(1.5, -2),
      feds: [new Float32Array(0), new Float32Array(0)],
      weights: [Float32Array.of(1), Float32Array.of(1)],
    };
    const before = tf.memory().numTensors;
    expectValues(fastRollout(differentiatedController(double), problem), { outputs: [[3], [-4]], fedGradients: [[], []], variableGradients: {} }, 0);
    expect(tf.memory().numTensors).toBe(before);
  });
});
