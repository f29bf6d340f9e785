import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic_write';
import { ARCHIVE_NAMES, omniglotDir } from './omniglot_dir';

/** Where the authors publish the zips: raw files of the python/ folder of github.com/brendenlake/omniglot. */
export const OMNIGLOT_BASE_URL = 'https://raw.githubusercontent.com/brendenlake/omniglot/master/python';

/** Options of {@link downloadOmniglot}. */
export interface DownloadOmniglotOptions {
  /** Base URL holding the two zips (default `OMNIGLOT_BASE_URL`). */
  baseUrl?: string;
  /** Give up on a file after this many milliseconds (default 300,000: the larger zip is ~9 MB). */
  timeoutMs?: number;
  /** Called with a line of text per file. */
  onProgress?: (message: string) => void;
}

const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];

/**
 * Downloads the authors' `images_background.zip` and `images_evaluation.zip` into `dir` (default `omniglotDir()`),
 * skipping files already there, each written atomically (a temporary file, then a rename). Resolves to the two
 * paths. Offline or on an HTTP error it rejects with a message saying how to place the files by hand.
 *
 * ```ts
 * import { downloadOmniglot } from '@mann/omniglot/node';
 * await downloadOmniglot(); // ~/.cache/mann/omniglot/images_{background,evaluation}.zip
 * ```
 */
export async function downloadOmniglot(dir?: string, options: DownloadOmniglotOptions = {}): Promise<string[]> {
  const folder = omniglotDir(dir);
  const { baseUrl = OMNIGLOT_BASE_URL, timeoutMs = 300_000, onProgress = () => {} } = options;
  const paths: string[] = [];
  for (const name of [ARCHIVE_NAMES.background, ARCHIVE_NAMES.evaluation]) {
    const path = join(folder, name);
    paths.push(path);
    try {
      await access(path);
      onProgress(`${path} already present`);
      continue;
    } catch {
      // Not there yet: download it.
    }
    const url = `${baseUrl.replace(/\/$/, '')}/${name}`;
    const byHand =
      `Download ${name} from https://github.com/brendenlake/omniglot/tree/master/python into ${folder} by hand, ` +
      'or set OMNIGLOT_DIR to a folder that holds it.';
    onProgress(`downloading ${url}`);
    let bytes: Uint8Array;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) {
        throw new Error(`Could not download ${url}: HTTP ${response.status} ${response.statusText}. ${byHand}`);
      }
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      if ((error as Error).message.startsWith('Could not download')) throw error;
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new Error(`Could not download ${url} (${cause}); are you offline? ${byHand}`);
    }
    if (!ZIP_SIGNATURE.every((byte, k) => bytes[k] === byte)) {
      throw new Error(`Downloaded ${url} but it is not a zip archive (${bytes.length} bytes). ${byHand}`);
    }
    await writeFileAtomic(path, bytes);
    onProgress(`wrote ${path} (${bytes.length} bytes)`);
  }
  return paths;
}
