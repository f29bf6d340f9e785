// Loaded into each StrykerJS test-runner process (stryker.base.mjs: `testRunnerNodeArgs`), before vitest. Two changes
// to how a runner runs mutants; neither changes which tests run or what they assert.
//
// 1. Keep the vitest worker. With `isolate: false`, vitest still retires its worker thread after every run
//    (tinypool's recycleWorkers), so each mutant's run started a new thread that imported tfjs and compiled its
//    WebAssembly backend again: 0.2-0.6 s of overhead per mutant, more than most mutants' tests. Here the worker is
//    kept, and fresh-sources.mjs (a setup file of each package's vitest.mutation.config.ts) drops the package's own
//    modules from the worker's module cache before every test file, so the code under test, and any mutant in
//    module-level code, is evaluated anew for each run as before; only node_modules (tfjs) and the built sibling
//    packages stay loaded. Checked: the same mutants killed, survived and timed out as with a new worker per run.
//
// 2. A lower hit limit. Stryker ends a mutant's run as a timeout once the mutated code has run 100x as often as in
//    the dry run (its HIT_LIMIT_FACTOR, not an option). A loop mutated to run forever (`i++` to `i--`) over the
//    fast paths' Float32Arrays then spins 10^6-10^7 times at ~3 us each (reading past the array's end), 10-20 s per
//    mutant: in @mann/addressing ~110 such mutants took most of the run. The limit here is 10x the dry run's count,
//    and never below 100,000 hits (or above Stryker's own): a mutant that makes code run 10x as often as every
//    covering test together did is a runaway loop in this code base, not a slower correct one.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const requireHere = createRequire(import.meta.url);
const requireFromVitest = createRequire(requireHere.resolve('vitest/package.json'));
const { Tinypool } = await import(pathToFileURL(requireFromVitest.resolve('tinypool')).href);
Tinypool.prototype.recycleWorkers = async function keepWorkers() {};
// The setup file each package's vitest.mutation.config.ts adds when this is set (the config is evaluated in the
// Stryker sandbox, from where this folder has no fixed relative path).
process.env.MANN_MUTATION_FRESH_SOURCES = new URL('./fresh-sources.mjs', import.meta.url).pathname;

const STRYKER_HIT_LIMIT_FACTOR = 100;
const HIT_LIMIT_FACTOR = 10;
const MIN_HIT_LIMIT = 100_000;
const runnerFolder = path.dirname(requireHere.resolve('@stryker-mutator/vitest-runner/package.json'));
const { VitestTestRunner } = await import(pathToFileURL(path.join(runnerFolder, 'dist/src/vitest-test-runner.js')).href);
const mutantRun = VitestTestRunner.prototype.mutantRun;
VitestTestRunner.prototype.mutantRun = function mutantRunWithLowerHitLimit(options) {
  if (options.hitLimit === undefined) return mutantRun.call(this, options);
  const dryRunHits = options.hitLimit / STRYKER_HIT_LIMIT_FACTOR;
  const hitLimit = Math.min(options.hitLimit, Math.max(Math.ceil(dryRunHits * HIT_LIMIT_FACTOR), MIN_HIT_LIMIT));
  return mutantRun.call(this, { ...options, hitLimit });
};

if (process.env.MANN_MUTATION_TIMING_LOG) {
  // Diagnosis: one line per vitest task (mutant id, milliseconds, test files) appended to this file.
  const { appendFileSync } = await import('node:fs');
  const run = Tinypool.prototype.run;
  Tinypool.prototype.run = async function timedRun(task, options) {
    const started = performance.now();
    try {
      return await run.call(this, task, options);
    } finally {
      const mutant = task?.providedContext?.activeMutant ?? 'dry-run';
      const files = (task?.files ?? []).map((f) => path.basename(f.filepath ?? f)).join(',');
      appendFileSync(process.env.MANN_MUTATION_TIMING_LOG, `${mutant}\t${Math.round(performance.now() - started)}\t${files}\n`);
    }
  };
}
