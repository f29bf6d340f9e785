// Build-time (Node) half of the held-out characters: chooses them as the page used to (the paper's split with the
// checkpoint's seed from both zips, else the whole evaluation archive), encodes one small gzipped file per
// character plus a JSON index (src/held_out_files.ts), and checks that the page's decoder gives back every float.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { characterKey, OmniglotDataset, paperSplit, readOmniglotZip, type OmniglotCharacter } from '@mann/omniglot';
import { loadOmniglot } from '@mann/omniglot/node';
import { decodeCharacterFile, HELD_OUT_DIR, HELD_OUT_FORMAT, HELD_OUT_VERSION, type HeldOutIndex, type HeldOutRow } from '../src/held_out_files';

/** How the checkpoint was trained, as far as the held-out characters go (`training.run` of its manifest). */
export type TrainingSplit =
  | { kind: 'paper'; seed: number }
  | { kind: 'official' }
  /** A checkpoint that does not record its split. */
  | { kind: 'unknown' }
  /** No checkpoint: the page starts from a fresh model. */
  | { kind: 'none' };

/** The held-out characters, encoded: file name (in `held-out/`) -> bytes, the index among them. */
export interface EncodedHeldOut {
  index: HeldOutIndex;
  /** `index-<sha16>.json`. */
  indexFile: string;
  indexSha256: string;
  /** Every file, the index included. */
  files: Map<string, Uint8Array>;
  /** What was read and how (for the build log). */
  source: string;
}

/** Characters chosen for one of the page's sets, what they are, and how the index records their choice. */
export interface ChosenCharacters {
  characters: OmniglotCharacter[];
  description: string;
  indexSplit: HeldOutIndex['split'];
}

/** What went wrong, to show on the page and in the build log, when OMNIGLOT_DIR cannot give the characters. */
export class MissingOmniglot extends Error {}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/**
 * The characters the model never trained on, from the zips in `omniglotDir` at `imageSize`: the paper split's test
 * characters (seed from the checkpoint) or the evaluation archive. Uses `@mann/omniglot/node`'s decoded cache when
 * both zips are there (a fraction of a second once it is warm). Throws {@link MissingOmniglot} when a zip it needs is
 * missing, and any decoding error as it is.
 */
export async function chooseHeldOut(
  omniglotDir: string,
  imageSize: number,
  split: TrainingSplit,
  onProgress: (message: string) => void = () => {},
  onWarning: (message: string) => void = console.warn,
): Promise<ChosenCharacters & { source: string; training: ChosenCharacters | null }> {
  const backgroundZip = join(omniglotDir, 'images_background.zip');
  const evaluationZip = join(omniglotDir, 'images_evaluation.zip');
  if (!isFile(evaluationZip)) {
    throw new MissingOmniglot(`OMNIGLOT_DIR=${omniglotDir} has no images_evaluation.zip (the authors' held-out characters); episodes cannot be played.`);
  }
  if (split.kind === 'paper' && !isFile(backgroundZip)) {
    throw new MissingOmniglot(
      `The checkpoint was trained on the paper's split, whose held-out characters come from both archives, but OMNIGLOT_DIR=${omniglotDir} ` +
        'has no images_background.zip; episodes cannot be played.',
    );
  }
  let last = '';
  const progress = (message: string) => {
    last = message;
    onProgress(message);
  };
  let background: readonly OmniglotCharacter[] | undefined;
  let evaluation: readonly OmniglotCharacter[];
  let source: string;
  if (isFile(backgroundZip)) {
    const sets = await loadOmniglot({ dir: omniglotDir, imageSize, onProgress: progress, onWarning });
    background = sets.background.characters;
    evaluation = sets.evaluation.characters;
    source = `${backgroundZip} and ${evaluationZip} (${last})`;
  } else {
    evaluation = readOmniglotZip(new Uint8Array(await readFile(evaluationZip)), { imageSize, name: evaluationZip }).characters;
    source = `${evaluationZip} (decoded, no cache without images_background.zip)`;
  }
  if (split.kind === 'paper') {
    const sets = (characters: readonly OmniglotCharacter[], name: string) => ({ source: name, imageSize, characters });
    const { train, test } = paperSplit(sets(background!, backgroundZip), sets(evaluation, evaluationZip), { seed: split.seed });
    return {
      characters: test,
      description: `${test.length} held-out characters of the paper's split (seed ${split.seed}), which this checkpoint never trained on`,
      indexSplit: { kind: 'paper', seed: split.seed },
      source,
      // The Train mode trains on the split's training characters, as `mann train` does.
      training: {
        characters: train,
        description: `the ${train.length} training characters of the paper's split (seed ${split.seed})`,
        indexSplit: { kind: 'paper-train', seed: split.seed },
      },
    };
  }
  const why =
    split.kind === 'none'
      ? 'in 20 alphabets of their own'
      : split.kind === 'official'
        ? 'in 20 alphabets this checkpoint, trained on the official split, never saw'
        : 'assumed held out: the checkpoint does not record its split';
  return {
    characters: [...evaluation],
    description: `the ${evaluation.length} characters of the evaluation archive (${why})`,
    indexSplit: { kind: 'evaluation' },
    source,
    // Held out: the evaluation archive, so the Train mode trains on the background archive (the official split).
    training: background
      ? { characters: [...background], description: `the ${background.length} characters of the background archive`, indexSplit: { kind: 'background' } }
      : null,
  };
}

/** Encodes the characters: one gzipped file each, named by its SHA-256, and the index. */
export function encodeHeldOut(
  characters: readonly OmniglotCharacter[],
  imageSize: number,
  description: string,
  split: HeldOutIndex['split'],
  source = '',
): EncodedHeldOut {
  if (characters.length === 0) throw new Error('[mann-assets] no held-out characters to encode');
  const drawers = [...characters[0].drawers];
  const files = new Map<string, Uint8Array>();
  const rows: HeldOutRow[] = [];
  let totalBytes = 0;
  let pixelBytes = 0;
  for (const character of characters) {
    const key = characterKey(character);
    if (key.split('/').length !== 3) throw new Error(`[mann-assets] character key '${key}' has a '/' in a name`);
    if (character.pixels.length !== character.drawers.length * imageSize * imageSize) {
      throw new Error(`[mann-assets] ${key} has ${character.pixels.length} pixel bytes, not ${character.drawers.length} images of ${imageSize}x${imageSize}`);
    }
    // mtime 0 and no name in the header (zlib's defaults), so the same pixels always give the same file. Level 6:
    // level 9 makes the files 2% smaller (0.755 vs 0.769 MB for the paper's 423) but takes 1.4 s instead of 0.2 s.
    const file = new Uint8Array(gzipSync(character.pixels, { level: 6 }));
    const digest = sha256(file);
    const name = `${digest.slice(0, 16)}.bin`;
    files.set(name, file);
    const row: HeldOutRow = [key, name, file.length, digest];
    if (character.drawers.join() !== drawers.join()) row.push([...character.drawers]);
    rows.push(row);
    totalBytes += file.length;
    pixelBytes += character.pixels.length;
  }
  const index: HeldOutIndex = {
    format: HELD_OUT_FORMAT,
    version: HELD_OUT_VERSION,
    imageSize,
    description,
    split,
    drawers,
    totalBytes,
    pixelBytes,
    columns: ['key', 'file', 'bytes', 'sha256', 'drawers?'],
    characters: rows,
  };
  const indexBytes = new TextEncoder().encode(`${JSON.stringify(index)}\n`);
  const indexSha256 = sha256(indexBytes);
  const indexFile = `index-${indexSha256.slice(0, 16)}.json`;
  files.set(indexFile, indexBytes);
  return { index, indexFile, indexSha256, files, source };
}

/**
 * Decodes every file with the page's own decoder (src/held_out_files.ts: SHA-256 check, DecompressionStream) and
 * checks that each drawing reads, through `OmniglotDataset`, as exactly the same float32 bits as the characters
 * it was made from. Throws a clear error at the first difference.
 */
export async function verifyHeldOut(encoded: EncodedHeldOut, characters: readonly OmniglotCharacter[], folder = HELD_OUT_DIR): Promise<void> {
  const { index, files } = encoded;
  const size = index.imageSize * index.imageSize;
  const original = new OmniglotDataset(characters);
  const expected = new Float32Array(size);
  const actual = new Float32Array(size);
  const expectedBits = new Uint32Array(expected.buffer);
  const actualBits = new Uint32Array(actual.buffer);
  // All at once: each decode waits on Web Crypto and a DecompressionStream, which overlap.
  const decodedAll = await Promise.all(index.characters.map((row, c) => decodeCharacterFile(index, c, files.get(row[1])!, folder)));
  for (let c = 0; c < index.characters.length; c++) {
    const decoded = new OmniglotDataset([decodedAll[c]]);
    for (let s = 0; s < original.samplesIn(c); s++) {
      original.read(c, s, expected, 0);
      decoded.read(0, s, actual, 0);
      for (let p = 0; p < size; p++) {
        if (expectedBits[p] !== actualBits[p]) {
          throw new Error(
            `[mann-assets] ${folder}/${index.characters[c][1]} (${index.characters[c][0]}) drawing ${s} pixel ${p} decodes to ` +
              `${actual[p]}, not ${expected[p]} as decoded from the zip: the page's data would differ; refusing to build.`,
          );
        }
      }
    }
  }
}
