// Loads the real Omniglot zips once per test file, from the folder in OMNIGLOT_DIR (CI sets it; never copied).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOmniglot } from '../node/load_omniglot';
import type { OmniglotSet } from '../types';

export const omniglotDirectory = process.env.OMNIGLOT_DIR;

if (omniglotDirectory === undefined || omniglotDirectory === '') {
  console.warn(
    '\n*** OMNIGLOT_DIR is not set: SKIPPING the tests that read the real Omniglot zips. ' +
      'Set OMNIGLOT_DIR to the folder holding images_background.zip and images_evaluation.zip. ***\n',
  );
}

/** A fresh, empty cache folder in the system temp dir (never in the repo). */
export const testCacheDir = mkdtempSync(join(tmpdir(), 'mann-omniglot-test-'));

let cold: Promise<{ background: OmniglotSet; evaluation: OmniglotSet; milliseconds: number }> | undefined;

/** The full sets at 20px, decoded from the zips (cold, into `testCacheDir`), memoised for the file. */
export function fullSets(): Promise<{ background: OmniglotSet; evaluation: OmniglotSet; milliseconds: number }> {
  cold ??= (async () => {
    const start = performance.now();
    const sets = await loadOmniglot({ dir: omniglotDirectory, cacheDir: testCacheDir });
    const milliseconds = performance.now() - start;
    console.log(`cold load of the full Omniglot (decode 32,460 PNGs + write cache): ${milliseconds.toFixed(0)} ms`);
    return { ...sets, milliseconds };
  })();
  return cold;
}
