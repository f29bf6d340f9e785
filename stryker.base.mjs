// Shared StrykerJS settings for the packages' mutation tests (`npm run mutation -w @mann/<package>`, or
// `npm run mutation` for all). Each package's stryker.config.mjs spreads this and says what to mutate.
// Tuned for a 2-core machine: two test runners, vitest runs only the tests that cover each mutant, and each runner
// keeps its vitest worker thread (tfjs loaded once) between mutants (scripts/stryker/keep-workers.mjs).
// No TypeScript checker: it held one of the two cores for the whole run (half the throughput) to drop the 15-30% of
// mutants that do not compile; those now run against the tests like the rest (most fail them at once).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts' },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  // Extra time a mutant's tests get over their measured time before it counts as a timeout (an endless loop):
  // kept short, as each timeout holds one of the two runners that long.
  timeoutMS: 5_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  testRunnerNodeArgs: ['--import', new URL('./scripts/stryker/keep-workers.mjs', import.meta.url).pathname],
  cleanTempDir: 'always',
};
