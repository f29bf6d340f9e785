import base from '../../stryker.base.mjs';

/** Mutation tests of @mann/kernels: `npm run mutation` here; the report is in reports/mutation/index.html. */
export default {
  ...base,
  // Below this score `stryker run` fails (issue 24's target for the core packages).
  thresholds: { high: 90, low: 85, break: 85 },
  vitest: { configFile: 'vitest.mutation.config.ts' },
  // Where the sandbox's files get `// @ts-nocheck`: src/ only. assembly/ is AssemblyScript, whose decorators babel
  // cannot parse (a warning per file otherwise), and vitest never loads it.
  disableTypeChecks: 'src/**/*.ts',
  mutate: ['src/**/*.ts', '!src/**/*.test.ts', '!src/matmul_wasm_bytes.ts'],
};
