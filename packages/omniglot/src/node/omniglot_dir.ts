import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The per-user cache root: `$XDG_CACHE_HOME/mann`, else `~/.cache/mann`. */
export function userCacheRoot(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return xdg !== undefined && xdg !== '' ? join(resolve(xdg), 'mann') : join(homedir(), '.cache', 'mann');
}

/**
 * The folder holding (or to receive) the authors' `images_background.zip` and `images_evaluation.zip`:
 * `explicit` if given, else `$OMNIGLOT_DIR`, else `<per-user cache>/omniglot`
 * (`$XDG_CACHE_HOME/mann/omniglot` or `~/.cache/mann/omniglot`).
 *
 * ```ts
 * omniglotDir(); // e.g. '/home/me/.cache/mann/omniglot'
 * ```
 */
export function omniglotDir(explicit?: string): string {
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const fromEnvironment = process.env.OMNIGLOT_DIR;
  if (fromEnvironment !== undefined && fromEnvironment !== '') return resolve(fromEnvironment);
  return join(userCacheRoot(), 'omniglot');
}

/** Default folder of decoded-set caches: `<per-user cache>/omniglot-decoded`, beside the zips' default folder. */
export function defaultCacheDir(): string {
  return join(userCacheRoot(), 'omniglot-decoded');
}

/** The two archives every loader needs. */
export const ARCHIVE_NAMES = {
  /** The background set's zip: the authors' training alphabets. */
  background: 'images_background.zip',
  /** The evaluation set's zip: the authors' held-out alphabets. */
  evaluation: 'images_evaluation.zip',
} as const;
