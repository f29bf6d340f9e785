// Time to load the full Omniglot: cold (decode 32,460 PNGs, write the cache) and from the cache.
// Usage (after `npx tsup`): OMNIGLOT_DIR=/path/to/zips node bench/load.mjs
// The cache goes to a fresh temp folder, so the first load is always cold.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOmniglot } from '../dist/node.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'mann-omniglot-bench-'));
try {
  const time = async (label) => {
    const start = performance.now();
    const { background, evaluation } = await loadOmniglot({ cacheDir });
    const seconds = (performance.now() - start) / 1000;
    const images = [background, evaluation].flatMap((set) => set.characters).reduce((n, c) => n + c.drawers.length, 0);
    console.log(`${label.padEnd(12)} ${seconds.toFixed(3)} s  (${images} images)`);
  };
  await time('cold');
  for (let run = 1; run <= 3; run++) await time(`cache #${run}`);
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
