import { describe, expect, it } from 'vitest';
import { oneHotLabels } from './one_hot_labels';
import { createRandom } from './random';
import { episodeTask, kShots, loadSamples, nWays, remapLabels, shuffleSteps } from './transforms';
import type { ClassDataset } from './types';

const dataset: ClassDataset = {
  numClasses: 6,
  sampleShape: [2],
  samplesIn: () => 4,
  read(c, s, out, offset) {
    out[offset] = c;
    out[offset + 1] = s;
  },
};

describe('episode transforms', () => {
  it('nWays picks distinct classes, from a pool when given', () => {
    const context = { dataset, random: createRandom(0) };
    const plan = nWays(3)({ classes: [], steps: [] }, context);
    expect(new Set(plan.classes).size).toBe(3);
    const pooled = nWays(2, [4, 5])({ classes: [], steps: [] }, context);
    expect([...pooled.classes].sort()).toEqual([4, 5]);
    expect(() => nWays(7)({ classes: [], steps: [] }, context)).toThrow(
      'nWays: cannot pick 7 distinct classes (ways) from a dataset of 6 classes',
    );
    expect(() => nWays(3, [4, 5])({ classes: [], steps: [] }, context)).toThrow(
      'nWays: cannot pick 3 distinct classes (ways) from a pool of 2 classes',
    );
  });

  it('kShots lists K distinct samples per slot, grouped by slot', () => {
    const context = { dataset, random: createRandom(1) };
    const plan = kShots(3)({ classes: [2, 5], steps: [] }, context);
    expect(plan.steps.map((step) => step.slot)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(new Set(plan.steps.slice(0, 3).map((step) => step.sample)).size).toBe(3);
    expect(() => kShots(5)({ classes: [2], steps: [] }, context)).toThrow(
      'kShots: class 2 has 4 samples, fewer than the 5 shots an episode needs',
    );
  });

  it('shuffleSteps reorders without changing the steps and leaves its input alone', () => {
    const steps = Array.from({ length: 12 }, (_, i) => ({ slot: i % 3, sample: i }));
    const input = { classes: [0, 1, 2], steps };
    const plan = shuffleSteps()(input, { dataset, random: createRandom(2) });
    expect(input.steps).toBe(steps);
    expect(steps.map((step) => step.sample)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect([...plan.steps].sort((a, b) => a.sample - b.sample)).toEqual(steps);
    expect(plan.steps).not.toEqual(steps);
  });

  it('episodeTask composes the transforms into a full plan', () => {
    const task = episodeTask(dataset, [nWays(3), kShots(2), shuffleSteps(), remapLabels(oneHotLabels(3)), loadSamples()]);
    const plan = task(createRandom(3));
    expect(plan.steps.length).toBe(6);
    expect([...plan.labels!].sort()).toEqual([0, 1, 2]);
    // loadSamples wrote [class, sample] of each step in step order.
    plan.steps.forEach(({ slot, sample }, t) => {
      expect([plan.inputs![2 * t], plan.inputs![2 * t + 1]]).toEqual([plan.classes[slot], sample]);
    });
    expect(task(createRandom(3))).toEqual(plan);
  });
});
