// Shared StrykerJS settings for the packages' mutation tests (`npm run mutation -w @mann/<package>`, or
// `npm run mutation` for all). Each package's stryker.config.mjs spreads this and says what to mutate.
// Tuned for a 2-core machine: two test runners, the TypeScript checker drops mutants that do not compile
// before any test runs, and vitest runs only the tests that cover each mutant.
// An equivalent mutant (one no test can tell apart) is marked where it lives, with
// `// Stryker disable next-line <mutator>: <why it is equivalent>`; the report lists it as ignored with that reason.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts' },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
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
  cleanTempDir: 'always',
};
