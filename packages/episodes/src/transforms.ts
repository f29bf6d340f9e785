import type { LabelEncoding } from './label_encoding';
import { pickDistinct, type Random } from './random';
import type { ClassDataset } from './types';

/**
 * One episode as a small plain description that transforms fill in step by step (in the style of
 * learn2learn's task transforms `NWays`, `KShots`, `RemapLabels`, `LoadData`).
 */
export interface EpisodePlan {
  /** Dataset class index of each class slot 0..N-1. */
  readonly classes: readonly number[];
  /** The steps in presentation order: which class slot, and which sample of that slot's class. */
  readonly steps: readonly EpisodeStep[];
  /** Label id of each class slot, once `remapLabels` ran. */
  readonly labels?: Int32Array;
  /** The samples of the steps, [T, D] row-major, once `loadSamples` ran. */
  readonly inputs?: Float32Array;
}

/** One step of an episode plan. */
export interface EpisodeStep {
  /** Class slot (0..N-1) shown at this step. */
  readonly slot: number;
  /** Index of the sample within the slot's dataset class. */
  readonly sample: number;
}

/** What every transform may use: the dataset and the episode's seeded generator. */
export interface EpisodeContext {
  /** The dataset the episode's classes and samples come from. */
  readonly dataset: ClassDataset;
  /** The episode's seeded generator: every random choice of a transform draws from it. */
  readonly random: Random;
}

/** A step of episode construction: takes a plan, returns a new one (never mutates its input). */
export type EpisodeTransform = (plan: EpisodePlan, context: EpisodeContext) => EpisodePlan;

/**
 * Picks `ways` distinct classes into the slots, from `pool` (dataset class indices) or from all classes.
 *
 * ```ts
 * const task = episodeTask(dataset, [nWays(5), kShots(10), shuffleSteps()]);
 * ```
 */
export function nWays(ways: number, pool?: ArrayLike<number>): EpisodeTransform {
  return (plan, { dataset, random }) => {
    const size = pool ? pool.length : dataset.numClasses;
    if (ways > size) {
      throw new Error(
        `nWays: cannot pick ${ways} distinct classes (ways) from ` +
          (pool ? `a pool of ${size} classes` : `a dataset of ${size} classes`),
      );
    }
    const picked = Array.from(pickDistinct(size, ways, random), (i) => (pool ? pool[i] : i));
    return { ...plan, classes: picked };
  };
}

/** Picks `shots` distinct samples of each slot's class; the steps come out grouped by slot (shuffle next). */
export function kShots(shots: number): EpisodeTransform {
  return (plan, { dataset, random }) => {
    const steps: EpisodeStep[] = [];
    plan.classes.forEach((classIndex, slot) => {
      const available = dataset.samplesIn(classIndex);
      if (shots > available) {
        throw new Error(
          `kShots: class ${classIndex} has ${available} samples, fewer than the ${shots} shots an episode needs`,
        );
      }
      for (const sample of pickDistinct(available, shots, random)) steps.push({ slot, sample });
    });
    return { ...plan, steps };
  };
}

/** Puts the steps in a random order. */
export function shuffleSteps(): EpisodeTransform {
  return (plan, { random }) => ({ ...plan, steps: random.shuffle([...plan.steps]) });
}

/** Gives the class slots fresh labels from `encoding` (a random permutation for one-hot). */
export function remapLabels(encoding: LabelEncoding): EpisodeTransform {
  return (plan, { random }) => ({ ...plan, labels: encoding.assign(plan.classes.length, random) });
}

/**
 * Reads each step's sample into `inputs` ([T, D]), passing the episode's generator to `dataset.read` so
 * on-the-fly augmentation is seeded too.
 */
export function loadSamples(): EpisodeTransform {
  return (plan, { dataset, random }) => {
    const size = dataset.sampleShape.reduce((product, side) => product * side, 1);
    const inputs = new Float32Array(plan.steps.length * size);
    plan.steps.forEach(({ slot, sample }, t) => {
      dataset.read(plan.classes[slot], sample, inputs, t * size, () => random.next());
    });
    return { ...plan, inputs };
  };
}

/**
 * A task: draws one episode plan by running `transforms` in order on an empty plan with the given generator.
 *
 * ```ts
 * const task = episodeTask(syntheticPatterns({ classes: 20, samplesPerClass: 10, sampleShape: [8, 8] }), [
 *   nWays(5), kShots(10), shuffleSteps(), remapLabels(oneHotLabels(5)), loadSamples(),
 * ]);
 * const plan = task(createRandom(0)); // plan.steps.length === 50
 * ```
 */
export function episodeTask(
  dataset: ClassDataset,
  transforms: readonly EpisodeTransform[],
): (random: Random) => EpisodePlan {
  return (random) => {
    const context: EpisodeContext = { dataset, random };
    return transforms.reduce<EpisodePlan>((plan, transform) => transform(plan, context), { classes: [], steps: [] });
  };
}
