// The held-out characters as the build writes them and the page reads them: one small gzipped file per character
// plus one JSON index (the Train mode's training characters use the same format, in their own folder). Shared by
// build/held_out.ts (Node, writes and verifies) and src/held_out.ts (the page), so both sides decode with the same
// code. No Node built-ins here.
import { sha256Hex } from './sha256';

/** The index's `format` field. */
export const HELD_OUT_FORMAT = 'mann-held-out-characters';
/** Version of the layout below; the page refuses any other. */
export const HELD_OUT_VERSION = 1;
/** Folder of the files, relative to the page. */
export const HELD_OUT_DIR = 'held-out';
/**
 * Folder of the training characters (the Train mode's data), in the same format: fetched only when Train is
 * opened, never before the first episode.
 */
export const TRAINING_DIR = 'train-characters';

/** What to do when a file is missing, damaged or from another build: said in every error about them. */
export const REBUILD_HINT =
  'rebuild the page with OMNIGLOT_DIR=<folder with images_evaluation.zip and images_background.zip> ' +
  '(npm run build -w @mann/example-browser), or restart `npm run dev` with it';

/**
 * One character: `[key, file, bytes, sha256]` plus, only when they differ from the index's `drawers`, its own
 * drawer numbers. `key` is `set/alphabet/character` (`characterKey` of `@mann/omniglot`), `file` the file name in
 * {@link HELD_OUT_DIR}, `bytes` its length and `sha256` its SHA-256 (hex) as stored, before decompression.
 */
export type HeldOutRow = [key: string, file: string, bytes: number, sha256: string, drawers?: number[]];

/**
 * `held-out/index-<sha>.json`. Each character file is gzip (RFC 1952) of the character's drawings as
 * `@mann/omniglot` stores them (`OmniglotCharacter.pixels`): `drawers.length` images of `imageSize^2` bytes,
 * row-major, ink 255, paper 0. The page reads them through `OmniglotDataset`, which gives byte / 255 as float32:
 * the same numbers as decoding the authors' zips with `readOmniglotZip` (the build checks every one).
 */
export interface HeldOutIndex {
  format: typeof HELD_OUT_FORMAT;
  version: number;
  /** Side of every image (the checkpoint's `imageSize`). */
  imageSize: number;
  /** Which characters, and why the model never trained on them (shown on the page). */
  description: string;
  /**
   * How they were chosen: the paper's split with its seed, or the whole evaluation archive (held-out characters);
   * the paper split's training characters, or the whole background archive (the Train mode's characters).
   */
  split: { kind: 'paper'; seed: number } | { kind: 'evaluation' } | { kind: 'paper-train'; seed: number } | { kind: 'background' };
  /** Drawer numbers of every character (unless its row says otherwise): samples per class = their count. */
  drawers: number[];
  /** Stored bytes of all character files together, and the pixel bytes they decompress to. */
  totalBytes: number;
  pixelBytes: number;
  /** Column names of `characters`, for readers of the file. */
  columns: ['key', 'file', 'bytes', 'sha256', 'drawers?'];
  /** Class `c` of the page's dataset is `characters[c]`, in `characterKey` order. */
  characters: HeldOutRow[];
}

/** A decoded character, shaped like `OmniglotCharacter`. */
export interface HeldOutCharacter {
  alphabet: string;
  character: string;
  set: string;
  drawers: number[];
  pixels: Uint8Array;
}

/** Checks an index's shape; throws one line naming `where` and what is wrong. */
export function checkHeldOutIndex(value: unknown, where: string): HeldOutIndex {
  const index = value as HeldOutIndex;
  const fail = (what: string): never => {
    throw new Error(`${where}: ${what}; ${REBUILD_HINT}.`);
  };
  if (!index || typeof index !== 'object' || index.format !== HELD_OUT_FORMAT) fail(`not an index of held-out characters (format is not '${HELD_OUT_FORMAT}')`);
  if (index.version !== HELD_OUT_VERSION) fail(`version ${index.version}, this page reads version ${HELD_OUT_VERSION}`);
  if (!Number.isInteger(index.imageSize) || index.imageSize < 1) fail(`bad imageSize ${index.imageSize}`);
  if (!Array.isArray(index.drawers) || index.drawers.length === 0) fail('no drawers');
  if (!Array.isArray(index.characters) || index.characters.length === 0) fail('no characters');
  index.characters.forEach((row, c) => {
    const ok =
      Array.isArray(row) &&
      typeof row[0] === 'string' &&
      row[0].split('/').length === 3 &&
      typeof row[1] === 'string' &&
      /^[\w.-]+$/.test(row[1]) &&
      Number.isInteger(row[2]) &&
      typeof row[3] === 'string' &&
      /^[0-9a-f]{64}$/.test(row[3]) &&
      (row[4] === undefined || (Array.isArray(row[4]) && row[4].length > 0));
    if (!ok) fail(`character ${c} is malformed (${JSON.stringify(row).slice(0, 120)})`);
  });
  return index;
}

/** Drawer numbers of class `c`. */
export function drawersOf(index: HeldOutIndex, c: number): number[] {
  return index.characters[c][4] ?? index.drawers;
}

/** `'held-out/<file> (evaluation/Angelic/character01)'`: how errors name a character's file (in `folder`). */
export function describeFile(index: HeldOutIndex, c: number, folder = HELD_OUT_DIR): string {
  return `${folder}/${index.characters[c][1]} (${index.characters[c][0]})`;
}

/** True when `bytes` start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses gzip bytes with the standard `DecompressionStream` (browsers; Node 18+). */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw new Error('this browser has no DecompressionStream (needs Chrome 80, Firefox 113, Safari 16.4 or later)');
  }
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Checks a fetched character file against the index (length, SHA-256), decompresses it and checks its size.
 * Throws one line naming the file and the fix.
 */
export async function decodeCharacterFile(index: HeldOutIndex, c: number, file: Uint8Array, folder = HELD_OUT_DIR): Promise<HeldOutCharacter> {
  const [key, , bytes, sha256] = index.characters[c];
  const where = describeFile(index, c, folder);
  const fail = (what: string): never => {
    throw new Error(`${where}: ${what}; the file is damaged or from another build: ${REBUILD_HINT}.`);
  };
  if (file.length !== bytes) fail(`${file.length} bytes, the index says ${bytes}`);
  const actual = await sha256Hex(file);
  if (actual !== sha256) fail(`SHA-256 ${actual.slice(0, 16)}…, the index says ${sha256.slice(0, 16)}…`);
  if (!isGzip(file)) fail('not gzip data');
  let pixels: Uint8Array;
  try {
    pixels = await gunzip(file);
  } catch (error) {
    return fail(`cannot be decompressed (${(error as Error).message})`);
  }
  const drawers = drawersOf(index, c);
  const expected = drawers.length * index.imageSize * index.imageSize;
  if (pixels.length !== expected) fail(`${pixels.length} pixel bytes, expected ${drawers.length} drawings of ${index.imageSize}x${index.imageSize}`);
  const [set, alphabet, character] = key.split('/');
  return { set, alphabet, character, drawers: [...drawers], pixels };
}
