import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { Adam, RmsProp, clipByGlobalNorm, createOptimizer, type Optimizer } from './optimizers';

beforeAll(async () => {
  await useBackend('cpu');
});

// One variable x = [1, -2, 0] updated with the gradients [0.5, -1, 0] and then [1, -1, 0], learning rate 0.1 and
// the default settings; every value below is worked out by hand from the update rules in optimizers.ts. The zero
// gradient checks the epsilon: without it (or with it subtracted) 0 / sqrt(0) is NaN.
const GRADIENTS = [
  [0.5, -1, 0],
  [1, -1, 0],
];

function run(optimizer: Optimizer): number[][] {
  const x = tf.variable(tf.tensor1d([1, -2, 0]));
  const values: number[][] = [];
  for (const g of GRADIENTS) {
    const gradient = tf.tensor1d(g);
    optimizer.apply({ x }, { x: gradient });
    gradient.dispose();
    values.push(Array.from(x.dataSync()));
  }
  x.dispose();
  return values;
}

function expectClose(actual: number[], expected: number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((value, i) => expect(value, `[${i}]: ${actual} vs ${expected}`).toBeCloseTo(expected[i], digits));
}

describe('RmsProp', () => {
  it('follows ms = 0.95 ms + 0.05 g^2, mom = 0.9 mom + lr g / sqrt(ms + 1e-8), x -= mom', () => {
    const optimizer = new RmsProp({ learningRate: 0.1 });
    expect(optimizer.options).toEqual({ learningRate: 0.1, decay: 0.95, momentum: 0.9, epsilon: 1e-8 });
    const [first, second] = run(optimizer);
    // Step 1: ms = 0.05 * [0.25, 1, 0] = [0.0125, 0.05, 0]; mom = 0.1 * [0.5, -1, 0] / [0.111803, 0.223607, 1e-4]
    // = [0.447214, -0.447214, 0]; x = [0.552786, -1.552786, 0].
    expectClose(first, [1 - 0.05 / Math.sqrt(0.0125), -2 + 0.1 / Math.sqrt(0.05), 0]);
    // Step 2: ms = 0.95 * 0.0125 + 0.05 * 1 = 0.061875 and 0.95 * 0.05 + 0.05 = 0.0975;
    // mom = 0.9 * 0.447214 + 0.1 / sqrt(0.061875) = 0.804507 and -(0.9 * 0.447214 + 0.1 / sqrt(0.0975)) = -0.722748.
    expectClose(second, [0.552786 - 0.804507, -1.552786 + 0.722748, 0], 5);
    const state = optimizer.state();
    expect(Object.keys(state).sort()).toEqual(['x/momentum', 'x/rms']);
    expectClose(Array.from(state['x/rms'].dataSync()), [0.061875, 0.0975, 0]);
    expectClose(Array.from(state['x/momentum'].dataSync()), [0.804507, -0.722748, 0], 5);
    optimizer.dispose();
    expect(optimizer.state()).toEqual({});
  });

  it('takes its settings', () => {
    // decay 0.5, momentum 0, epsilon 1: ms = 0.5 * 0.25 = 0.125, x = 1 - 0.1 * 0.5 / sqrt(1.125) = 0.952860.
    const [first] = run(new RmsProp({ learningRate: 0.1, decay: 0.5, momentum: 0, epsilon: 1 }));
    expectClose(first, [1 - 0.05 / Math.sqrt(1.125), -2 + 0.1 / Math.sqrt(1.5), 0]);
  });
});

describe('Adam', () => {
  it('follows Kingma & Ba with the bias corrections folded into the step size', () => {
    const optimizer = new Adam({ learningRate: 0.1 });
    expect(optimizer.options).toEqual({ learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    const [first, second] = run(optimizer);
    // Step 1: rate = 0.1 sqrt(1 - 0.999) / (1 - 0.9) = 0.0316228; m = 0.1 g, v = 0.001 g^2, so each weight moves by
    // rate * 0.1 |g| / (0.0316228 |g|) = 0.1 against its gradient's sign: [0.9, -1.9, 0].
    expectClose(first, [0.9, -1.9, 0]);
    // Step 2: rate = 0.1 sqrt(1 - 0.999^2) / (1 - 0.9^2) = 0.0235317; m = [0.145, -0.19], v = [0.00124975, 0.001999];
    // x -= rate m / sqrt(v): 0.9 - 0.0235317 * 0.145 / 0.0353518 = 0.803482; -1.9 + 0.0235317 * 0.19 / 0.0447102 = -1.8.
    expectClose(second, [0.803482, -1.8, 0]);
    const state = optimizer.state();
    expect(Object.keys(state).sort()).toEqual(['step', 'x/m', 'x/v']);
    expect(Array.from(state.step.dataSync())).toEqual([2]);
    expectClose(Array.from(state['x/m'].dataSync()), [0.145, -0.19, 0]);
    expectClose(Array.from(state['x/v'].dataSync()), [0.00124975, 0.001999, 0], 8);
    optimizer.dispose();
  });

  it('takes its settings', () => {
    // beta1 0, beta2 0, epsilon 1: rate = 0.1, m = g, v = g^2: x = 1 - 0.1 * 0.5 / (0.5 + 1) = 0.966667.
    const [first] = run(new Adam({ learningRate: 0.1, beta1: 0, beta2: 0, epsilon: 1 }));
    expectClose(first, [1 - 0.05 / 1.5, -2 + 0.1 / 2, 0]);
  });
});

describe('optimiser state', () => {
  it('setState continues from copies of the given tensors, which stay the caller’s', () => {
    const first = new Adam({ learningRate: 0.1 });
    const x = tf.variable(tf.tensor1d([1, -2, 0]));
    const gradient = tf.tensor1d(GRADIENTS[0]);
    first.apply({ x }, { x: gradient });
    const saved = Object.fromEntries(Object.entries(first.state()).map(([name, t]) => [name, t.clone()]));
    const second = new Adam({ learningRate: 0.1 });
    second.setState(saved);
    tf.dispose(Object.values(saved));
    const next = tf.tensor1d(GRADIENTS[1]);
    second.apply({ x }, { x: next });
    // The second step of the run above, from the restored m, v and step count.
    expectClose(Array.from(x.dataSync()), [0.803482, -1.8, 0]);
    const before = tf.memory().numTensors;
    second.setState({});
    expect(tf.memory().numTensors).toBe(before - 3);
    tf.dispose([x, gradient, next]);
    first.dispose();
  });

  it('changes the learning rate, refusing one that is not a positive number', () => {
    const optimizer = createOptimizer('rmsprop', 0.1);
    expect(optimizer).toBeInstanceOf(RmsProp);
    expect([optimizer.name, optimizer.learningRate]).toEqual(['rmsprop', 0.1]);
    optimizer.setLearningRate(0.01);
    expect(optimizer.learningRate).toBe(0.01);
    for (const bad of [0, -1, Infinity, NaN]) {
      expect(() => optimizer.setLearningRate(bad)).toThrow(`Optimiser: learningRate must be a positive number, got ${bad}.`);
    }
    expect(optimizer.learningRate).toBe(0.01);
    const adam = createOptimizer('adam', 0.2);
    expect(adam).toBeInstanceOf(Adam);
    expect([adam.name, adam.learningRate]).toEqual(['adam', 0.2]);
    expect(() => new Adam({ learningRate: 0 })).toThrow('Optimiser: learningRate must be a positive number, got 0.');
    expect(() => new RmsProp({ learningRate: -0.1 })).toThrow('Optimiser: learningRate must be a positive number, got -0.1.');
    expect(() => createOptimizer('sgd' as never, 0.1)).toThrow("Unknown optimiser 'sgd': choose 'rmsprop' or 'adam'.");
  });
});

describe('clipByGlobalNorm', () => {
  it('scales every gradient by maxNorm / norm when the global norm is larger, and returns the norm', () => {
    // Global norm of [3] and [4, 0] = sqrt(9 + 16) = 5; to 2.5: scaled by 0.5.
    const gradients = { b: tf.tensor1d([4, 0]), a: tf.tensor1d([3]) };
    const clipped = clipByGlobalNorm(gradients, 2.5);
    expect(clipped.norm.dataSync()[0]).toBeCloseTo(5, 6);
    expect(Array.from(clipped.gradients.a.dataSync())).toEqual([1.5]);
    expect(Array.from(clipped.gradients.b.dataSync())).toEqual([2, 0]);
    // Below the limit, at it, or no limit (Infinity; Number.MAX_VALUE is Infinity in float32): unchanged. Infinity
    // used to scale by Infinity / Infinity = NaN, and Trainer's clipNorm 0 (no clipping) trained to NaN weights.
    for (const limit of [5, 10, Infinity, Number.MAX_VALUE]) {
      const kept = clipByGlobalNorm(gradients, limit);
      expect(kept.norm.dataSync()[0]).toBeCloseTo(5, 6);
      expect(Array.from(kept.gradients.a.dataSync())).toEqual([3]);
      expect(Array.from(kept.gradients.b.dataSync())).toEqual([4, 0]);
      tf.dispose([kept.norm, ...Object.values(kept.gradients)]);
    }
    tf.dispose([clipped.norm, ...Object.values(clipped.gradients), ...Object.values(gradients)]);
  });
});
