import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { createRandom, sampleEpisodes, syntheticPatterns } from '@mann/episodes';
import type { ModelConfig } from './config';
import { evaluateModel, labelEncodingFor } from './evaluate';
import { MemoryAugmentedNetwork } from './model';
import { Trainer } from './trainer';

// The claim of the paper in miniature: with memory, a network learns to bind a new class to its label after one
// presentation; without memory it cannot do better than guessing. 3-way episodes, 5 presentations per class, classes
// drawn from 40 random binary patterns; evaluation on 20 patterns never seen in training.
const TRAIN = syntheticPatterns({ classes: 40, samplesPerClass: 10, sampleShape: [6, 6], noise: 0.05, seed: 7 });
const HELD_OUT = syntheticPatterns({ classes: 20, samplesPerClass: 10, sampleShape: [6, 6], noise: 0.05, seed: 8 });
const TASK = { ways: 3, shots: 5 };
const SMALL_MANN: Partial<ModelConfig> = { controllerUnits: 32, memorySlots: 16, memoryWidth: 12, heads: 1, ways: 3, imageSize: 6 };

async function trainAndEvaluate(config: Partial<ModelConfig>, steps: number) {
  const model = new MemoryAugmentedNetwork(config);
  const trainer = new Trainer(model, { optimizer: 'adam', learningRate: 1e-2, fastPath: true });
  const labels = labelEncodingFor(model.config);
  const random = createRandom(1);
  for (let i = 0; i < steps; i++) {
    trainer.trainStep(sampleEpisodes(TRAIN, { ...TASK, batchSize: 16, labels, random }));
    // Let vitest's worker answer its runner now and then during a long synchronous computation.
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const { accuracy } = evaluateModel(model, { dataset: HELD_OUT, episodes: 128, shots: TASK.shots, seed: 3 });
  model.dispose();
  trainer.optimizer.dispose();
  return Object.fromEntries(accuracy.summary([1, 2, 3, 4, 5]).map((row) => [row.instance, row.accuracy]));
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('learning an episodic task', () => {
  it('a small MANN recalls held-out classes after one presentation; a feed-forward network stays at chance', async () => {
    const mann = await trainAndEvaluate(SMALL_MANN, 1500);
    const feedForward = await trainAndEvaluate({ ...SMALL_MANN, kind: 'feed-forward' }, 1500);
    console.log('2nd..5th instance accuracy, MANN:', [2, 3, 4, 5].map((k) => mann[k].toFixed(2)).join(' '), ' feed-forward:', [2, 3, 4, 5].map((k) => feedForward[k].toFixed(2)).join(' '));
    // Chance at the 2nd instance is 1/3: by then all three labels have usually been shown, so excluding used
    // labels does not help; only memory of the first presentation does.
    // Measured with this seed: 0.62 at the 2nd instance after 1,500 batches (fast path; 0.60 on the plain path).
    expect(mann[2]).toBeGreaterThan(0.5);
    expect(mann[5]).toBeGreaterThan(0.55);
    expect(feedForward[2]).toBeLessThan(0.42);
    expect(feedForward[5]).toBeLessThan(0.42);
  }, 300_000);
});
