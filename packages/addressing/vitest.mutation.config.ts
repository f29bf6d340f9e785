import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from './vitest.config';

// The test configuration of mutation runs (stryker.config.mjs): the same tests as `vitest run`, run for speed.
// Stryker runs, for each mutant, the tests that cover it and stops at the first failure, so:
// - no isolation between test files: the files of one mutant's run share one import of tfjs and the code under
//   test (vitest still starts a fresh worker for every run, so module-level code runs again for each mutant);
// - the files that pin values by hand and the cheap JavaScript-against-WebAssembly comparisons run first, the
//   files that differentiate whole rollouts with tfjs last (vitest's own order puts the slowest first);
// - no JSON report file per run.
const CHEAP_FIRST = [
  'by_hand.test.ts',
  'wasm_choice.test.ts',
  'least_used_weights.test.ts',
  'content.test.ts',
  'lrua_wasm.test.ts',
  'ntm_wasm.test.ts',
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
  },
});
