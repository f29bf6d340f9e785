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

/** Options of {@link validationSplit}. */
export interface ValidationSplitOptions {
  /** Number of characters taken out for validation (default 100). */
  count?: number;
  /** Seed of the shuffle that picks them (default 0). */
  seed?: number;
}

/** The result of {@link validationSplit}. */
export interface ValidationSplit {
  /** The training characters left to train on, sorted by key. */
  train: OmniglotCharacter[];
  /** The characters set aside for validation, never trained on, sorted by key. */
  validation: OmniglotCharacter[];
}

/**
 * Takes `count` validation characters out of a split's training characters, so that choices made during and after
 * training (which snapshot to ship, when to lower the learning rate, which recipe) are made on characters the model
 * never trained on, and the test characters are scored only for a finished model's final table. The characters are
 * sorted by `characterKey`, shuffled with `seededShuffle(seed)`, and the first `count` validate; both lists come back
 * sorted by key. Rotated copies are made from `train` afterwards (`withRotatedClasses`), so a validation character's
 * rotations never train either.
 *
 * ```ts
 * const { train, test } = paperSplit(background, evaluation); // 1200 and 423 characters
 * const { train: fit, validation } = validationSplit(train); // 1100 to train on, 100 to choose with
 * ```
 */
export function validationSplit(
  train: readonly OmniglotCharacter[],
  { count = 100, seed = 0 }: ValidationSplitOptions = {},
): ValidationSplit {
  if (!Number.isInteger(count) || count < 1 || count >= train.length) {
    throw new Error(
      `validationSplit: count must be an integer in [1, ${train.length - 1}] (there are ${train.length} training characters), got ${count}`,
    );
  }
  const keyed = train.map((character) => ({ key: characterKey(character), character }));
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  keyed.sort(byKey);
  for (let k = 1; k < keyed.length; k++) {
    if (keyed[k].key === keyed[k - 1].key) throw new Error(`validationSplit: character ${keyed[k].key} appears twice`);
  }
  seededShuffle(keyed, seed);
  return {
    validation: keyed.slice(0, count).sort(byKey).map((entry) => entry.character),
    train: keyed.slice(count).sort(byKey).map((entry) => entry.character),
  };
}
