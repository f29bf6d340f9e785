import { seededShuffle } from './seeded_shuffle';
import type { OmniglotCharacter, OmniglotSet, OmniglotSplit } from './types';

/** A character's stable name, 'set/alphabet/character', e.g. 'background/Latin/character01'. */
export function characterKey(character: OmniglotCharacter): string {
  return `${character.set}/${character.alphabet}/${character.character}`;
}

function checkCompatible(background: OmniglotSet, evaluation: OmniglotSet, caller: string): void {
  if (background.imageSize !== evaluation.imageSize) {
    throw new Error(
      `${caller}: ${background.source} has ${background.imageSize}px images but ${evaluation.source} has ` +
        `${evaluation.imageSize}px; load both with the same imageSize`,
    );
  }
}

/**
 * The authors' split: every background character trains, every evaluation character tests (964 / 659, with
 * disjoint alphabets).
 *
 * ```ts
 * const { train, test } = officialSplit(background, evaluation);
 * ```
 */
export function officialSplit(background: OmniglotSet, evaluation: OmniglotSet): OmniglotSplit {
  checkCompatible(background, evaluation, 'officialSplit');
  return { train: [...background.characters], test: [...evaluation.characters] };
}

/** Options of {@link paperSplit}. */
export interface PaperSplitOptions {
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** Number of training characters (default 1200; the rest, 423 of 1623, test). */
  trainClasses?: number;
}

/**
 * Santoro et al.'s split: all characters of both sets pooled (1623), sorted by `characterKey`, shuffled with
 * `seededShuffle(seed)`, the first `trainClasses` (1200) train and the rest (423) test. Sorting first makes the
 * result independent of how the sets were read; the self-contained generator keeps it the same across versions.
 * Each list comes back sorted by key. Alphabets are shared between train and test (unlike `officialSplit`).
 *
 * ```ts
 * const { train, test } = paperSplit(background, evaluation); // 1200 and 423 characters
 * ```
 */
export function paperSplit(
  background: OmniglotSet,
  evaluation: OmniglotSet,
  { seed = 0, trainClasses = 1200 }: PaperSplitOptions = {},
): OmniglotSplit {
  checkCompatible(background, evaluation, 'paperSplit');
  const pooled = [...background.characters, ...evaluation.characters];
  const keyed = pooled.map((character) => ({ key: characterKey(character), character }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let k = 1; k < keyed.length; k++) {
    if (keyed[k].key === keyed[k - 1].key) {
      throw new Error(`paperSplit: character ${keyed[k].key} appears twice; pass two different sets`);
    }
  }
  if (!Number.isInteger(trainClasses) || trainClasses < 1 || trainClasses >= pooled.length) {
    throw new Error(
      `paperSplit: trainClasses must be an integer in [1, ${pooled.length - 1}] (there are ${pooled.length} characters), got ${trainClasses}`,
    );
  }
  seededShuffle(keyed, seed);
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const train = keyed.slice(0, trainClasses).sort(byKey);
  const test = keyed.slice(trainClasses).sort(byKey);
  return { train: train.map((entry) => entry.character), test: test.map((entry) => entry.character) };
}
