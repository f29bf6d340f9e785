import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference, tensorCountAfterSteps } from '@mann/backend/testing';
import { restoreCheckpoint, serializeCheckpoint } from './checkpoint';
import type { ModelConfig } from './config';
import { MemoryAugmentedNetwork } from './model';
import { ParallelTrainer } from './parallel_trainer';
import { DivergenceError, Trainer } from './trainer';
import { SMALL, contentOnly, smallBatch } from './test_helpers';
import { createRandom } from '@mann/episodes';

// These tests start real worker threads running the compiled worker (dist/parallel_worker.js): build first
// (npx tsup). Each worker runs its own tfjs on the main thread's backend, here wasm.
//
// Tolerance for ParallelTrainer vs Trainer: the same maths in float32 with a different summation order. The
// batch's mean loss is a weighted mean of the shards' means (instead of one mean over every row), and each
// weight gradient sums T * b rows per shard and then adds the shards (instead of T * B rows in one matMul).
// Each reordering changes a float32 result by a few ulps (~6e-8 relative); the loss (~1.1) agrees to ~3e-7
// in practice, so LOSS_TOLERANCE = 1e-5 leaves ~30x room. A real mistake is far larger: weighting the shards
// of 3 and 2 episodes equally instead of 3/5 and 2/5 moves the loss by 0.1 x (difference of the shards'
// losses). Checked by mutation: equal weights in the loss failed the loss check at step 1 (off by 1.8e-3 and
// 2.5e-3); equal weights in the gradients only failed the gradient-norm check (off by 2.9e-3 and 1.5e-3,
// ~500x the tolerance).
// Weights: RMSProp's first steps move each weight by about lr / sqrt(1 - decay) = 4.5e-3 whatever the
// gradient's size, so after 3 updates the weights agree to ~1e-7 when every gradient agrees in sign and to ~1e-6
// relative in size (observed: at most 1e-7); WEIGHT_TOLERANCE = 1e-6.
const LOSS_TOLERANCE = 1e-5;
const WEIGHT_TOLERANCE = 1e-6;

function pair(config: Partial<ModelConfig>, fastPath: boolean, workers = 2) {
  const options = { optimizer: 'rmsprop' as const, learningRate: 1e-3, fastPath };
  const single = new Trainer(new MemoryAugmentedNetwork(config), options);
  const parallel = new ParallelTrainer(new MemoryAugmentedNetwork(config), { ...options, workers });
  return { single, parallel };
}

function expectSameWeights(a: MemoryAugmentedNetwork, b: MemoryAugmentedNetwork): void {
  for (const name of Object.keys(a.variables)) {
    expect(maxAbsDifference(a.variables[name], b.variables[name]), name).toBeLessThan(WEIGHT_TOLERANCE);
  }
}

function closeAll(...trainers: Trainer[]): void {
  for (const trainer of trainers) {
    trainer.dispose();
    trainer.model.dispose();
  }
}

describe('ParallelTrainer (wasm workers)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  const cases: [string, Partial<ModelConfig>, boolean, number, number][] = [
    // name, config, fast path, batch size, workers
    ['fast path, batch 5 over 2 workers (3 + 2 episodes)', { ...SMALL, seed: 3 }, true, 5, 2],
    ['plain path, string labels (5 groups), batch 5 over 2 workers', { ...SMALL, labels: 'string', seed: 5 }, false, 5, 2],
    ['fast path, batch 2 over 3 workers (one idle)', { ...SMALL, seed: 6 }, true, 2, 3],
  ];

  it.each(cases)('gives Trainer’s loss, gradient norm, predictions and weights over 3 steps: %s', (_, config, fastPath, batchSize, workers) => {
    const { single, parallel } = pair(config, fastPath, workers);
    expect(parallel.fastPath).toBe(fastPath);
    const random = createRandom(11);
    for (let step = 0; step < 3; step++) {
      const batch = smallBatch(config, random, 4, batchSize);
      const a = single.trainStep(batch);
      const b = parallel.trainStep(batch);
      expect(Math.abs(a.loss - b.loss), `loss at step ${step + 1}`).toBeLessThan(LOSS_TOLERANCE);
      expect(Math.abs(a.gradientNorm - b.gradientNorm), `gradient norm at step ${step + 1}`).toBeLessThan(LOSS_TOLERANCE * a.gradientNorm);
      // Argmax of logits that agree to ~1e-7: a flip would need a near-tie of that size (none in these batches).
      expect(b.predictions).toEqual(a.predictions);
    }
    expect(parallel.step).toBe(3);
    expectSameWeights(single.model, parallel.model);
    closeAll(single, parallel);
  });

  it('leaks no tensors in the main thread or the workers, and stops its workers on dispose', async () => {
    const { single, parallel } = pair({ ...SMALL, seed: 7 }, true);
    const batch = smallBatch(SMALL, createRandom(2), 4, 4);
    const counts: number[][] = [];
    const { afterFirst, afterLast } = tensorCountAfterSteps(() => {
      parallel.trainStep(batch);
      counts.push(parallel.workerTensorCounts);
    }, 3);
    expect(afterLast).toBe(afterFirst);
    expect(counts[0].every((n) => n > 0)).toBe(true);
    expect(counts[2]).toEqual(counts[0]);
    parallel.dispose();
    await parallel.exited; // resolves only when every worker thread has exited
    expect(() => parallel.trainStep(batch)).toThrow(/was disposed/);
    closeAll(single);
    parallel.model.dispose();
  });

  it('refuses a batch that does not fit the model before the workers see it, leaves the weights as they were, and goes on', () => {
    const { single, parallel } = pair({ ...SMALL, seed: 8 }, true);
    const good = smallBatch(SMALL, createRandom(3), 4, 4);
    parallel.trainStep(good);
    const before = Object.values(parallel.model.variables).map((v) => v.clone());
    // 35 numbers per sample where the model takes 6 x 6 = 36: refused on the main thread, in one line.
    const wrong = { ...good, sampleSize: 35, inputs: good.inputs.subarray(0, good.steps * good.batchSize * 35) };
    expect(() => parallel.trainStep(wrong)).toThrow(
      "ParallelTrainer.trainStep: the batch's samples have 35 numbers (sampleSize) but the model takes 36 (imageSize 6^2)",
    );
    const targets = good.targets.slice();
    targets[0] = 7;
    expect(() => parallel.trainStep({ ...good, targets })).toThrow(/ParallelTrainer.trainStep: batch.targets\[0\] is 7, not an integer in \[0, 3\)/);
    Object.values(parallel.model.variables).forEach((v, i) => expect(maxAbsDifference(v, before[i])).toBe(0));
    expect(parallel.step).toBe(1);
    parallel.trainStep(good);
    expect(parallel.step).toBe(2);
    tf.dispose(before);
    closeAll(single, parallel);
  });

  it('throws DivergenceError without updating on a NaN input (the update code Trainer uses)', () => {
    const { single, parallel } = pair({ ...SMALL, seed: 9 }, true);
    const batch = smallBatch(SMALL, createRandom(4), 4, 4);
    const inputs = batch.inputs.slice();
    inputs[inputs.length - 1] = NaN; // the last episode's, in the second worker's shard
    const before = parallel.model.variables['output/kernel'].clone();
    expect(() => parallel.trainStep({ ...batch, inputs })).toThrow(DivergenceError);
    expect(maxAbsDifference(parallel.model.variables['output/kernel'], before)).toBe(0);
    expect(parallel.step).toBe(0);
    before.dispose();
    closeAll(single, parallel);
  });

  it('says clearly when its workers cannot start, and refuses to continue', () => {
    const model = new MemoryAugmentedNetwork({ ...SMALL, seed: 10 });
    const parallel = new ParallelTrainer(model, { backend: 'webgl', workers: 1 });
    const batch = smallBatch(SMALL, createRandom(5), 4, 2);
    expect(() => parallel.trainStep(batch)).toThrow(/worker 0 failed to start on backend 'webgl': .*webgl/i);
    expect(() => parallel.trainStep(batch)).toThrow(/cannot continue: worker 0 failed to start.*resume from the last checkpoint/);
    closeAll(parallel);
  });

  it('reports a worker file that does not load', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const parallel = new ParallelTrainer(model, { workerScript: '/nonexistent/parallel_worker.js', workers: 1, timeoutMs: 20_000 });
    expect(() => parallel.trainStep(smallBatch(SMALL, createRandom(5), 4, 2))).toThrow(/worker 0 failed to start.*cannot load the worker file:\/\/\/nonexistent\/parallel_worker.js/);
    closeAll(parallel);
  });

  it('refuses bad options', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    expect(() => new ParallelTrainer(model, { workers: 0 })).toThrow(/workers must be an integer >= 1, got 0/);
    expect(() => new ParallelTrainer(model, { timeoutMs: 0 })).toThrow(/timeoutMs must be > 0/);
    model.dispose();
  });

  it('continues a checkpoint like Trainer.fromCheckpoint (optimiser state and step restored)', async () => {
    const config = { ...SMALL, seed: 12 };
    const first = new Trainer(new MemoryAugmentedNetwork(config), { optimizer: 'rmsprop', learningRate: 1e-3, fastPath: true });
    const random = createRandom(6);
    first.trainStep(smallBatch(config, random, 4, 4));
    const { manifest, weights } = await serializeCheckpoint(first.model, first.trainingState(), first.optimizer);
    const next = smallBatch(config, random, 4, 4);
    const restoredA = restoreCheckpoint(manifest, weights);
    const restoredB = restoreCheckpoint(manifest, weights);
    const single = Trainer.fromCheckpoint(restoredA, { fastPath: true });
    const parallel = ParallelTrainer.fromCheckpoint(restoredB, { fastPath: true, workers: 2 });
    expect(parallel).toBeInstanceOf(ParallelTrainer);
    expect(parallel.step).toBe(1);
    expect(parallel.optimizer.name).toBe('rmsprop');
    expect(parallel.learningRate).toBe(1e-3);
    single.trainStep(next);
    parallel.trainStep(next);
    expect(parallel.step).toBe(2);
    // With the optimiser's momentum restored the second update depends on the first; a fresh state would move
    // the weights differently by ~lr.
    expectSameWeights(single.model, parallel.model);
    tf.dispose([...Object.values(restoredA.optimizerState), ...Object.values(restoredB.optimizerState)]);
    closeAll(first, single, parallel);
  });
});

describe('ParallelTrainer and parts built by factories', () => {
  it('refuses a model whose addressing scheme is built by a factory (it cannot reach a worker), naming the way out', async () => {
    await useBackend('cpu');
    const model = new MemoryAugmentedNetwork({ ...SMALL, addressing: contentOnly });
    expect(() => new ParallelTrainer(model, { workers: 1 })).toThrow(
      "ParallelTrainer: this model's addressing is built by a factory function, which cannot be sent to a worker thread; train it with Trainer (one thread).",
    );
    model.dispose();
  });
});
