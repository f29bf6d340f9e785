import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { evaluateModel } from '@mann/model';
import { loadCheckpoint } from '@mann/model/node';
import { loadTask } from './data';
import { SHIPPED_CHECKPOINT } from './demo';
import { evaluateCheckpoint } from './eval';

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
      // The first sight of a class is at best a guess among the labels not yet shown: 1/5, 1/4, 1/3, 1/2, 1 for
      // the episode's 1st to 5th new class, 45.7% on average (a leaked label would give far more). 240 guesses
      // put that at 0.46 +- 0.03, so 0.55 is three standard deviations above the best a model can do.
      expect(first).toBeLessThan(0.55);
      expect(byInstance.get(10)!).toBeGreaterThan(second);
    } finally {
      model.dispose();
    }
  }, 120_000);

  // The README's table must be what `mann eval --checkpoint checkpoints/omniglot-mann --episodes 1000` prints: each
  // figure inside the interval the README states (the evaluation is seeded, so in practice they are equal).
  it.skipIf(!OMNIGLOT_DIR)("reproduces the README's MANN row", async () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const row = readme.split('\n').find((line) => line.startsWith('| **MANN, shipped**'));
    expect(row, 'the README has a "| **MANN, shipped** ..." row').toBeDefined();
    const stated = [...row!.matchAll(/(\d+\.\d) ± (\d+\.\d)/g)].map((m) => ({ accuracy: Number(m[1]), interval: Number(m[2]) }));
    expect(stated).toHaveLength(6);
    const log = console.log;
    console.log = () => {}; // the JSON report; the figures are checked below
    const report = await evaluateCheckpoint({ checkpoint: SHIPPED_CHECKPOINT, episodes: 1000, batch: 16, seed: 1, knn: false, json: true, backend: 'wasm', data: OMNIGLOT_DIR });
    console.log = log;
    expect(report.accuracy.map((r) => r.instance)).toEqual([1, 2, 3, 4, 5, 10]);
    report.accuracy.forEach((measured, i) => {
      expect(Math.abs(100 * measured.accuracy - stated[i].accuracy), `instance ${measured.instance}: measured ${(100 * measured.accuracy).toFixed(1)}%, README ${stated[i].accuracy}%`).toBeLessThanOrEqual(stated[i].interval);
    });
  }, 300_000);
});
