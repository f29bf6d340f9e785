import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference, randomTensor } from '@mann/backend/testing';
import { lrua, ntm, type AddressingScheme } from './index';

afterAll(async () => {
  await useBackend('cpu');
});

/** Runs `steps` steps from the initial state and returns every step's reads and state, as plain arrays. */
function rollout(scheme: AddressingScheme, steps: number, batch = 2): Record<string, number[]>[] {
  const out: Record<string, number[]>[] = [];
  let state = scheme.initialState(batch);
  for (let t = 0; t < steps; t++) {
    const previous = state;
    const result = tf.tidy(() => scheme.step(randomTensor([batch, scheme.parameterSize], 100 + t, -2, 2) as tf.Tensor2D, previous));
    const record: Record<string, number[]> = { reads: Array.from(result.reads.dataSync()) };
    for (const [name, tensor] of Object.entries(result.state)) record[name] = Array.from(tensor.dataSync());
    out.push(record);
    tf.dispose([result.reads, ...Object.values(previous)]);
    state = result.state;
  }
  tf.dispose(Object.values(state));
  return out;
}

const memory = { slots: 8, width: 4 };
const schemes: [string, () => AddressingScheme][] = [
  ['lrua', () => lrua({ memory, heads: 2 })],
  ["lrua (writeVector 'add')", () => lrua({ memory, heads: 3, decay: 0.9, writeVector: 'add' })],
  ['ntm', () => ntm({ memory, heads: 2 })],
];

describe('cpu and wasm agree', () => {
  it.each(schemes)('%s: 6-step rollouts match to 1e-4', async (_name, make) => {
    await useBackend('cpu');
    const onCpu = rollout(make(), 6);
    await useBackend('wasm');
    const onWasm = rollout(make(), 6);
    onCpu.forEach((step, t) => {
      for (const name of Object.keys(step)) {
        const difference = maxAbsDifference(step[name], onWasm[t][name]);
        expect(difference, `step ${t}, ${name}`).toBeLessThan(1e-4);
      }
    });
  });
});
