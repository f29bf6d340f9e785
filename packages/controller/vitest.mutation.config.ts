import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from './vitest.config';

// The test configuration of mutation runs (stryker.config.mjs): the same tests as `vitest run`, run for speed.
// Stryker runs, for each mutant, the tests that cover it and stops at the first failure, so:
// - no isolation between test files: the files of one mutant's run share one import of tfjs and its backends;
// - the cheap files first: the values and messages pinned by hand, then the controllers' own tests, and the files
//   that roll out and differentiate whole runs on two backends last (vitest's own order puts the slowest first);
// - no JSON report file per run.
const CHEAP_FIRST = [
  'fast_values.test.ts',
  'fast_run.test.ts',
  'lstm_step.test.ts',
  'feed_forward.test.ts',
  'glorot_uniform.test.ts',
  'lstm.test.ts',
  'differentiated_controller.test.ts',
  'readme_fast_rnn.test.ts',
  'backends.test.ts',
  'fast_controllers.test.ts',
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
    // The tests that check the committed WebAssembly bytes against assembly/ skip themselves (no mutant of src/
    // changes assembly/, and the sandbox sits where the build script's path to scripts/ does not reach).
    env: { ...base.test?.env, MANN_MUTATION_RUN: '1' },
    // Under `npm run mutation` the worker thread stays between runs and this setup file re-evaluates src/ for each
    // test file (scripts/stryker/keep-workers.mjs says why).
    setupFiles: process.env.MANN_MUTATION_FRESH_SOURCES ? [process.env.MANN_MUTATION_FRESH_SOURCES] : [],
  },
});
