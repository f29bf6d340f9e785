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
});
