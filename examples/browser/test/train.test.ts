// Unit tests of the Train mode's pure pieces (Node, no browser): the zip writer, the learning curve's geometry,
// the settings and what a checkpoint trained here records, and fetching every training character.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { createRandom } from '@mann/episodes';
import type { OmniglotCharacter } from '@mann/omniglot';
import { describe, expect, it } from 'vitest';
import { encodeHeldOut } from '../build/held_out';
import { fetchAllCharacters } from '../src/held_out';
import { TRAINING_DIR } from '../src/held_out_files';
import { axisEnd, axisTicks, describePoint, polylinePoints, secondPassesFirst, DEFAULT_FRAME, type CurvePoint } from '../src/learning_curve';
import { DEFAULT_TRAIN_SETTINGS, describeSettings, modelConfig, runRecord, settingsFromQuery, settingsOfCheckpoint } from '../src/train_settings';
import { crc32, storedZip } from '../src/zip';
import type { CheckpointManifest } from '@mann/model';

/** Reads a zip's central directory and gives back its files (stored entries only, as storedZip writes). */
function readStoredZip(zip: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = zip.length - 22;
  expect(view.getUint32(end, true)).toBe(0x06054b50);
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    expect(view.getUint32(at, true)).toBe(0x02014b50);
    const crc = view.getUint32(at + 16, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    expect(view.getUint32(local, true)).toBe(0x04034b50);
    expect(view.getUint16(local + 8, true)).toBe(0); // stored
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const bytes = zip.subarray(dataStart, dataStart + size);
    expect(crc32(bytes)).toBe(crc);
    files.set(name, bytes);
    at += 46 + nameLength;
  }
  return files;
}

describe('zip', () => {
  it('crc32 agrees with zlib on every length up to a few blocks', () => {
    const random = createRandom(5);
    for (const length of [0, 1, 2, 3, 7, 64, 1000, 65_537]) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random.next() * 256));
      expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    }
  });

  it('storedZip round-trips its files, and `unzip` extracts them into the folder', () => {
    const weights = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff);
    const manifest = new TextEncoder().encode('{"format":"mann-checkpoint"}\n');
    const zip = storedZip(
      [
        { path: 'mann-browser-100/checkpoint/manifest.json', bytes: manifest },
        { path: 'mann-browser-100/checkpoint/weights.bin', bytes: weights },
      ],
      new Date(2025, 4, 17, 13, 45, 30),
    );
    const files = readStoredZip(zip);
    expect([...files.keys()]).toEqual(['mann-browser-100/checkpoint/manifest.json', 'mann-browser-100/checkpoint/weights.bin']);
    expect(files.get('mann-browser-100/checkpoint/weights.bin')).toEqual(weights);
    // The system's unzip, where there is one: the archive a person downloads must open with ordinary tools.
    let unzip = true;
    try {
      execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    } catch {
      unzip = false;
    }
    if (!unzip) return;
    const dir = mkdtempSync(join(tmpdir(), 'mann-zip-'));
    try {
      writeFileSync(join(dir, 'a.zip'), zip);
      execFileSync('unzip', ['-q', 'a.zip'], { cwd: dir });
      expect(new Uint8Array(readFileSync(join(dir, 'mann-browser-100/checkpoint/weights.bin')))).toEqual(weights);
      expect(readFileSync(join(dir, 'mann-browser-100/checkpoint/manifest.json'), 'utf8')).toBe('{"format":"mann-checkpoint"}\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses absolute paths, parent folders and non-ASCII names', () => {
    for (const path of ['/etc/passwd', 'a/../b', 'é.txt', '']) {
      expect(() => storedZip([{ path, bytes: new Uint8Array(1) }])).toThrow(/not a relative ASCII path/);
    }
  });
});

function point(step: number, first: number, second: number): CurvePoint {
  return { step, accuracy: [first, second, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.4], episodes: 96 };
}

describe('learning curve', () => {
  it('rounds the x axis up to 1, 2 or 5 x a power of ten (at least 100 batches), with round ticks', () => {
    expect([0, 1, 100, 101, 200, 201, 499, 501, 1000, 1500, 2001, 7000].map(axisEnd)).toEqual([100, 100, 100, 200, 200, 500, 500, 1000, 1000, 2000, 5000, 10000]);
    expect(axisTicks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(axisTicks(200)).toEqual([0, 50, 100, 150, 200]);
    expect(axisTicks(500)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(axisTicks(2000)).toEqual([0, 500, 1000, 1500, 2000]);
  });

  it('maps accuracy 0..1 onto the plot, steps onto the axis, and skips instances not measured', () => {
    const frame = DEFAULT_FRAME;
    const points = [point(0, 0.2, 0.2), point(100, 1, 0)];
    const [start, end] = polylinePoints(points, 1, frame).split(' ').map((xy) => xy.split(',').map(Number));
    expect(start).toEqual([frame.left, frame.top + 0.8 * (frame.height - frame.top - frame.bottom)]);
    expect(end).toEqual([frame.width - frame.right, frame.top]);
    expect(polylinePoints([{ step: 0, accuracy: [NaN], episodes: 1 }], 1)).toBe('');
  });

  it('says when the 2nd instance first beats the 1st by more than 3 points, well above chance (never at the start)', () => {
    const curve = [point(0, 0.18, 0.22), point(100, 0.45, 0.3), point(200, 0.36, 0.38), point(300, 0.33, 0.37), point(400, 0.3, 0.5)];
    expect(secondPassesFirst(curve)?.step).toBe(300);
    expect(secondPassesFirst(curve, { margin: 0.05 })?.step).toBe(400);
    expect(secondPassesFirst(curve, { margin: 0, floor: 0 })?.step).toBe(0);
    expect(secondPassesFirst(curve.slice(0, 3))).toBeNull();
    expect(describePoint(curve[4])).toBe('After 400 batches, on 96 episodes of characters it never trained on: 1st 30%, 2nd 50%, 5th 30%, 10th 40%.');
  });
});

describe('train settings', () => {
  it('the default is the README short run at learning rate 1e-2', () => {
    expect(modelConfig(DEFAULT_TRAIN_SETTINGS, 20)).toMatchObject({ controllerUnits: 64, memorySlots: 64, memoryWidth: 20, heads: 2, clearing: 'all-least-used', ways: 5, imageSize: 20 });
    expect(DEFAULT_TRAIN_SETTINGS).toMatchObject({ learningRate: 1e-2, batchSize: 16, validation: 100 });
    expect(describeSettings(DEFAULT_TRAIN_SETTINGS)).toContain('LSTM 64, memory 64 x 20, 2 heads');
  });

  it('URL parameters change settings; bad values are refused in one line naming the parameter', () => {
    expect(settingsFromQuery('?train-batch=16&train-lr=0.001&train-clearing=least-used&other=1')).toMatchObject({ batchSize: 16, learningRate: 0.001, clearing: 'least-used', memorySlots: 64 });
    expect(settingsFromQuery('?train-seed=0').seed).toBe(0);
    expect(() => settingsFromQuery('?train-batch=2.5')).toThrow('train-batch=2.5 is not a whole number > 0');
    expect(() => settingsFromQuery('?train-lr=-1')).toThrow('train-lr=-1');
    expect(() => settingsFromQuery('?train-clearing=some')).toThrow('train-clearing=some');
  });

  it('a checkpoint trained here records run options `mann eval` and `mann train --resume` read, and gives its settings back', () => {
    const settings = settingsFromQuery('?train-batch=4&train-lr=0.002');
    const run = runRecord(settings, { kind: 'paper', seed: 0 }, 20, 1234);
    // What examples/node/src/eval.ts reads to rebuild the held-out and validation characters.
    expect(run).toMatchObject({ split: 'paper', splitSeed: 0, validation: 100, validationSeed: 0, shots: 10, batch: 4, steps: 1234, optimizer: 'adam', backend: 'wasm', path: 'fast' });
    expect(runRecord(settings, { kind: 'official' }, 20, 1).split).toBe('official');
    const manifest = { config: { ...modelConfig(settings, 20), usageDecay: 0.95 }, training: { step: 1234, run } } as unknown as CheckpointManifest;
    expect(settingsOfCheckpoint(manifest)).toEqual(settings);
    // The shipped checkpoint was trained by `mann train`: not continued here.
    expect(settingsOfCheckpoint({ ...manifest, training: { step: 1, run: { ...run, trainedIn: undefined } } } as unknown as CheckpointManifest)).toBeNull();
  });
});

describe('fetchAllCharacters', () => {
  function characters(count: number): OmniglotCharacter[] {
    const random = createRandom(2);
    return Array.from({ length: count }, (_, c) => ({
      alphabet: 'Alphabet_A',
      character: `character${String(c + 1).padStart(2, '0')}`,
      set: 'background',
      drawers: [1, 2, 3],
      pixels: Uint8Array.from({ length: 3 * 4 * 4 }, () => (random.next() < 0.5 ? 0 : 255)),
    }));
  }
  const BASE = `http://page.test/${TRAINING_DIR}/`;

  it('fetches every character, checked, in the index order', async () => {
    const original = characters(13);
    const encoded = encodeHeldOut(original, 4, 'the training characters', { kind: 'paper-train', seed: 0 });
    const progress: number[] = [];
    const { index, characters: fetched } = await fetchAllCharacters(
      { indexUrl: `${BASE}${encoded.indexFile}`, indexSha256: encoded.indexSha256, imageSize: 4 },
      {
        folder: TRAINING_DIR,
        concurrency: 3,
        fetch: async (url) => new Response(encoded.files.get(url.slice(BASE.length)) as Uint8Array<ArrayBuffer>),
        onProgress: (done) => progress.push(done),
      },
    );
    expect(index.split).toEqual({ kind: 'paper-train', seed: 0 });
    expect(fetched.map((c) => c.character)).toEqual(original.map((c) => c.character));
    fetched.forEach((c, i) => expect(c.pixels).toEqual(original[i].pixels));
    expect(progress).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });

  it('stops at a damaged file with one line naming it in its folder', async () => {
    const encoded = encodeHeldOut(characters(5), 4, 'the training characters', { kind: 'background' });
    const damaged = encoded.index.characters[3][1];
    const error = await fetchAllCharacters(
      { indexUrl: `${BASE}${encoded.indexFile}`, indexSha256: encoded.indexSha256, imageSize: 4 },
      {
        folder: TRAINING_DIR,
        fetch: async (url) => {
          const name = url.slice(BASE.length);
          const bytes = new Uint8Array(encoded.files.get(name)!);
          if (name === damaged) bytes[bytes.length - 1] ^= 1;
          return new Response(bytes);
        },
      },
    ).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`${TRAINING_DIR}/${damaged} (background/Alphabet_A/character04): SHA-256`);
  });
});
