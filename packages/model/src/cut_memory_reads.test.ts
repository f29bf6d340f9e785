import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { cutMemoryReads } from './cut_memory_reads';
import { fastForward } from './fast_forward';
import { MemoryAugmentedNetwork } from './model';
import { episodeTensors } from './tensors';
import { SMALL, TINY, simpleRnn, smallBatch } from './test_helpers';

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

  it('zeroes exactly the rows that read vectors enter by, and nothing else', () => {
    // TINY with 2 heads of width 2 (4 read numbers) on 2 slots: the LSTM's input kernel has rows [x (1), y (2),
    // r (4), h (1)], the output kernel rows [h (1), r (4)].
    for (const controller of ['lstm', 'feed-forward'] as const) {
      const model = new MemoryAugmentedNetwork({ ...TINY, controller, memorySlots: 2, memoryWidth: 2, heads: 2 });
      const name = controller === 'lstm' ? 'controller/kernel' : 'controller/kernel0';
      const rows = (variable: tf.Variable) => (variable.arraySync() as number[][]).map((row) => row.map((v) => v + 0)); // -0 as 0
      const input = rows(model.variables[name]);
      const output = rows(model.variables['output/kernel']);
      cutMemoryReads(model);
      const zero = (row: number[]) => row.map(() => 0);
      expect(rows(model.variables[name]), controller).toEqual(input.map((row, i) => (i >= 3 && i < 7 ? zero(row) : row)));
      expect(rows(model.variables['output/kernel']), controller).toEqual(output.map((row, i) => (i >= 1 ? zero(row) : row)));
      model.dispose();
    }
  });

  it('refuses a model without memory', () => {
    const model = new MemoryAugmentedNetwork({ ...SMALL, kind: 'lstm' });
    expect(() => cutMemoryReads(model)).toThrow('cutMemoryReads: a lstm model has no memory to cut.');
    model.dispose();
    const feedForward = new MemoryAugmentedNetwork({ ...SMALL, kind: 'feed-forward' });
    expect(() => cutMemoryReads(feedForward)).toThrow('cutMemoryReads: a feed-forward model has no memory to cut.');
    feedForward.dispose();
  });

  it('refuses a controller whose kernels it does not know, changing nothing', () => {
    // simple-rnn's input kernel is 'controller/kernel' over [x, y, r, h], so that one works; a custom controller
    // named otherwise, or with fewer rows, does not.
    const message =
      'cutMemoryReads: expected a built-in controller whose input kernel takes [x_t, y_{t-1}, r_{t-1}] first (55 rows or more) ' +
      'and an output kernel over [h_t, r_t] (40 rows).';
    const renamed = new MemoryAugmentedNetwork({
      ...SMALL,
      controller: (sizes) => {
        const rnn = simpleRnn(sizes);
        return { ...rnn, variables: { weights: rnn.variables.kernel, bias: rnn.variables.bias } };
      },
    });
    expect(() => cutMemoryReads(renamed)).toThrow(message);
    renamed.dispose();
    const short = new MemoryAugmentedNetwork({
      ...SMALL,
      controller: (sizes) => {
        const rnn = simpleRnn(sizes);
        const kernel = tf.variable(tf.zeros([54, 24]));
        return { ...rnn, variables: { kernel, bias: rnn.variables.bias } };
      },
    });
    expect(() => cutMemoryReads(short)).toThrow(message);
    short.dispose();
    const fits = new MemoryAugmentedNetwork({ ...SMALL, controller: simpleRnn });
    expect(() => cutMemoryReads(fits)).not.toThrow();
    fits.dispose();
  });

  it('refuses an output kernel that is not over [h_t, r_t]', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const original = model.variables['output/kernel'];
    const wrong = tf.variable(tf.ones([41, 3]));
    (model.variables as Record<string, tf.Variable>)['output/kernel'] = wrong;
    expect(() => cutMemoryReads(model)).toThrow('and an output kernel over [h_t, r_t] (40 rows).');
    expect(Array.from(wrong.dataSync()).every((v) => v === 1)).toBe(true);
    (model.variables as Record<string, tf.Variable>)['output/kernel'] = original;
    wrong.dispose();
    model.dispose();
  });
});
