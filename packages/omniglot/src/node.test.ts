import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheFilePath } from './node/decoded_cache';
import { downloadOmniglot } from './node/download_omniglot';
import { loadOmniglot } from './node/load_omniglot';
import { omniglotDir } from './node/omniglot_dir';
import { syntheticEntries, zipEntries } from './test_support/synthetic';

function temporaryDir(): string {
  return mkdtempSync(join(tmpdir(), 'mann-omniglot-node-'));
}

/** A folder with two small made-up archives under the official file names (top folders are not official). */
function syntheticOmniglotDir(backgroundDrawers = [1, 2, 3]): string {
  const dir = temporaryDir();
  writeFileSync(join(dir, 'images_background.zip'), zipEntries(syntheticEntries({ top: 'images_background_synthetic', drawers: backgroundDrawers })));
  writeFileSync(join(dir, 'images_evaluation.zip'), zipEntries(syntheticEntries({ top: 'images_evaluation_synthetic', alphabets: ['Gamma'] })));
  return dir;
}

const savedEnvironment = { OMNIGLOT_DIR: process.env.OMNIGLOT_DIR, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
afterEach(() => {
  for (const [name, value] of Object.entries(savedEnvironment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('omniglotDir', () => {
  it('prefers an explicit path, then OMNIGLOT_DIR, then the per-user cache', () => {
    process.env.OMNIGLOT_DIR = '/data/omniglot';
    process.env.XDG_CACHE_HOME = '/xdg';
    expect(omniglotDir('/explicit')).toBe('/explicit');
    expect(omniglotDir()).toBe('/data/omniglot');
    delete process.env.OMNIGLOT_DIR;
    expect(omniglotDir()).toBe('/xdg/mann/omniglot');
    delete process.env.XDG_CACHE_HOME;
    expect(omniglotDir()).toBe(join(homedir(), '.cache', 'mann', 'omniglot'));
  });
});

describe('loadOmniglot on synthetic archives', () => {
  it('names the folder and the fix when the zips are missing', async () => {
    const dir = temporaryDir();
    await expect(loadOmniglot({ dir, cache: false })).rejects.toThrow(
      `Omniglot not found: missing ${join(dir, 'images_background.zip')} and ${join(dir, 'images_evaluation.zip')}. ` +
        'Set OMNIGLOT_DIR',
    );
    await expect(loadOmniglot({ dir, cache: false })).rejects.toThrow('or run `npx mann-omniglot download`');
  });

  it('writes a cache, reads it back equal, and rebuilds it when a zip changes', async () => {
    const dir = syntheticOmniglotDir();
    const cacheDir = temporaryDir();
    const messages: string[] = [];
    const onProgress = (message: string) => messages.push(message);
    const first = await loadOmniglot({ dir, cacheDir, onProgress });
    expect(first.background.characters.length).toBe(4);
    expect(first.evaluation.characters.length).toBe(2);
    expect(messages.some((m) => m.startsWith('wrote the cache'))).toBe(true);
    // No temporary file is left behind by the atomic write.
    expect(readdirSync(cacheDir)).toEqual(['omniglot-20px.bin']);

    messages.length = 0;
    const second = await loadOmniglot({ dir, cacheDir, onProgress });
    expect(messages.some((m) => m.startsWith('loaded the decoded sets from the cache'))).toBe(true);
    expect(second).toEqual(first);

    // Change the background archive (one drawing fewer per character): the cache no longer matches.
    writeFileSync(
      join(dir, 'images_background.zip'),
      zipEntries(syntheticEntries({ top: 'images_background_synthetic', drawers: [1, 2] })),
    );
    messages.length = 0;
    const third = await loadOmniglot({ dir, cacheDir, onProgress });
    expect(messages).toContain(`cache not used: ${cacheFilePath(cacheDir, 20)} was made from other archives or another image size`);
    expect(third.background.characters[0].drawers).toEqual([1, 2]);
    messages.length = 0;
    expect(await loadOmniglot({ dir, cacheDir, onProgress })).toEqual(third);
    expect(messages.some((m) => m.startsWith('loaded the decoded sets from the cache'))).toBe(true);
  });

  it('says when an archive holds fewer characters than the full set, from the zips and from the cache', async () => {
    const dir = syntheticOmniglotDir();
    const cacheDir = temporaryDir();
    for (const pass of ['decoded', 'cached']) {
      const warnings: string[] = [];
      const sets = await loadOmniglot({ dir, cacheDir, onWarning: (w) => warnings.push(w) });
      const counts = [sets.background.characters.length, sets.evaluation.characters.length];
      expect(warnings, pass).toEqual([
        `${join(dir, 'images_background.zip')} holds ${counts[0]} characters, not the 964 of the full background set: training and ` +
          "evaluation use only these. For the paper's setting fetch the full zips (`npx mann-omniglot download`).",
        `${join(dir, 'images_evaluation.zip')} holds ${counts[1]} characters, not the 659 of the full evaluation set: training and ` +
          "evaluation use only these. For the paper's setting fetch the full zips (`npx mann-omniglot download`).",
      ]);
    }
  });

  it('keys the cache by image size', async () => {
    const dir = syntheticOmniglotDir();
    const cacheDir = temporaryDir();
    await loadOmniglot({ dir, cacheDir });
    const small = await loadOmniglot({ dir, cacheDir, imageSize: 10 });
    expect(small.background.imageSize).toBe(10);
    expect(small.background.characters[0].pixels.length).toBe(3 * 100);
    expect(readdirSync(cacheDir).sort()).toEqual(['omniglot-10px.bin', 'omniglot-20px.bin']);
  });

  it('rebuilds a corrupt or truncated cache instead of trusting it', async () => {
    const dir = syntheticOmniglotDir();
    const cacheDir = temporaryDir();
    const first = await loadOmniglot({ dir, cacheDir });
    const path = cacheFilePath(cacheDir, 20);
    const bytes = readFileSync(path);
    bytes[bytes.length - 5] ^= 0x01; // one pixel byte flipped
    writeFileSync(path, bytes);
    const messages: string[] = [];
    const rebuilt = await loadOmniglot({ dir, cacheDir, onProgress: (m) => messages.push(m) });
    expect(messages).toContain(`cache not used: ${path} is corrupt (checksum mismatch)`);
    expect(rebuilt).toEqual(first);

    writeFileSync(path, readFileSync(path).subarray(0, 30));
    messages.length = 0;
    expect(await loadOmniglot({ dir, cacheDir, onProgress: (m) => messages.push(m) })).toEqual(first);
    expect(messages).toContain(`cache not used: ${path} is not a decoded-Omniglot cache`);

    writeFileSync(path, 'hello');
    messages.length = 0;
    expect(await loadOmniglot({ dir, cacheDir, onProgress: (m) => messages.push(m) })).toEqual(first);
    expect(messages).toContain(`cache not used: ${path} is not a decoded-Omniglot cache`);
    // After the rebuild, the cache is good again.
    messages.length = 0;
    await loadOmniglot({ dir, cacheDir, onProgress: (m) => messages.push(m) });
    expect(messages.some((m) => m.startsWith('loaded the decoded sets from the cache'))).toBe(true);
  });

  it('reads no cache and writes none with cache: false', async () => {
    const dir = syntheticOmniglotDir();
    const cacheDir = temporaryDir();
    await loadOmniglot({ dir, cacheDir, cache: false });
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('names the zip when an archive is bad or short', async () => {
    const dir = syntheticOmniglotDir();
    const path = join(dir, 'images_evaluation.zip');
    writeFileSync(path, readFileSync(path).subarray(0, 100));
    await expect(loadOmniglot({ dir, cache: false })).rejects.toThrow(`${path}: not a readable zip archive`);

    const swapped = temporaryDir();
    writeFileSync(join(swapped, 'images_background.zip'), zipEntries(syntheticEntries({ top: 'images_evaluation' }), {}));
    writeFileSync(join(swapped, 'images_evaluation.zip'), zipEntries(syntheticEntries({ top: 'images_x' })));
    // images_evaluation with 4 characters fails the official count first, naming the file.
    await expect(loadOmniglot({ dir: swapped, cache: false })).rejects.toThrow(
      `${join(swapped, 'images_background.zip')}: holds 4 characters under 'images_evaluation', expected 659`,
    );
  });
});

describe('downloadOmniglot', () => {
  it('gives a clear message when offline', async () => {
    const dir = temporaryDir();
    // Port 9 on localhost (discard) refuses connections here, standing in for having no internet.
    await expect(downloadOmniglot(dir, { baseUrl: 'http://127.0.0.1:9/omniglot' })).rejects.toThrow(
      /^Could not download http:\/\/127\.0\.0\.1:9\/omniglot\/images_background\.zip \(.*\); are you offline\? Download images_background\.zip from https:\/\/github\.com\/brendenlake\/omniglot/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('skips files already present', async () => {
    const dir = syntheticOmniglotDir();
    const paths = await downloadOmniglot(dir, { baseUrl: 'http://127.0.0.1:9/omniglot' });
    expect(paths).toEqual([join(dir, 'images_background.zip'), join(dir, 'images_evaluation.zip')]);
  });

  it('downloads from a server, refusing HTTP errors and non-zip bodies', async () => {
    const zip = zipEntries(syntheticEntries());
    const server = createServer((request, response) => {
      if (request.url === '/good/images_background.zip' || request.url === '/good/images_evaluation.zip') {
        response.end(zip);
      } else if (request.url?.startsWith('/html/')) {
        response.end('<html>not a zip</html>');
      } else {
        response.statusCode = 404;
        response.end();
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const dir = temporaryDir();
      await expect(downloadOmniglot(dir, { baseUrl: `${base}/missing` })).rejects.toThrow(
        `Could not download ${base}/missing/images_background.zip: HTTP 404 Not Found.`,
      );
      await expect(downloadOmniglot(dir, { baseUrl: `${base}/html` })).rejects.toThrow(
        `Downloaded ${base}/html/images_background.zip but it is not a zip archive (22 bytes).`,
      );
      expect(readdirSync(dir)).toEqual([]);
      const paths = await downloadOmniglot(dir, { baseUrl: `${base}/good/` });
      expect(readdirSync(dir).sort()).toEqual(['images_background.zip', 'images_evaluation.zip']);
      expect(Buffer.compare(readFileSync(paths[1]), zip)).toBe(0);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});
