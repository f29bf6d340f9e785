import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The test set StrykerJS runs (stryker.config.mjs); `npx vitest run` uses vitest.config.ts, every test.
//
// Left out here, each for a reason a mutant cannot change:
// - learning.test.ts: trains two models for 1,500 batches (~36 s) and checks accuracy bands; a mutant that
//   survives must run every test that covers it, and this one covers nearly every line. What it covers is
//   pinned by fast value tests (model_values.test.ts, optimizers.test.ts, fast_forward.test.ts...).
// - gradients.test.ts: compares tfjs' gradients of model.forward with finite differences of the same
//   (mutated) forward, so a mutant changes both sides alike; it tests tfjs' autodiff, not this code (~14 s).
// - parallel_trainer.test.ts: its workers run the built dist/parallel_worker.js, never the mutated sandbox
//   code; parallel_trainer.ts, parallel_worker.ts and parallel_protocol.ts are not mutated (stryker.config.mjs).
// - imports.test.ts: runs fresh Node processes that import the built @mann/model from dist/, not the mutants.
//
// Files run fastest first: with Stryker's bail (stop at the first failing test) a mutant that a quick value
// test kills, or one loaded at import time (which runs every test), stops within a second or two.
const ORDER = [
  'config', 'knn', 'loss', 'shard_episodes', 'batch_checks', 'parts', 'optimizers', 'model_values', 'checkpoint',
  'trainer', 'evaluate', 'cut_memory_reads', 'model', 'fast_forward',
];
const rank = (spec: TestSpecification): number => {
  const name = spec.moduleId.replace(/^.*[\\/]/, '').replace(/\.test\.ts$/, '');
  const index = ORDER.indexOf(name);
  return index < 0 ? ORDER.length : index;
};

class FastFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['src/learning.test.ts', 'src/gradients.test.ts', 'src/parallel_trainer.test.ts', 'src/imports.test.ts'],
    testTimeout: 60_000,
    sequence: { sequencer: FastFirst },
    // Tests that check what faster tests pin by value skip themselves here (MUTATION_RUN in src/test_helpers.ts):
    // model.test.ts's 40-update training runs and its 50-update leak check.
    env: { MANN_MUTATION_RUN: '1' },
    // One module graph for every file of a run (tfjs and the backends load once, not once per file): each mutant
    // reruns the test files that cover it, and re-importing tfjs for each would cost more than the tests.
    isolate: false,
    // Under `npm run mutation` the worker thread stays between runs and this setup file re-evaluates src/ for each
    // test file (scripts/stryker/keep-workers.mjs says why).
    setupFiles: process.env.MANN_MUTATION_FRESH_SOURCES ? [process.env.MANN_MUTATION_FRESH_SOURCES] : [],
  },
});
