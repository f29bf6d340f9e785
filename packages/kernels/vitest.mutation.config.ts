import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// The test configuration of mutation runs (stryker.config.mjs): the same tests as `vitest run`, without isolation
// between files and without the JSON report.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    isolate: false,
    reporters: ['default'],
    // The tests that check the committed WebAssembly bytes against assembly/ skip themselves (no mutant of src/
    // changes assembly/, and the sandbox sits where the build script's path to scripts/ does not reach).
    env: { ...base.test?.env, MANN_MUTATION_RUN: '1' },
    // Under `npm run mutation` the worker thread stays between runs and this setup file re-evaluates src/ for each
    // test file (scripts/stryker/keep-workers.mjs says why).
    setupFiles: process.env.MANN_MUTATION_FRESH_SOURCES ? [process.env.MANN_MUTATION_FRESH_SOURCES] : [],
  },
});
