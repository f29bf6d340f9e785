// How many bytes the built page downloads before its first episode is ready (the page sets
// `document.body.dataset.episode = 'ready'`), in headless Chromium through playwright-core:
//   node scripts/measure-download.mjs [dist folder | URL] [--backend webgl] [--budget 4000000] [--json]
// It serves dist/ (default: this example's) on a free localhost port unless given a URL, opens the page in a fresh
// profile, and sums the body sizes (Resource Timing's encodedBodySize: what came over the wire, before any
// Content-Encoding is undone) of every request that started before the episode was ready: the page, JS, CSS,
// checkpoint, held-out character files. Exits 1 when the total is over the budget (default 4 MB = 4,000,000 bytes).
// The e2e test can import `measureDownload(context, url)` and assert on its result.
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Default budget: 4 MB before the first episode. */
export const DOWNLOAD_BUDGET = 4_000_000;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
};

/** Serves `root` on a free localhost port, no fallback (a missing file is a 404), no compression. */
export async function serveFolder(root) {
  const base = resolve(root);
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    let size = -1;
    try {
      if (file.startsWith(base + sep) && statSync(file).isFile()) size = statSync(file).size;
    } catch {
      size = -1;
    }
    if (size < 0) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    response.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': size });
    createReadStream(file).pipe(response);
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

/** What a URL path is, for the breakdown. */
function kindOf(path) {
  if (path.includes('/held-out/')) return 'held-out characters';
  if (path.includes('/train-characters/')) return 'training characters';
  if (path.includes('/checkpoint/')) return 'checkpoint';
  if (path.endsWith('.wasm')) return 'wasm';
  if (path.endsWith('.js')) return 'js';
  if (path.endsWith('.css')) return 'css';
  if (path.endsWith('.html') || path.endsWith('/')) return 'html';
  if (path.endsWith('.svg') || path.endsWith('.ico')) return 'favicon';
  return 'other';
}

/**
 * Opens `url` in a new page of `context` (a playwright-core BrowserContext), waits until the first episode is
 * ready (or the page reports an error), and returns the bytes of every request started before that moment.
 * `readyMs` is the time from navigation start to the ready flag.
 */
export async function measureDownload(context, url, { timeoutMs = 120_000 } = {}) {
  const page = await context.newPage();
  try {
    await page.addInitScript(() => {
      performance.setResourceTimingBufferSize(100_000);
      // The first time body[data-episode] is set at all: 'ready', or already past it if the page moved on within
      // the same task (the observer runs after the task).
      const watch = new MutationObserver(() => {
        if (document.body?.dataset.episode && window.__mannEpisodeReadyAt === undefined) {
          window.__mannEpisodeReadyAt = performance.now();
          watch.disconnect();
        }
      });
      watch.observe(document, { subtree: true, attributes: true, attributeFilter: ['data-episode'], childList: true });
    });
    await page.goto(url);
    await page.waitForFunction(
      () => window.__mannEpisodeReadyAt !== undefined || window.mannApp?.status === 'error',
      undefined,
      { timeout: timeoutMs, polling: 100 },
    );
    return await page.evaluate(() => {
      const error = window.mannApp?.error;
      const readyAt = window.__mannEpisodeReadyAt;
      const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
        .filter((entry) => readyAt !== undefined && entry.startTime <= readyAt)
        .map((entry) => ({
          path: new URL(entry.name).pathname,
          bytes: entry.encodedBodySize,
          decodedBytes: entry.decodedBodySize,
          transferBytes: entry.transferSize,
          startMs: Math.round(entry.startTime),
          endMs: Math.round(entry.responseEnd),
        }));
      return { error, readyMs: readyAt === undefined ? undefined : Math.round(readyAt), entries };
    }).then(({ error, readyMs, entries }) => {
      if (error || readyMs === undefined) throw new Error(`the page reported an error before its first episode: ${error}`);
      const byKind = {};
      for (const entry of entries) {
        const kind = kindOf(entry.path);
        byKind[kind] ??= { files: 0, bytes: 0 };
        byKind[kind].files += 1;
        byKind[kind].bytes += entry.bytes;
      }
      const total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
      const transferred = entries.reduce((sum, entry) => sum + entry.transferBytes, 0);
      return { readyMs, totalBytes: total, transferBytes: transferred, requests: entries.length, byKind, entries };
    });
  } finally {
    await page.close();
  }
}

function format(bytes) {
  return `${bytes.toLocaleString('en')} B (${(bytes / 1e6).toFixed(2)} MB)`;
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const at = args.indexOf(name);
    if (at < 0) return fallback;
    const [value] = args.splice(at, 2).slice(1);
    return value;
  };
  const json = args.includes('--json');
  if (json) args.splice(args.indexOf('--json'), 1);
  const backend = option('--backend', 'webgl');
  const budget = Number(option('--budget', String(DOWNLOAD_BUDGET)));
  const target = args[0] ?? join(here, '..', 'dist');
  let server;
  let url = target;
  if (!/^https?:\/\//.test(target)) {
    if (!existsSync(join(target, 'index.html'))) {
      console.error(`measure-download: no built page in ${target}; run npm run build -w @mann/example-browser first.`);
      process.exit(2);
    }
    server = await serveFolder(target);
    url = server.url;
  }
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) {
    console.error(`measure-download: no Chromium at ${chromiumPath}; install it (apt-get install -y chromium) or set CHROMIUM_PATH.`);
    process.exit(2);
  }
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'mann-measure-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'],
  });
  try {
    const pageUrl = `${url}${url.includes('?') ? '&' : '?'}backend=${backend}`;
    const result = await measureDownload(context, pageUrl);
    if (json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`${pageUrl}: first episode ready after ${result.readyMs} ms, ${result.requests} requests`);
      for (const [kind, { files, bytes }] of Object.entries(result.byKind).sort((a, b) => b[1].bytes - a[1].bytes)) {
        console.log(`  ${kind.padEnd(20)} ${String(files).padStart(3)} files  ${format(bytes)}`);
      }
      console.log(`  ${'total'.padEnd(20)} ${String(result.requests).padStart(3)} files  ${format(result.totalBytes)} (with headers: ${format(result.transferBytes)})`);
      console.log(`  budget ${format(budget)}: ${result.totalBytes <= budget ? 'within' : 'OVER'}`);
    }
    if (result.totalBytes > budget) process.exitCode = 1;
  } finally {
    await context.close();
    await server?.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`measure-download: ${error.message}`);
    process.exit(1);
  });
}
