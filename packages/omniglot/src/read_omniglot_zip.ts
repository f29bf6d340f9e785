import { unzipSync } from 'fflate';
import { resizeByAreaAverage } from './area_resize';
import { decodeInk } from './decode_ink';
import { DEFAULT_IMAGE_SIZE, OFFICIAL_COUNTS, OMNIGLOT_SOURCE_SIZE } from './types';
import type { OmniglotCharacter, OmniglotSet } from './types';
import { isIgnoredEntry, parseEntryPath } from './zip_layout';

/** Options of {@link readOmniglotZip}. */
export interface ReadOmniglotZipOptions {
  /** Side of the stored images (default 20, the paper's). */
  imageSize?: number;
  /** Name used in error messages and as the set's `source` (default 'omniglot.zip'). */
  name?: string;
  /**
   * Number of characters the archive must hold. Defaults to the official count when the zip's top folder is
   * `images_background` (964) or `images_evaluation` (659), and to no check otherwise.
   */
  expectedCharacters?: number;
}

interface PendingCharacter {
  alphabet: string;
  character: string;
  drawings: { drawer: number; path: string; bytes: Uint8Array }[];
}

/** Byte-wise comparison, so the order never depends on the locale. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reads one of the authors' Omniglot zips (`images_background.zip`, `images_evaluation.zip`, or their small
 * subsets) from memory: unzips it, decodes every PNG, resizes each drawing from 105x105 to `imageSize` squared by
 * exact area averaging and stores it as bytes (ink 255, paper 0). Characters come sorted by alphabet then
 * character and drawings by drawer, whatever the archive's entry order; directory entries are optional.
 * Browser-safe (no Node built-ins).
 *
 * Refuses, with an error naming the archive and the entry, anything that would give a silently short or wrong
 * data set: an unreadable zip, an entry outside the official layout, a PNG that does not decode or is not
 * 105x105, a duplicate drawer, characters with different drawer lists, or the wrong number of characters.
 *
 * ```ts
 * const bytes = new Uint8Array(await (await fetch('images_background.zip')).arrayBuffer());
 * const background = readOmniglotZip(bytes, { name: 'images_background.zip' });
 * background.characters.length; // 964
 * ```
 */
export function readOmniglotZip(bytes: Uint8Array, options: ReadOmniglotZipOptions = {}): OmniglotSet {
  const { imageSize = DEFAULT_IMAGE_SIZE, name = 'omniglot.zip' } = options;
  if (!(bytes instanceof Uint8Array)) {
    throw new Error(`readOmniglotZip: ${name}: expected the zip's bytes as a Uint8Array`);
  }
  if (!Number.isInteger(imageSize) || imageSize < 1 || imageSize > OMNIGLOT_SOURCE_SIZE) {
    throw new Error(`readOmniglotZip: imageSize must be an integer in [1, ${OMNIGLOT_SOURCE_SIZE}], got ${imageSize}`);
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (file) => !isIgnoredEntry(file.name) });
  } catch (error) {
    throw new Error(`${name}: not a readable zip archive, truncated or corrupt? (${(error as Error).message})`);
  }

  let top: string | undefined;
  const pending = new Map<string, PendingCharacter>();
  for (const [path, data] of Object.entries(entries)) {
    const entry = parseEntryPath(path, name);
    if (top === undefined) top = entry.top;
    if (entry.top !== top) {
      throw new Error(`${name}: entries under two top folders, '${top}' and '${entry.top}'; expected one`);
    }
    const key = `${entry.alphabet}/${entry.character}`;
    let character = pending.get(key);
    if (character === undefined) {
      character = { alphabet: entry.alphabet, character: entry.character, drawings: [] };
      pending.set(key, character);
    }
    character.drawings.push({ drawer: entry.drawer, path, bytes: data });
  }
  if (top === undefined) {
    throw new Error(`${name}: no PNG drawings found; is this an Omniglot archive?`);
  }

  const sorted = [...pending.values()].sort(
    (a, b) => compareStrings(a.alphabet, b.alphabet) || compareStrings(a.character, b.character),
  );
  const set = top.replace(/^images_/, '');
  // Only the two official top folders have known counts ('images_background_small1' has none).
  const official = Object.hasOwn(OFFICIAL_COUNTS, top.replace(/^images_/, ''))
    ? OFFICIAL_COUNTS[top.replace(/^images_/, '') as keyof typeof OFFICIAL_COUNTS]
    : undefined;
  const expectedCharacters = options.expectedCharacters ?? official?.characters;
  if (expectedCharacters !== undefined && sorted.length !== expectedCharacters) {
    throw new Error(
      `${name}: holds ${sorted.length} characters under '${top}', expected ${expectedCharacters}; ` +
        'the archive is incomplete or not the official one',
    );
  }

  const pixelsPerImage = imageSize * imageSize;
  let referenceDrawers: number[] | undefined;
  let referenceName = '';
  const characters: OmniglotCharacter[] = sorted.map((character) => {
    const where = `${top}/${character.alphabet}/${character.character}`;
    character.drawings.sort((a, b) => a.drawer - b.drawer);
    const drawers = character.drawings.map((drawing) => drawing.drawer);
    for (let k = 1; k < drawers.length; k++) {
      if (drawers[k] === drawers[k - 1]) {
        throw new Error(`${name}: ${where} has two drawings by drawer ${drawers[k]}`);
      }
    }
    if (referenceDrawers === undefined) {
      referenceDrawers = drawers;
      referenceName = where;
    } else if (drawers.join() !== referenceDrawers.join()) {
      throw new Error(
        `${name}: ${where} has drawers [${drawers.join(', ')}] but ${referenceName} has ` +
          `[${referenceDrawers.join(', ')}]; a drawing is missing or extra`,
      );
    }
    const pixels = new Uint8Array(drawers.length * pixelsPerImage);
    character.drawings.forEach((drawing, k) => {
      const ink = decodeInk(drawing.bytes, `${name}: ${drawing.path}`, OMNIGLOT_SOURCE_SIZE);
      const resized = resizeByAreaAverage(ink, OMNIGLOT_SOURCE_SIZE, imageSize);
      const offset = k * pixelsPerImage;
      for (let p = 0; p < pixelsPerImage; p++) pixels[offset + p] = Math.round(resized[p] * 255);
    });
    return { alphabet: character.alphabet, character: character.character, set, drawers, pixels };
  });
  const expectedDrawers = options.expectedCharacters === undefined ? official?.drawers : undefined;
  if (expectedDrawers !== undefined && referenceDrawers?.length !== expectedDrawers) {
    throw new Error(
      `${name}: characters have ${referenceDrawers?.length} drawings each, expected ${expectedDrawers}`,
    );
  }
  return { source: name, imageSize, characters };
}
