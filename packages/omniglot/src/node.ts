/**
 * The Node-only part of `@mann/omniglot`: finding, downloading and loading the two archives, with a cache of the
 * decoded drawings.
 *
 * @module @mann/omniglot/node
 */
export { omniglotDir, defaultCacheDir, ARCHIVE_NAMES } from './node/omniglot_dir';
export { incompleteSetWarnings, loadOmniglot } from './node/load_omniglot';
export type { LoadOmniglotOptions } from './node/load_omniglot';
export { downloadOmniglot, OMNIGLOT_BASE_URL } from './node/download_omniglot';
export type { DownloadOmniglotOptions } from './node/download_omniglot';
export { CACHE_VERSION, cacheFilePath } from './node/decoded_cache';
