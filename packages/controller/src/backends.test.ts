import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference, randomTensor } from '@mann/backend/testing';
import { feedForward } from './feed_forward';
import { lstm } from './lstm';

/** Builds an LSTM on the given backend and returns its weights and h after a 10-step rollout. */
async function rollout(backend: 'cpu' | 'wasm'): Promise<{ kernel: Float32Array; outputs: Float32Array[] }> {
  await useBackend(backend);
  // Sizes like a small MANN controller: input 20 (image + label + reads), 16 units, 3 episodes.
  const controller = lstm({ inputSize: 20, units: 16, seed: 42 });
  const kernel = Float32Array.from(controller.variables.kernel.dataSync());
  let state = controller.initialState(3);
  const outputs: Float32Array[] = [];
  for (let t = 0; t < 10; t++) {
    const next = tf.tidy(() => controller.step(randomTensor([3, 20], 100 + t, -2, 2) as tf.Tensor2D, state).state);
    tf.dispose(state);
    state = next;
    outputs.push(Float32Array.from(state.h.dataSync()), Float32Array.from(state.c.dataSync()));
  }
  tf.dispose(state);
  controller.dispose();
  return { kernel, outputs };
}

describe('backends', () => {
  it('cpu and wasm build the same LSTM weights from one seed and agree over a 10-step rollout', async () => {
    const cpu = await rollout('cpu');
    const wasm = await rollout('wasm');
    expect(maxAbsDifference(cpu.kernel, wasm.kernel)).toBe(0);
    // float32 on both, different summation orders in matMul: differences of a few 1e-7 per step, which the
    // LSTM's saturating gates keep from growing. 1e-4 leaves room and still catches any real disagreement.
    let worst = 0;
    cpu.outputs.forEach((values, i) => (worst = Math.max(worst, maxAbsDifference(values, wasm.outputs[i]))));
    expect(worst).toBeLessThan(1e-4);
    // The rollout is not trivially zero.
    expect(Math.max(...cpu.outputs[cpu.outputs.length - 1].map(Math.abs))).toBeGreaterThan(0.05);
  });

  it('cpu and wasm agree on a two-layer relu feed-forward step', async () => {
    const run = async (backend: 'cpu' | 'wasm'): Promise<Float32Array> => {
      await useBackend(backend);
      const controller = feedForward({ inputSize: 20, units: 16, layers: 2, activation: 'relu', seed: 3 });
      const output = tf.tidy(() => controller.step(randomTensor([3, 20], 7) as tf.Tensor2D, {}).output);
      const values = Float32Array.from(output.dataSync());
      output.dispose();
      controller.dispose();
      return values;
    };
    expect(maxAbsDifference(await run('cpu'), await run('wasm'))).toBeLessThan(1e-5);
  });
});
