import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { checkGradients, maxAbsDifference, randomTensor, tensorCountAfterSteps } from '@mann/backend/testing';
import { feedForward, feedForwardStep } from './feed_forward';
import { glorotUniform } from './glorot_uniform';
import { seededRandom } from './seeded_random';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('feedForwardStep', () => {
  it('applies each dense layer and its activation in turn', () => {
    // x = [1, -1]
    // layer 0: kernel [[1, 2], [3, 0.5]], bias [0.5, 0]
    //   z = [1 * 1 + -1 * 3 + 0.5, 1 * 2 + -1 * 0.5 + 0] = [-1.5, 1.5]
    //   relu -> [0, 1.5];  tanh -> [-0.9051483, 0.9051483]
    // layer 1: kernel [[1], [-2]], bias [1]
    //   relu: z = 0 * 1 + 1.5 * -2 + 1 = -2  -> relu 0
    //   tanh: z = -0.9051483 - 2 * 0.9051483 + 1 = -1.7154448 -> tanh -0.9373122
    const layers = [
      { kernel: tf.tensor2d([[1, 2], [3, 0.5]]), bias: tf.tensor1d([0.5, 0]) },
      { kernel: tf.tensor2d([[1], [-2]]), bias: tf.tensor1d([1]) },
    ];
    const x = tf.tensor2d([[1, -1]]);
    expect(maxAbsDifference(feedForwardStep(x, layers.slice(0, 1), 'relu'), [0, 1.5])).toBe(0);
    expect(maxAbsDifference(feedForwardStep(x, layers, 'relu'), [0])).toBe(0);
    expect(maxAbsDifference(feedForwardStep(x, layers.slice(0, 1), 'tanh'), [-0.9051483, 0.9051483])).toBeLessThan(1e-6);
    expect(maxAbsDifference(feedForwardStep(x, layers, 'tanh'), [-0.9373122])).toBeLessThan(1e-6);
  });

  it('has the right gradients through two tanh layers', () => {
    const inputs = [randomTensor([2, 3], 1), randomTensor([3, 4], 2), randomTensor([4], 3), randomTensor([4, 4], 4), randomTensor([4], 5)];
    const weight = randomTensor([2, 4], 6);
    const loss = (x: tf.Tensor, k0: tf.Tensor, b0: tf.Tensor, k1: tf.Tensor, b1: tf.Tensor): tf.Scalar =>
      tf.sum(
        tf.mul(
          feedForwardStep(
            x as tf.Tensor2D,
            [
              { kernel: k0 as tf.Tensor2D, bias: b0 as tf.Tensor1D },
              { kernel: k1 as tf.Tensor2D, bias: b1 as tf.Tensor1D },
            ],
            'tanh',
          ),
          weight,
        ),
      );
    const result = checkGradients(loss as (...xs: tf.Tensor[]) => tf.Scalar, inputs, { epsilon: 1e-2 });
    // |loss| <= 8 (8 outputs in (-1, 1), weights in [-1, 1)): float32 rounding in the central difference is
    // ~ 6e-8 * 8 / 1e-2 = 5e-5, truncation ~ epsilon^2 / 6 * |f'''| = 2e-5 * O(1); a wrong gradient is O(0.1) off.
    expect(result.maxError).toBeLessThan(1e-3);
  });

  it('names the shapes when the layers do not chain', () => {
    const x = tf.zeros([2, 3]) as tf.Tensor2D;
    const good = { kernel: tf.zeros([3, 4]) as tf.Tensor2D, bias: tf.zeros([4]) as tf.Tensor1D };
    expect(() => feedForwardStep(x, [good, good], 'tanh')).toThrow(
      'feedForwardStep: layers[1].kernel has shape [3,4] but must be [4, outWidth] to take a [batch, 4] input.',
    );
    expect(() => feedForwardStep(x, [{ kernel: good.kernel, bias: tf.zeros([3]) as tf.Tensor1D }], 'tanh')).toThrow(
      'feedForwardStep: layers[0].bias has shape [3] but must be [4].',
    );
    expect(() => feedForwardStep(x, [], 'tanh')).toThrow('feedForwardStep: layers must be a non-empty array of { kernel, bias }.');
    expect(() => feedForwardStep(x, [good], 'sigmoid' as never)).toThrow(
      'feedForwardStep: activation must be one of tanh, relu, got sigmoid.',
    );
  });

  it('says what it got for a missing or wrong-rank input, layers or kernel', () => {
    const x = tf.zeros([2, 3]) as tf.Tensor2D;
    const good = { kernel: tf.zeros([3, 4]) as tf.Tensor2D, bias: tf.zeros([4]) as tf.Tensor1D };
    expect(() => feedForwardStep(null as never, [good], 'tanh')).toThrow('feedForwardStep: input must be rank 2, [batch, width], got shape null.');
    expect(() => feedForwardStep(tf.zeros([3]) as never, [good], 'tanh')).toThrow(
      'feedForwardStep: input must be rank 2, [batch, width], got shape [3].',
    );
    expect(() => feedForwardStep(x, null as never, 'tanh')).toThrow('feedForwardStep: layers must be a non-empty array of { kernel, bias }.');
    expect(() => feedForwardStep(x, [{ kernel: undefined as never, bias: good.bias }], 'tanh')).toThrow(
      'feedForwardStep: layers[0].kernel has shape undefined but must be [3, outWidth] to take a [batch, 3] input.',
    );
    // First axis right, but rank 1.
    expect(() => feedForwardStep(x, [{ kernel: tf.zeros([3]) as never, bias: good.bias }], 'tanh')).toThrow(
      'feedForwardStep: layers[0].kernel has shape [3] but must be [3, outWidth] to take a [batch, 3] input.',
    );
  });
});

describe('feedForward', () => {
  it('has the documented name, sizes, variables and empty state', () => {
    const controller = feedForward({ inputSize: 5, units: 3, layers: 2 });
    expect(controller.name).toBe('feed-forward');
    expect(controller.inputSize).toBe(5);
    expect(controller.outputSize).toBe(3);
    expect(Object.keys(controller.variables).sort()).toEqual(['bias0', 'bias1', 'kernel0', 'kernel1']);
    expect(controller.variables.kernel0.shape).toEqual([5, 3]);
    expect(controller.variables.kernel1.shape).toEqual([3, 3]);
    expect(controller.variables.bias1.shape).toEqual([3]);
    expect(controller.initialState(4)).toEqual({});
    controller.dispose();
    expect(feedForward({ inputSize: 1 }).outputSize).toBe(200);
  });

  it('draws kernel0 as glorotUniform(shape, seed), then kernel1 from the same generator', () => {
    const controller = feedForward({ inputSize: 5, units: 3, layers: 2, seed: 9 });
    const expected = glorotUniform([5, 3], 9);
    expect(maxAbsDifference(controller.variables.kernel0, expected)).toBe(0);
    // kernel1 continues the stream: its first value comes from draw 5 * 3 + 1 = 16,
    // limit sqrt(6 / (3 + 3)) = 1 times (2 u_16 - 1).
    const random = seededRandom(9);
    for (let i = 0; i < 15; i++) random();
    expect(controller.variables.kernel1.dataSync()[0]).toBeCloseTo(2 * random() - 1, 6);
    expect(Object.values(controller.variables).every((variable) => variable.trainable)).toBe(true);
    expect(maxAbsDifference(tf.slice(controller.variables.kernel1, [0, 0], [1, 3]), tf.slice(expected, [0, 0], [1, 3]))).toBeGreaterThan(0);
    const same = feedForward({ inputSize: 5, units: 3, layers: 2, seed: 9 });
    const other = feedForward({ inputSize: 5, units: 3, layers: 2, seed: 10 });
    expect(maxAbsDifference(controller.variables.kernel1, same.variables.kernel1)).toBe(0);
    expect(maxAbsDifference(controller.variables.kernel1, other.variables.kernel1)).toBeGreaterThan(0.1);
    [controller, same, other].forEach((c) => c.dispose());
  });

  it('steps with its variables and ignores the state', () => {
    const controller = feedForward({ inputSize: 2, units: 2, activation: 'relu' });
    controller.variables.kernel0.assign(tf.tensor2d([[1, 2], [3, 0.5]]));
    controller.variables.bias0.assign(tf.tensor1d([0.5, 0]));
    // Same arithmetic as the feedForwardStep test: relu([-1.5, 1.5]) = [0, 1.5].
    const { output, state } = controller.step(tf.tensor2d([[1, -1]]), {});
    expect(maxAbsDifference(output, [0, 1.5])).toBe(0);
    expect(state).toEqual({});
    controller.dispose();
  });

  it('does not leak tensors over 100 steps inside tf.tidy', () => {
    const controller = feedForward({ inputSize: 3, units: 4, layers: 2 });
    const input = randomTensor([2, 3], 1) as tf.Tensor2D;
    let output = tf.zeros([2, 4]);
    const counts = tensorCountAfterSteps(() => {
      const next = tf.tidy(() => controller.step(input, {}).output);
      output.dispose();
      output = next;
    }, 100);
    expect(counts.afterLast).toBe(counts.afterFirst);
    tf.dispose([output, input]);
    controller.dispose();
  });

  it('disposes all its variables', () => {
    const before = tf.memory().numTensors;
    const controller = feedForward({ inputSize: 3, units: 4, layers: 3 });
    expect(tf.memory().numTensors).toBe(before + 6);
    controller.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => controller.step(tf.zeros([1, 3]) as tf.Tensor2D, {})).toThrow('feed-forward.step: the controller has been disposed.');
    expect(() => controller.initialState(1)).toThrow('feed-forward.initialState: the controller has been disposed.');
    const afterwards = tf.memory().numTensors;
    controller.dispose(); // a second dispose is a no-op
    expect(tf.memory().numTensors).toBe(afterwards);
  });

  it('rejects bad configurations and inputs', () => {
    expect(() => feedForward({ inputSize: -3 })).toThrow('feedForward: inputSize must be a positive integer, got -3.');
    expect(() => feedForward({ inputSize: 3, units: 0 })).toThrow('feedForward: units must be a positive integer, got 0.');
    expect(() => feedForward({ inputSize: 3, layers: 0 })).toThrow('feedForward: layers must be a positive integer, got 0.');
    expect(() => feedForward({ inputSize: 3, activation: 'sigmoid' as never })).toThrow(
      'feedForward: activation must be one of tanh, relu, got sigmoid.',
    );
    expect(() => feedForward(null as never)).toThrow('feedForward: options must be an object like { inputSize: 305 }, got null.');
    expect(() => feedForward(305 as never)).toThrow('feedForward: options must be an object like { inputSize: 305 }, got 305.');
    expect(() => feedForward({ inputSize: 3, seed: 0.5 })).toThrow('feedForward: seed must be an integer, got 0.5.');
    const controller = feedForward({ inputSize: 305, units: 2 });
    expect(() => controller.initialState(0)).toThrow('feed-forward.initialState: batchSize must be a positive integer, got 0.');
    expect(() => controller.step(null as never, {})).toThrow('feed-forward.step: input must be a tf.Tensor of shape [batch, 305], got null.');
    expect(() => controller.step(tf.zeros([16, 300]) as tf.Tensor2D, {})).toThrow(
      'feed-forward.step: input has shape [16,300] but the controller was built for inputSize 305',
    );
    expect(() => controller.step(tf.zeros([305]) as never, {})).toThrow(
      'feed-forward.step: input has shape [305] but must be rank 2, [batch, inputSize] = [batch, 305].',
    );
    controller.dispose();
  });
});
