import { describe, expect, it } from 'vitest';
import { loadTask } from './data';

const OMNIGLOT_DIR = process.env.OMNIGLOT_DIR;

describe('loadTask', () => {
  it.skipIf(!OMNIGLOT_DIR)('augments with rotated classes, and with a random affine per drawing unless told not to', async () => {
    const read = (task: Awaited<ReturnType<typeof loadTask>>, draw: number) => {
      const out = new Float32Array(400);
      let state = draw;
      task.train.read(4000, 3, out, 0, () => ((state = (state * 9301 + 49297) % 233280) / 233280));
      return out;
    };
    const options = { dir: OMNIGLOT_DIR, imageSize: 20, split: 'paper', splitSeed: 0 } as const;
    const full = await loadTask({ ...options, augment: true });
    const rotationsOnly = await loadTask({ ...options, augment: true, affine: false });
    const none = await loadTask({ ...options, augment: false });
    expect([full.train.numClasses, rotationsOnly.train.numClasses, none.train.numClasses]).toEqual([4800, 4800, 1200]);
    expect(rotationsOnly.describe).toMatch(/x4 rotations = 4800 classes\)/);
    // Without the affine a drawing reads the same whatever the random numbers; with it, it does not.
    expect(read(rotationsOnly, 1)).toEqual(read(rotationsOnly, 2));
    expect(read(full, 1)).not.toEqual(read(full, 2));
  });

  it.skipIf(!OMNIGLOT_DIR)('sets validation characters aside from the training ones (their rotations too); the held-out ones stay', async () => {
    const options = { dir: OMNIGLOT_DIR, imageSize: 20, split: 'paper', splitSeed: 0, augment: true } as const;
    const withValidation = await loadTask({ ...options, validation: 100 });
    const without = await loadTask(options);
    expect([withValidation.train.numClasses, withValidation.validation?.numClasses, withValidation.test.numClasses]).toEqual([4400, 100, 423]);
    expect([without.train.numClasses, without.validation, without.test.numClasses]).toEqual([4800, null, 423]);
    // The held-out characters are the same with or without a validation set: drawing for drawing.
    const drawing = (task: typeof without, c: number) => {
      const out = new Float32Array(400);
      task.test.read(c, 7, out, 0, Math.random);
      return out;
    };
    for (const c of [0, 211, 422]) expect(drawing(withValidation, c)).toEqual(drawing(without, c));
    // A validation drawing is never distorted (no rotation, no affine): the same whatever the random numbers.
    const a = new Float32Array(400);
    const b = new Float32Array(400);
    withValidation.validation!.read(5, 2, a, 0, () => 0.1);
    withValidation.validation!.read(5, 2, b, 0, () => 0.9);
    expect(a).toEqual(b);
  });
});
