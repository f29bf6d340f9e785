import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { cutMemoryReads } from './cut_memory_reads';
import { fastForward } from './fast_forward';
import { MemoryAugmentedNetwork } from './model';
import { episodeTensors } from './tensors';
import { SMALL, smallBatch } from './test_helpers';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Max change of the logits when the weights that produce the memory's keys and gates are scrambled. */
function memoryInfluence(model: MemoryAugmentedNetwork, path: 'fast' | 'plain'): number {
  const input = episodeTensors(smallBatch(model.config));
  const run = () =>
    tf.tidy(() => (path === 'fast' ? fastForward(model, input.images, input.previousLabels) : model.forward(input.images, input.previousLabels)));
  const before = run();
  const kernel = model.variables['memory/kernel'];
  const saved = kernel.clone();
  kernel.assign(tf.randomNormal(kernel.shape, 0, 1, 'float32', 3));
  const after = run();
  kernel.assign(saved);
  const change = tf.tidy(() => tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]);
  tf.dispose([before, after, saved, input] as unknown as tf.TensorContainer);
  return change;
}

describe('cutMemoryReads', () => {
  for (const controller of ['lstm', 'feed-forward'] as const) {
    it(`makes a ${controller} MANN's answers independent of its memory, on both paths`, () => {
      const model = new MemoryAugmentedNetwork({ ...SMALL, controller });
      const paths = controller === 'lstm' ? (['fast', 'plain'] as const) : (['plain'] as const);
      for (const path of paths) expect(memoryInfluence(model, path)).toBeGreaterThan(1e-3);
      const before = tf.memory().numTensors;
      cutMemoryReads(model);
      expect(tf.memory().numTensors).toBe(before);
      for (const path of paths) expect(memoryInfluence(model, path)).toBe(0);
      model.dispose();
    });
  }

  it('refuses a model without memory', () => {
    const model = new MemoryAugmentedNetwork({ ...SMALL, kind: 'lstm' });
    expect(() => cutMemoryReads(model)).toThrow('cutMemoryReads: a lstm model has no memory to cut.');
    model.dispose();
  });
});
