// A vitest setup file of mutation runs (see keep-workers.mjs): before each test file, forget every module under the
// package's src/ that an earlier run or file evaluated, so it runs again with the mutant now active.
import path from 'node:path';

const sources = path.join(process.cwd(), 'src') + path.sep;
const cache = globalThis.__vitest_worker__?.moduleCache;
if (!cache) throw new Error('fresh-sources.mjs: not inside a vitest worker (no __vitest_worker__.moduleCache)');
for (const id of [...cache.keys()]) {
  if (id.startsWith(sources) || id.startsWith(`mock:${sources}`)) cache.delete(id);
}
