// Loaded into each StrykerJS test-runner process (stryker.base.mjs: `testRunnerNodeArgs`), before vitest.
//
// Why: with `isolate: false`, vitest still retires its worker thread after every run (tinypool's recycleWorkers),
// so each mutant's run starts a new thread that imports tfjs again and compiles its WebAssembly backend again:
// ~0.3-0.6 s of every mutant's run, more than the tests themselves for most mutants. Here the worker is kept, and
// fresh-sources.mjs (a setup file of each package's vitest.mutation.config.ts) drops the package's own modules from
// the worker's module cache before every test file, so the code under test, and any mutant in module-level code,
// is evaluated anew for each run as before; only node_modules (tfjs) and the built sibling packages stay loaded.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const requireFromVitest = createRequire(createRequire(import.meta.url).resolve('vitest/package.json'));
const { Tinypool } = await import(pathToFileURL(requireFromVitest.resolve('tinypool')).href);
Tinypool.prototype.recycleWorkers = async function keepWorkers() {};
// The setup file each package's vitest.mutation.config.ts adds when this is set (the config is evaluated in the
// Stryker sandbox, from where this folder has no fixed relative path).
process.env.MANN_MUTATION_FRESH_SOURCES = new URL('./fresh-sources.mjs', import.meta.url).pathname;
