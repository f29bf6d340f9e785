import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom, oneHotLabels, sampleEpisodes, stringLabels, type EpisodeBatch } from '@mann/episodes';
import { OmniglotDataset, paperSplit, readOmniglotZip, type OmniglotCharacter } from '@mann/omniglot';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseHeldOut, encodeHeldOut, verifyHeldOut, type EncodedHeldOut } from '../build/held_out';
import { findCheckpoint } from '../build/mann_assets';
import { openHeldOut, type HeldOut } from '../src/held_out';
import { decodeCharacterFile, HELD_OUT_DIR } from '../src/held_out_files';
import { sha256Hex, sha256HexFallback } from '../src/sha256';

/** Characters with every byte value somewhere, 20 drawings of size x size each, like the decoded zips. */
function syntheticCharacters(count: number, size = 20, drawings = 20): OmniglotCharacter[] {
  const random = createRandom(11);
  return Array.from({ length: count }, (_, c) => {
    const pixels = new Uint8Array(drawings * size * size);
    for (let p = 0; p < pixels.length; p++) pixels[p] = random.next() < 0.7 ? 0 : Math.floor(random.next() * 256);
    pixels[0] = 0;
    pixels[1 + (c % 200)] = 255;
    return {
      alphabet: `Alphabet_${String.fromCharCode(65 + (c % 5))}`,
      character: `character${String(c + 1).padStart(2, '0')}`,
      set: c % 2 ? 'background' : 'evaluation',
      drawers: Array.from({ length: drawings }, (_, k) => k + 1),
      pixels,
    };
  });
}

function encode(characters: OmniglotCharacter[], size = 20): EncodedHeldOut {
  return encodeHeldOut(characters, size, `the ${characters.length} test characters`, { kind: 'evaluation' });
}

/** A stand-in for `fetch` serving the encoded files from BASE, counting requests; `tamper` edits a file's bytes. */
const BASE = 'http://page.test/held-out/';
function fakeFetch(encoded: EncodedHeldOut, tamper: (name: string, bytes: Uint8Array) => Uint8Array | null = (_, b) => b) {
  const requested: string[] = [];
  const fetcher = async (url: string) => {
    const name = url.slice(BASE.length);
    requested.push(name);
    const bytes = encoded.files.get(name);
    const served = bytes && tamper(name, bytes);
    if (!served) return new Response('not found', { status: 404, statusText: 'Not Found' });
    return new Response(served as Uint8Array<ArrayBuffer>);
  };
  return { fetcher, requested };
}

async function open(encoded: EncodedHeldOut, fetcher: (url: string) => Promise<Response>, background: number | false = false): Promise<HeldOut> {
  return openHeldOut(
    { indexUrl: `${BASE}${encoded.indexFile}`, indexSha256: encoded.indexSha256, imageSize: encoded.index.imageSize },
    { fetch: fetcher, backgroundFetchDelayMs: background },
  );
}

function bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

function expectSameBatch(actual: EpisodeBatch, expected: EpisodeBatch): void {
  expect(bits(actual.inputs)).toEqual(bits(expected.inputs));
  expect(actual.previousLabels).toEqual(expected.previousLabels);
  expect(actual.targets).toEqual(expected.targets);
  expect(actual.labels).toEqual(expected.labels);
  expect(actual.instances).toEqual(expected.instances);
  expect(actual.classes).toEqual(expected.classes);
}

describe('sha256', () => {
  it('the JavaScript fallback agrees with node:crypto and Web Crypto on every padding case', async () => {
    const random = createRandom(3);
    for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 8000]) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random.next() * 256));
      const expected = createHash('sha256').update(bytes).digest('hex');
      expect(sha256HexFallback(bytes)).toBe(expected);
      expect(await sha256Hex(bytes)).toBe(expected);
    }
  });
});

describe('held-out character files', () => {
  const characters = syntheticCharacters(12);
  const encoded = encode(characters);

  it('round-trip: the page decodes every file to the same bytes, and reads the same float32 bits', async () => {
    await verifyHeldOut(encoded, characters); // the build's own check
    const original = new OmniglotDataset(characters);
    const expected = new Float32Array(400);
    const actual = new Float32Array(400);
    for (let c = 0; c < characters.length; c++) {
      const decoded = await decodeCharacterFile(encoded.index, c, encoded.files.get(encoded.index.characters[c][1])!);
      expect(decoded.pixels).toEqual(characters[c].pixels);
      expect(`${decoded.set}/${decoded.alphabet}/${decoded.character}`).toBe(encoded.index.characters[c][0]);
      const dataset = new OmniglotDataset([decoded]);
      for (let s = 0; s < 20; s++) {
        original.read(c, s, expected, 0);
        dataset.read(0, s, actual, 0);
        expect(bits(actual)).toEqual(bits(expected));
      }
    }
    // Files are gzip and much smaller than the pixels; names come from their SHA-256; the index is compact.
    expect(encoded.index.totalBytes).toBeLessThan(encoded.index.pixelBytes);
    for (const [key, file, bytes, sha] of encoded.index.characters) {
      expect(file).toBe(`${sha.slice(0, 16)}.bin`);
      expect(encoded.files.get(file)!.length).toBe(bytes);
      expect(key.split('/')).toHaveLength(3);
    }
    expect(encoded.indexFile).toBe(`index-${encoded.indexSha256.slice(0, 16)}.json`);
  });

  it('the same characters always give the same files (no timestamps in the gzip header)', () => {
    const again = encode(syntheticCharacters(12));
    expect(again.indexSha256).toBe(encoded.indexSha256);
  });

  it('a damaged file fails its checksum with one line naming the file and the fix', async () => {
    const c = 3;
    const name = encoded.index.characters[c][1];
    const damaged = encoded.files.get(name)!.slice();
    damaged[damaged.length - 9] ^= 1;
    const error = await decodeCharacterFile(encoded.index, c, damaged).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`${HELD_OUT_DIR}/${name} (${encoded.index.characters[c][0]})`);
    expect(message).toMatch(/SHA-256 [0-9a-f]{16}…, the index says [0-9a-f]{16}…/);
    expect(message).toContain('OMNIGLOT_DIR=');
    expect(message).not.toContain('\n');
    const short = await decodeCharacterFile(encoded.index, c, damaged.subarray(1)).catch((e: Error) => e);
    expect((short as Error).message).toContain('bytes, the index says');
  });

  it('the build refuses when a decoded float differs', async () => {
    const other = syntheticCharacters(12);
    other[5].pixels[123] ^= 1;
    await expect(verifyHeldOut(encoded, other)).rejects.toThrow(/drawing 0 pixel 123 decodes to .* refusing to build/);
  });

  it('rejects characters of the wrong size', () => {
    expect(() => encodeHeldOut(syntheticCharacters(2), 21, 'x', { kind: 'evaluation' })).toThrow(/not 20 images of 21x21/);
  });

  it('keeps its own drawer list for a character whose drawers differ from the first', async () => {
    const mixed = syntheticCharacters(3);
    mixed[2] = { ...syntheticCharacters(1, 20, 15)[0], character: 'character99', drawers: Array.from({ length: 15 }, (_, k) => k + 6) };
    const result = encode(mixed);
    expect(result.index.characters[0][4]).toBeUndefined();
    expect(result.index.characters[2][4]).toEqual(mixed[2].drawers);
    await verifyHeldOut(result, mixed);
  });
});

describe('openHeldOut: episodes from characters fetched on demand', () => {
  const characters = syntheticCharacters(40);
  const encoded = encode(characters);
  const full = new OmniglotDataset(characters);

  it('draws exactly the episode sampleEpisodes draws from all characters, fetching only the ones it shows', async () => {
    const { fetcher, requested } = fakeFetch(encoded);
    const heldOut = await open(encoded, fetcher);
    expect(heldOut.numClasses).toBe(40);
    expect(heldOut.sampleShape).toEqual([20, 20]);
    expect(heldOut.description).toBe('the 40 test characters');
    expect(requested).toEqual([encoded.indexFile]);
    for (const [seed, ways, labels] of [
      [3, 5, oneHotLabels(5)],
      [4, 5, oneHotLabels(5)],
      [3, 5, oneHotLabels(5)],
      [9, 3, stringLabels()],
    ] as const) {
      const before = requested.length;
      const batch = await heldOut.sampleEpisode({ ways, shots: 10, seed, labels });
      const expected = sampleEpisodes(full, { ways, shots: 10, batchSize: 1, labels, random: createRandom(seed) });
      expectSameBatch(batch, expected);
      // Only this episode's classes, each once over the whole run.
      const names = new Set([...expected.classes].map((c) => encoded.index.characters[c][1]));
      for (const name of requested.slice(before)) expect(names.has(name)).toBe(true);
    }
    expect(new Set(requested).size).toBe(requested.length);
    expect(heldOut.fetchedClasses).toBe(requested.length - 1);
    expect(heldOut.fetchedClasses).toBeLessThan(40);
  });

  it('first episode: the index and 5 character files for 5 ways', async () => {
    const { fetcher, requested } = fakeFetch(encoded);
    const heldOut = await open(encoded, fetcher);
    await heldOut.sampleEpisode({ ways: 5, shots: 10, seed: 0, labels: oneHotLabels(5) });
    expect(requested).toHaveLength(6);
  });

  it('fetches the other characters in the background after the first episode', async () => {
    const { fetcher, requested } = fakeFetch(encoded);
    const heldOut = await open(encoded, fetcher, 0);
    await heldOut.sampleEpisode({ ways: 5, shots: 10, seed: 1, labels: oneHotLabels(5) });
    await expect.poll(() => heldOut.fetchedClasses, { timeout: 5000 }).toBe(40);
    expect(requested).toHaveLength(41);
    const batch = await heldOut.sampleEpisode({ ways: 5, shots: 10, seed: 2, labels: oneHotLabels(5) });
    expect(requested).toHaveLength(41); // nothing more to fetch
    expectSameBatch(batch, sampleEpisodes(full, { ways: 5, shots: 10, batchSize: 1, labels: oneHotLabels(5), random: createRandom(2) }));
  });

  it('a checksum mismatch fails the episode with one line naming the file and the fix; a retry fetches again', async () => {
    let damage = true;
    const { fetcher } = fakeFetch(encoded, (name, bytes) => {
      if (!damage || name.startsWith('index-')) return bytes;
      const copy = bytes.slice();
      copy[20] ^= 0xff;
      return copy;
    });
    const heldOut = await open(encoded, fetcher);
    const error = (await heldOut.sampleEpisode({ ways: 5, shots: 10, seed: 0, labels: oneHotLabels(5) }).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/^held-out\/[0-9a-f]{16}\.bin \((evaluation|background)\/Alphabet_\w\/character\d+\): SHA-256 [0-9a-f]{16}…, the index says/);
    expect(error.message).toContain('rebuild the page with OMNIGLOT_DIR=');
    expect(error.message).not.toContain('\n');
    damage = false;
    await heldOut.sampleEpisode({ ways: 5, shots: 10, seed: 0, labels: oneHotLabels(5) });
  });

  it('a missing file (HTTP 404) names the file and the fix', async () => {
    const missing = encoded.index.characters.map((row) => row[1]);
    const { fetcher } = fakeFetch(encoded, (name, bytes) => (missing.includes(name) ? null : bytes));
    const heldOut = await open(encoded, fetcher);
    await expect(heldOut.sampleEpisode({ ways: 5, shots: 10, seed: 0, labels: oneHotLabels(5) })).rejects.toThrow(
      /^held-out\/[0-9a-f]{16}\.bin \(.*\): HTTP 404 Not Found; the file is missing: rebuild the page with OMNIGLOT_DIR=/,
    );
  });

  it('a network error names the file', async () => {
    const heldOut = await open(encoded, fakeFetch(encoded).fetcher);
    const failing = await open(encoded, async (url) => {
      if (url.includes('index-')) return fakeFetch(encoded).fetcher(url);
      throw new TypeError('Failed to fetch');
    });
    expect(heldOut.numClasses).toBe(failing.numClasses);
    await expect(failing.sampleEpisode({ ways: 2, shots: 1, seed: 0, labels: oneHotLabels(2) })).rejects.toThrow(
      /^held-out\/[0-9a-f]{16}\.bin \(.*\): could not be fetched \(Failed to fetch\)/,
    );
  });

  it('refuses an index that is damaged, from another build, or for another image size', async () => {
    const { fetcher } = fakeFetch(encoded);
    const source = { indexUrl: `${BASE}${encoded.indexFile}`, indexSha256: encoded.indexSha256, imageSize: 20 };
    await expect(openHeldOut({ ...source, indexSha256: '0'.repeat(64) }, { fetch: fetcher })).rejects.toThrow(
      new RegExp(`^held-out/${encoded.indexFile}: SHA-256 [0-9a-f]{16}…, this page expects 0{16}…; .*OMNIGLOT_DIR=`),
    );
    await expect(openHeldOut({ ...source, imageSize: 28 }, { fetch: fetcher })).rejects.toThrow(/holds 20x20 images but the model takes 28x28/);
    await expect(openHeldOut({ ...source, indexUrl: `${BASE}index-missing.json` }, { fetch: fetcher })).rejects.toThrow(
      /^held-out\/index-missing\.json: HTTP 404/,
    );
  });
});

describe('findCheckpoint (MANN_CHECKPOINT)', () => {
  const work = mkdtempSync(join(tmpdir(), 'mann-checkpoint-test-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const root = join(work, 'examples', 'browser');
  mkdirSync(root, { recursive: true });

  function writeCheckpoint(dir: string, weights = new Uint8Array([1, 2, 3, 4]), extra: Record<string, unknown> = {}): void {
    mkdirSync(dir, { recursive: true });
    let hash = 0x811c9dc5;
    for (const byte of weights) hash = Math.imul(hash ^ byte, 0x01000193);
    writeFileSync(join(dir, 'weights.bin'), weights);
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        format: 'mann-checkpoint',
        version: 1,
        config: { imageSize: 20 },
        training: { step: 1, run: { split: 'paper', splitSeed: 4 } },
        weightsManifest: [{ paths: ['weights.bin'], weights: [] }],
        weightsChecksum: { bytes: weights.length, fnv1a32: (hash >>> 0).toString(16).padStart(8, '0') },
        ...extra,
      }),
    );
  }

  it('resolves a relative MANN_CHECKPOINT against the folder npm was run from, and reads split and image size', () => {
    writeCheckpoint(join(work, 'runs', 'my-run', 'checkpoint'));
    const { checkpoint, problem } = findCheckpoint(root, { MANN_CHECKPOINT: 'runs/my-run/checkpoint' }, work);
    expect(problem).toBeUndefined();
    expect(checkpoint).toMatchObject({ dir: join(work, 'runs', 'my-run', 'checkpoint'), weightsFile: 'weights.bin', imageSize: 20, split: { kind: 'paper', seed: 4 } });
    // The manifest itself may be named too.
    expect(findCheckpoint(root, { MANN_CHECKPOINT: 'runs/my-run/checkpoint/manifest.json' }, work).checkpoint?.dir).toBe(join(work, 'runs', 'my-run', 'checkpoint'));
  });

  it('fails loudly, in one line naming the path and the fix, on a MANN_CHECKPOINT that is missing or broken', () => {
    const attempt = (value: string) => {
      try {
        findCheckpoint(root, { MANN_CHECKPOINT: value }, work);
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(attempt('runs/nope')).toBe(
      `[mann-assets] MANN_CHECKPOINT=runs/nope (${join(work, 'runs', 'nope')}): does not exist; set MANN_CHECKPOINT to a checkpoint folder ` +
        'written by `mann train` (a relative path is taken from the folder you ran npm from), or unset it.',
    );
    mkdirSync(join(work, 'empty'));
    expect(attempt('empty')).toMatch(/^\[mann-assets\] MANN_CHECKPOINT=empty \(.*empty\): has no manifest\.json; set MANN_CHECKPOINT/);
    writeCheckpoint(join(work, 'bad-json'));
    writeFileSync(join(work, 'bad-json', 'manifest.json'), '{');
    expect(attempt('bad-json')).toMatch(/manifest\.json is not valid JSON/);
    writeCheckpoint(join(work, 'truncated'));
    writeFileSync(join(work, 'truncated', 'weights.bin'), new Uint8Array([1, 2]));
    expect(attempt('truncated')).toMatch(/weights\.bin has 2 bytes, the manifest says 4/);
    writeCheckpoint(join(work, 'flipped'));
    writeFileSync(join(work, 'flipped', 'weights.bin'), new Uint8Array([1, 2, 3, 5]));
    expect(attempt('flipped')).toMatch(/weights\.bin fails its checksum/);
    writeCheckpoint(join(work, 'no-weights'));
    rmSync(join(work, 'no-weights', 'weights.bin'));
    expect(attempt('no-weights')).toMatch(/the weights file weights\.bin named by manifest\.json is missing/);
    for (const value of ['runs/nope', 'empty', 'bad-json', 'truncated', 'flipped', 'no-weights']) expect(attempt(value)).not.toContain('\n');
  });

  it('unset, a missing default checkpoint is a warning (fresh model), not an error', () => {
    const { checkpoint, problem } = findCheckpoint(root, {}, work);
    expect(checkpoint).toBeNull();
    expect(problem).toMatch(/^No trained checkpoint at .*checkpoints[/\\]omniglot-mann, so the page uses a freshly initialised/);
  });
});

// The real data: the characters the build writes are those the page used to decode from the zips itself.
const omniglotDir = process.env.OMNIGLOT_DIR;
const haveZips = !!omniglotDir && ['images_background.zip', 'images_evaluation.zip'].every((name) => existsSync(join(omniglotDir, name)));
if (!haveZips) console.warn('held_out.test.ts: OMNIGLOT_DIR with both Omniglot zips is not set; skipping the tests on the real characters.');

describe.skipIf(!haveZips)('on the real Omniglot zips (OMNIGLOT_DIR)', () => {
  it("the paper split's 423 held-out characters, as readOmniglotZip + paperSplit give them, survive the round trip bit for bit", async () => {
    const chosen = await chooseHeldOut(omniglotDir!, 20, { kind: 'paper', seed: 0 });
    expect(chosen.characters).toHaveLength(423);
    expect(chosen.description).toBe("423 held-out characters of the paper's split (seed 0), which this checkpoint never trained on");
    // What the page did before: decode both zips with readOmniglotZip, then paperSplit with the checkpoint's seed.
    const read = (name: string) => readOmniglotZip(new Uint8Array(readFileSync(join(omniglotDir!, name))), { name, imageSize: 20 });
    const { test } = paperSplit(read('images_background.zip'), read('images_evaluation.zip'), { seed: 0 });
    expect(chosen.characters.map((c) => `${c.set}/${c.alphabet}/${c.character}`)).toEqual(test.map((c) => `${c.set}/${c.alphabet}/${c.character}`));
    const encoded = encodeHeldOut(chosen.characters, 20, chosen.description, chosen.indexSplit);
    await verifyHeldOut(encoded, test); // every float the page reads equals the one decoded from the zips
    expect(encoded.index.totalBytes).toBeLessThan(2e6);
  }, 120_000);

  it('without a recorded split: the 659 characters of the evaluation archive', async () => {
    const chosen = await chooseHeldOut(omniglotDir!, 20, { kind: 'none' });
    expect(chosen.characters).toHaveLength(659);
    expect(chosen.description).toBe('the 659 characters of the evaluation archive (in 20 alphabets of their own)');
  }, 60_000);
});
