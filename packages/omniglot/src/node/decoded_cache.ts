import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OmniglotCharacter, OmniglotSet } from '../types';
import { writeFileAtomic } from './atomic_write';

/**
 * Cache file format, version 1 (little-endian):
 *
 * | bytes | what |
 * | --- | --- |
 * | 8 | magic `MANNOMNI` |
 * | 4 | version (uint32) = 1 |
 * | 4 | header length H (uint32) |
 * | 32 | sha256 of everything after this field (header + pixels) |
 * | H | header, UTF-8 JSON: `{ imageSize, archives: { background, evaluation } (zip sha256 hex), sets }` where each set is `{ source, characters: [[alphabet, character, set, drawers], ...] }` |
 * | rest | every character's `pixels`, in header order |
 *
 * A file that fails any check (magic, version, length, checksum, key) is ignored and rebuilt, never trusted.
 */
const MAGIC = 'MANNOMNI';
/** Version of the decoded-Omniglot cache format; a cache file of another version is rebuilt. */
export const CACHE_VERSION = 1;
const FIXED_BYTES = 8 + 4 + 4 + 32;

export interface CacheKey {
  imageSize: number;
  archives: { background: string; evaluation: string };
}

interface CacheHeader extends CacheKey {
  sets: { source: string; characters: [string, string, string, number[]][] }[];
}

/** The decoded-set cache file for `imageSize` pixel images in `cacheDir`: `omniglot-<imageSize>px.bin`. */
export function cacheFilePath(cacheDir: string, imageSize: number): string {
  return join(cacheDir, `omniglot-${imageSize}px.bin`);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes both sets to the cache file for `key` (atomically). */
export async function writeDecodedCache(path: string, key: CacheKey, sets: [OmniglotSet, OmniglotSet]): Promise<void> {
  const header: CacheHeader = {
    ...key,
    sets: sets.map((set) => ({
      source: set.source,
      characters: set.characters.map((c): [string, string, string, number[]] => [c.alphabet, c.character, c.set, [...c.drawers]]),
    })),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const pixels = sets.flatMap((set) => set.characters.map((c) => c.pixels));
  const hash = createHash('sha256').update(headerBytes);
  for (const chunk of pixels) hash.update(chunk);
  const fixed = new Uint8Array(FIXED_BYTES);
  fixed.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(fixed.buffer);
  view.setUint32(8, CACHE_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  fixed.set(hash.digest(), 16);
  await writeFileAtomic(path, [fixed, headerBytes, ...pixels]);
}

/**
 * Reads the cache file at `path` if it exists, is intact and was made for `key`; otherwise returns the reason
 * it cannot be used (for progress messages) and the caller rebuilds it.
 */
export async function readDecodedCache(
  path: string,
  key: CacheKey,
): Promise<{ sets: [OmniglotSet, OmniglotSet] } | { reason: string }> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch {
    return { reason: `no cache at ${path}` };
  }
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < FIXED_BYTES || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    return { reason: `${path} is not a decoded-Omniglot cache` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CACHE_VERSION) return { reason: `${path} has cache version ${version}, expected ${CACHE_VERSION}` };
  const headerLength = view.getUint32(12, true);
  if (FIXED_BYTES + headerLength > bytes.length) return { reason: `${path} is truncated` };
  const stored = Buffer.from(bytes.subarray(16, 48)).toString('hex');
  if (sha256Hex(bytes.subarray(FIXED_BYTES)) !== stored) return { reason: `${path} is corrupt (checksum mismatch)` };
  let header: CacheHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(FIXED_BYTES, FIXED_BYTES + headerLength)));
  } catch {
    return { reason: `${path} has an unreadable header` };
  }
  if (
    header.imageSize !== key.imageSize ||
    header.archives?.background !== key.archives.background ||
    header.archives?.evaluation !== key.archives.evaluation ||
    !Array.isArray(header.sets) ||
    header.sets.length !== 2
  ) {
    return { reason: `${path} was made from other archives or another image size` };
  }
  const pixelsPerImage = key.imageSize * key.imageSize;
  let offset = FIXED_BYTES + headerLength;
  const sets = header.sets.map((set): OmniglotSet => {
    const characters = set.characters.map(([alphabet, character, setName, drawers]): OmniglotCharacter => {
      const length = drawers.length * pixelsPerImage;
      const pixels = bytes.subarray(offset, offset + length);
      offset += length;
      return { alphabet, character, set: setName, drawers, pixels };
    });
    return { source: set.source, imageSize: key.imageSize, characters };
  });
  if (offset !== bytes.length) return { reason: `${path} has ${bytes.length - offset} bytes more or fewer than its header says` };
  return { sets: [sets[0], sets[1]] };
}
