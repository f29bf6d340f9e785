import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readOmniglotZip } from '../read_omniglot_zip';
import { DEFAULT_IMAGE_SIZE, OFFICIAL_COUNTS } from '../types';
import type { OmniglotSet } from '../types';
import { cacheFilePath, readDecodedCache, sha256Hex, writeDecodedCache } from './decoded_cache';
import { ARCHIVE_NAMES, defaultCacheDir, omniglotDir } from './omniglot_dir';

/** Options of {@link loadOmniglot}. */
export interface LoadOmniglotOptions {
  /** Folder holding the two zips (default `omniglotDir()`: `$OMNIGLOT_DIR` or the per-user cache). */
  dir?: string;
  /** Side of the stored images (default 20). */
  imageSize?: number;
  /** Read and write the decoded-set cache (default true). */
  cache?: boolean;
  /** Folder of the cache file (default `$XDG_CACHE_HOME/mann/omniglot-decoded` or `~/.cache/mann/omniglot-decoded`). */
  cacheDir?: string;
  /** Called with a line of text at each stage (reading, cache hit or miss, decoding, cache written). */
  onProgress?: (message: string) => void;
  /**
   * Called with a line when an archive holds fewer characters than the authors' full set (one of their small
   * subsets under the official file name, say): everything trains and evaluates on what is there, so say so.
   * Default `console.warn`.
   */
  onWarning?: (message: string) => void;
}

/** A warning for each set that is not the full official one (964 background, 659 evaluation characters). */
export function incompleteSetWarnings(sets: { background: OmniglotSet; evaluation: OmniglotSet }): string[] {
  return (['background', 'evaluation'] as const).flatMap((name) => {
    const found = sets[name].characters.length;
    const expected = OFFICIAL_COUNTS[name].characters;
    return found === expected
      ? []
      : [
          `${sets[name].source} holds ${found} characters, not the ${expected} of the full ${name} set: training and ` +
            `evaluation use only these. For the paper's setting fetch the full zips (\`npx mann-omniglot download\`).`,
        ];
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads both Omniglot archives from `dir`, decoded and resized. The first load decodes the 32,460 PNGs (a few
 * seconds) and saves them to a binary cache keyed by the zips' sha256 and the image size; later loads read the
 * cache (well under a second). A cache that does not match or fails its checksum is rebuilt; failing to write
 * it only costs speed (reported through `onProgress`).
 *
 * ```ts
 * import { loadOmniglot } from '@mann/omniglot/node';
 * const { background, evaluation } = await loadOmniglot({ onProgress: console.log });
 * background.characters.length; // 964
 * ```
 */
export async function loadOmniglot(
  options: LoadOmniglotOptions = {},
): Promise<{
  /** The background set (964 characters in the full set): the authors' training alphabets. */
  background: OmniglotSet;
  /** The evaluation set (659 characters in the full set): the authors' held-out alphabets. */
  evaluation: OmniglotSet;
}> {
  const { imageSize = DEFAULT_IMAGE_SIZE, cache = true, onProgress = () => {}, onWarning = console.warn } = options;
  const warned = (sets: { background: OmniglotSet; evaluation: OmniglotSet }) => {
    for (const warning of incompleteSetWarnings(sets)) onWarning(warning);
    return sets;
  };
  const dir = omniglotDir(options.dir);
  const paths = { background: join(dir, ARCHIVE_NAMES.background), evaluation: join(dir, ARCHIVE_NAMES.evaluation) };
  const missing = [];
  for (const path of [paths.background, paths.evaluation]) if (!(await exists(path))) missing.push(path);
  if (missing.length > 0) {
    throw new Error(
      `Omniglot not found: missing ${missing.join(' and ')}. Set OMNIGLOT_DIR to the folder holding the authors' ` +
        `images_background.zip and images_evaluation.zip, or run \`npx mann-omniglot download\` to fetch them into ${dir}.`,
    );
  }
  onProgress(`reading ${paths.background} and ${paths.evaluation}`);
  const [backgroundZip, evaluationZip] = await Promise.all([readFile(paths.background), readFile(paths.evaluation)]);
  const key = { imageSize, archives: { background: sha256Hex(backgroundZip), evaluation: sha256Hex(evaluationZip) } };
  const cachePath = cacheFilePath(options.cacheDir ?? defaultCacheDir(), imageSize);
  if (cache) {
    const cached = await readDecodedCache(cachePath, key);
    if ('sets' in cached) {
      onProgress(`loaded the decoded sets from the cache ${cachePath}`);
      return warned({ background: cached.sets[0], evaluation: cached.sets[1] });
    }
    onProgress(`cache not used: ${cached.reason}`);
  }
  onProgress(`decoding ${paths.background}`);
  const background = readOmniglotZip(new Uint8Array(backgroundZip), { imageSize, name: paths.background });
  onProgress(`decoding ${paths.evaluation}`);
  const evaluation = readOmniglotZip(new Uint8Array(evaluationZip), { imageSize, name: paths.evaluation });
  for (const [set, wrong, path] of [
    [background, 'evaluation', paths.background],
    [evaluation, 'background', paths.evaluation],
  ] as const) {
    if (set.characters[0].set === wrong) {
      throw new Error(`${path} holds the ${wrong} set (images_${wrong}); are the two files swapped?`);
    }
  }
  if (cache) {
    try {
      await writeDecodedCache(cachePath, key, [background, evaluation]);
      onProgress(`wrote the cache ${cachePath}`);
    } catch (error) {
      onProgress(`could not write the cache ${cachePath}: ${(error as Error).message}`);
    }
  }
  return warned({ background, evaluation });
}
