import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { evaluateModel } from '@mann/model';
import { loadCheckpoint } from '@mann/model/node';
import { loadTask } from './data';
import { SHIPPED_CHECKPOINT } from './demo';

const OMNIGLOT_DIR = process.env.OMNIGLOT_DIR;

// The trained MANN in checkpoints/omniglot-mann, on a small fixed set of held-out episodes. A broken loader
// (wrong split, wrong pixels, wrong resize), a broken model or damaged weights all bring the 2nd instance back
// towards chance (20% for 5 classes), so this guards the whole path from the zips to the predictions.
describe('the shipped checkpoint', () => {
  it('is in the repository', () => {
    expect(existsSync(join(SHIPPED_CHECKPOINT, 'manifest.json')), `${SHIPPED_CHECKPOINT}manifest.json`).toBe(true);
  });

  it.skipIf(!OMNIGLOT_DIR)('recognises held-out characters from one example', async () => {
    await useBackend('wasm');
    const { model, training } = await loadCheckpoint(SHIPPED_CHECKPOINT);
    try {
      expect(model.config.kind).toBe('mann');
      const task = await loadTask({ dir: OMNIGLOT_DIR, imageSize: model.config.imageSize, split: 'paper', splitSeed: 0, augment: false });
      const result = evaluateModel(model, { dataset: task.test, episodes: 48, shots: 10, batchSize: 16, seed: 7 });
      const byInstance = new Map(result.accuracy.summary().map((row) => [row.instance, row.accuracy]));
      const first = byInstance.get(1)!;
      const second = byInstance.get(2)!;
      // 48 episodes give 240 2nd-instance guesses: chance is 0.20 +- 0.05 (two standard deviations).
      expect(second, `2nd-instance accuracy ${second} after ${training.step} batches`).toBeGreaterThan(0.5);
      // The first sight of a class is a guess among labels not yet seen; the model cannot know it.
      expect(first).toBeLessThan(0.4);
      expect(byInstance.get(10)!).toBeGreaterThan(second);
    } finally {
      model.dispose();
    }
  }, 120_000);
});
