import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from './vitest.config';

// The test configuration of mutation runs (stryker.config.mjs): the same tests as `vitest run`, run for speed.
// Stryker runs, for each mutant, the tests that cover it and stops at the first failure, so:
// - no isolation between test files: the files of one mutant's run share one import of tfjs and the code under
//   test (vitest still starts a fresh worker for every run, so module-level code runs again for each mutant);
// - the cheap files first: the JavaScript-against-WebAssembly comparisons (which do not load tfjs), then the values
//   pinned by hand, and the files that differentiate whole rollouts with tfjs last (vitest's own order puts the
//   slowest first);
// - no JSON report file per run;
// - MANN_MUTATION_RUN set: lrua_wasm.test.ts and ntm_wasm.test.ts then leave out their paper-size cases (slow in
//   instrumented code; the smaller cases take the same branches) and the check that the committed wasm bytes are
//   built from assembly/ (which no mutant of src/ changes). Every mutated file keeps its tests that pin values.
const CHEAP_FIRST = [
  'lrua_wasm.test.ts',
  'ntm_wasm.test.ts',
  'by_hand.test.ts',
  'least_used_weights.test.ts',
  'content.test.ts',
  'lrua.test.ts',
  'ntm.test.ts',
  'fast_addressing.test.ts',
  'readme_example.test.ts',
  'backends.test.ts',
  'fast_ntm.test.ts',
];

class CheapFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const at = CHEAP_FIRST.indexOf(basename(spec.moduleId));
      return at < 0 ? CHEAP_FIRST.length : at;
    };
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    isolate: false,
    sequence: { sequencer: CheapFirst },
    reporters: ['default'],
    env: { ...base.test?.env, MANN_MUTATION_RUN: '1' },
    // Under `npm run mutation` the worker thread stays between runs and this setup file re-evaluates src/ for each
    // test file (scripts/stryker/keep-workers.mjs says why).
    setupFiles: process.env.MANN_MUTATION_FRESH_SOURCES ? [process.env.MANN_MUTATION_FRESH_SOURCES] : [],
  },
});
