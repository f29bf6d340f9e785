import type { BrowserContext } from 'playwright-core';

/** Default budget: 4 MB (4,000,000 bytes) before the first episode. */
export declare const DOWNLOAD_BUDGET: number;

/** One request started before the first episode was ready (Resource Timing). */
export interface DownloadEntry {
  /** URL path. */
  path: string;
  /** Body bytes as received (encodedBodySize). */
  bytes: number;
  /** Body bytes after Content-Encoding is undone (decodedBodySize). */
  decodedBytes: number;
  /** Bytes with headers (transferSize; 0 when served from the browser's cache). */
  transferBytes: number;
  startMs: number;
  endMs: number;
}

export interface DownloadMeasurement {
  /** Milliseconds from navigation start until `document.body.dataset.episode` became 'ready'. */
  readyMs: number;
  /** Sum of `bytes` over `entries`. */
  totalBytes: number;
  /** Sum of `transferBytes` over `entries`. */
  transferBytes: number;
  requests: number;
  /** Files and bytes by kind: 'html', 'favicon', 'js', 'css', 'checkpoint', 'held-out characters', 'wasm', 'other'. */
  byKind: Record<string, { files: number; bytes: number }>;
  entries: DownloadEntry[];
}

/**
 * Opens `url` in a new page of `context`, waits for the first episode (or a page error, which throws) and returns
 * what was downloaded before it.
 */
export declare function measureDownload(context: BrowserContext, url: string, options?: { timeoutMs?: number }): Promise<DownloadMeasurement>;

/** Serves `root` on a free localhost port (no fallback, no compression). */
export declare function serveFolder(root: string): Promise<{ url: string; close: () => Promise<void> }>;
