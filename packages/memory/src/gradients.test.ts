import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { checkGradients, maxAbsDifference, randomTensor } from '@mann/backend/testing';
import { clearSlots, eraseMemory, readMemory, updateUsage, writeMemory } from './index';

// Tolerance for the finite-difference checks: all tfjs backends compute in float32. Read and write are
// bilinear, so the central difference has no truncation error and only rounding error remains, about
// 1e-7 * |loss| / epsilon = 1e-7 * 10 / 1e-2 = 1e-4 for these losses of size ~10. Erase with two heads is a
// cubic, adding epsilon^2 * |f'''| / 6 ~ 1e-4 * O(1). A wrong gradient is off by O(1): 2e-3 separates the two.
const TOLERANCE = 2e-3;

beforeAll(async () => {
  await useBackend('cpu');
});

const B = 2;
const N = 4;
const W = 3;
const H = 2;

describe('gradients (finite differences)', () => {
  // loss = sum(output * fixed random tensor): every output element gets a different weight, so a gradient
  // routed to the wrong element is caught.
  it('readMemory, wrt memory and weights', () => {
    const probe = randomTensor([B, H, W], 10);
    const result = checkGradients(
      (memory, weights) => tf.sum(tf.mul(readMemory(memory as tf.Tensor3D, weights as tf.Tensor3D), probe)),
      [randomTensor([B, N, W], 1), randomTensor([B, H, N], 2, 0, 1)],
    );
    expect(result.maxError).toBeLessThan(TOLERANCE);
  });

  it('writeMemory, wrt memory, weights and values', () => {
    const probe = randomTensor([B, N, W], 11);
    const result = checkGradients(
      (memory, weights, values) =>
        tf.sum(tf.mul(writeMemory(memory as tf.Tensor3D, weights as tf.Tensor3D, values as tf.Tensor3D), probe)),
      [randomTensor([B, N, W], 3), randomTensor([B, H, N], 4, 0, 1), randomTensor([B, H, W], 5)],
    );
    expect(result.maxError).toBeLessThan(TOLERANCE);
  });

  it('eraseMemory, wrt memory, weights and erase vectors', () => {
    const probe = randomTensor([B, N, W], 12);
    const result = checkGradients(
      (memory, weights, erase) =>
        tf.sum(tf.mul(eraseMemory(memory as tf.Tensor3D, weights as tf.Tensor3D, erase as tf.Tensor3D), probe)),
      [randomTensor([B, N, W], 6), randomTensor([B, H, N], 7, 0, 1), randomTensor([B, H, W], 8, 0, 1)],
    );
    expect(result.maxError).toBeLessThan(TOLERANCE);
  });

  it('clearSlots and updateUsage', () => {
    const mask = tf.tensor2d([
      [1, 0, 0, 1],
      [0, 1, 0, 0],
    ]);
    const probe = randomTensor([B, N, W], 13);
    const cleared = checkGradients((memory) => tf.sum(tf.mul(clearSlots(memory as tf.Tensor3D, mask), probe)), [
      randomTensor([B, N, W], 9),
    ]);
    expect(cleared.maxError).toBeLessThan(TOLERANCE);
    // The cleared slots get exactly zero gradient: slot 0 of episode 0 is elements 0..2.
    expect(maxAbsDifference(cleared.analytic[0].slice(0, 3), [0, 0, 0])).toBe(0);

    const usageProbe = randomTensor([B, N], 14);
    const usage = checkGradients(
      (u, r, w) => tf.sum(tf.mul(updateUsage(u as tf.Tensor2D, 0.95, r as tf.Tensor3D, w as tf.Tensor3D), usageProbe)),
      [randomTensor([B, N], 15, 0, 2), randomTensor([B, H, N], 16, 0, 1), randomTensor([B, 1, N], 17, 0, 1)],
    );
    expect(usage.maxError).toBeLessThan(TOLERANCE);
  });
});

describe('backends', () => {
  it('cpu and wasm agree', async () => {
    const run = () =>
      tf.tidy(() => {
        const memory = randomTensor([B, N, W], 20) as tf.Tensor3D;
        const weights = randomTensor([B, H, N], 21, 0, 1) as tf.Tensor3D;
        const values = randomTensor([B, H, W], 22) as tf.Tensor3D;
        const erased = eraseMemory(memory, weights, tf.sigmoid(values));
        const written = writeMemory(clearSlots(erased, tf.tensor2d([[1, 0, 0, 0], [0, 0, 1, 0]])), weights, values);
        const reads = readMemory(written, weights);
        const usage = updateUsage(tf.sum(weights, 1), 0.95, weights, weights);
        return [written, reads, usage].map((t) => Array.from(t.dataSync()));
      });
    await useBackend('cpu');
    const onCpu = run();
    await useBackend('wasm');
    const onWasm = run();
    await useBackend('cpu');
    onCpu.forEach((values, i) => expect(maxAbsDifference(values, onWasm[i])).toBeLessThan(1e-4));
  });
});
