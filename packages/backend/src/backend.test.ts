import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
// The built package, as users get it: the point of this package is what its bundle registers.
import { useBackend, defaultBackend } from '@mann/backend';
import { checkGradients, maxAbsDifference, randomTensor } from '@mann/backend/testing';

describe('useBackend', () => {
  it('defaults to wasm in Node', () => {
    expect(defaultBackend()).toBe('wasm');
  });

  it.each(['cpu', 'wasm'] as const)('activates %s', async (name) => {
    await expect(useBackend(name)).resolves.toBe(name);
    expect(tf.getBackend()).toBe(name);
  });

  it('explains why webgl cannot start in Node', async () => {
    await expect(useBackend('webgl')).rejects.toThrow(/Backend 'webgl' could not be initialised: Node.js has no WebGL/);
    await useBackend('cpu');
  });

  it('rejects an unknown name, listing the known ones', async () => {
    await expect(useBackend('gpu' as never)).rejects.toThrow("Unknown backend 'gpu': choose one of cpu, wasm, webgl.");
  });
});

describe('registrations', () => {
  it.each(['cpu', 'wasm'] as const)('gradients work on %s', async (name) => {
    await useBackend(name);
    // d/dx sum(tanh(x) * x) = tanh(x) + x (1 - tanh(x)^2)
    const x = tf.tensor1d([-1, 0.5, 2]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tanh(v), v)))(x);
    const expected = [-1, 0.5, 2].map((v) => Math.tanh(v) + v * (1 - Math.tanh(v) ** 2));
    expect(maxAbsDifference(g, expected)).toBeLessThan(1e-5);
  });

  it('chained ops are available on tensors', async () => {
    await useBackend('cpu');
    const x = tf.tensor1d([1, 2]) as tf.Tensor & { add(y: tf.Tensor): tf.Tensor };
    expect(Array.from(x.add(tf.tensor1d([3, 4])).dataSync())).toEqual([4, 6]);
  });
});

describe('checkGradients', () => {
  it('accepts a right gradient and catches a wrong one', async () => {
    await useBackend('cpu');
    const x = randomTensor([3, 2], 1);
    const good = checkGradients((v) => tf.sum(tf.square(tf.sin(v))), [x]);
    expect(good.maxError).toBeLessThan(2e-3);
    // A custom op whose declared gradient is off by a factor of two must be caught.
    const wrong = tf.customGrad((v: tf.Tensor, save: tf.GradSaveFunc) => {
      save([v]);
      return { value: tf.sum(tf.square(v)), gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.mul(4, s)) };
    });
    const bad = checkGradients((v) => wrong(v) as tf.Scalar, [x]);
    expect(bad.maxError).toBeGreaterThan(0.1);
  });
});

describe('load order', () => {
  it('works when @mann/backend is imported before tfjs-core (the engine is tfjs-core\'s own)', async () => {
    // A fresh Node process, so that this package really is the first thing loaded.
    const { execFileSync } = await import('node:child_process');
    const script = [
      "import { useBackend } from '@mann/backend';",
      "import * as tf from '@tensorflow/tfjs-core';",
      "await useBackend('cpu');",
      'const g = tf.grad((x) => tf.sum(tf.mul(x, x)))(tf.tensor1d([1, 2]));',
      'console.log(JSON.stringify([Array.from(g.dataSync()), g.clone().shape]));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: __dirname, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual([[2, 4], [2]]);
  });
});
