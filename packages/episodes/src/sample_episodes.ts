import type { LabelEncoding } from './label_encoding';
import type { Random } from './random';
import { episodeTask, kShots, loadSamples, nWays, remapLabels, shuffleSteps, type EpisodePlan } from './transforms';
import type { ClassDataset, EpisodeBatch } from './types';

/** Options of `sampleEpisodes`. */
export interface SampleEpisodesOptions {
  /** N: classes per episode. */
  ways: number;
  /** K: samples of each class per episode (T = N * K steps). */
  shots: number;
  /** B: episodes in the batch. */
  batchSize: number;
  /** How labels are drawn and encoded. */
  labels: LabelEncoding;
  /** The seeded generator everything is drawn from; the same state gives the same batch. */
  random: Random;
  /** Restrict episodes to these dataset class indices (e.g. the training split); default all classes. */
  classes?: ArrayLike<number>;
}

/**
 * A batch of B independent episodes: each picks `ways` distinct classes and `shots` distinct samples of
 * each, shuffles the T = ways * shots steps, gives the classes fresh labels and lays everything out
 * time-major ([T, B, ...]) with y_{t-1} beside x_t.
 *
 * ```ts
 * const dataset = syntheticPatterns({ classes: 20, samplesPerClass: 10, sampleShape: [8, 8] });
 * const batch = sampleEpisodes(dataset, {
 *   ways: 5, shots: 10, batchSize: 16, labels: oneHotLabels(5), random: createRandom(0),
 * });
 * batch.inputs.length; // 50 * 16 * 64
 * ```
 */
export function sampleEpisodes(dataset: ClassDataset, options: SampleEpisodesOptions): EpisodeBatch {
  const { ways, shots, batchSize, labels: encoding, random, classes: pool } = options;
  for (const [name, value] of [['ways', ways], ['shots', shots], ['batchSize', batchSize]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`sampleEpisodes: ${name} must be a positive integer, got ${value}`);
    }
  }
  const candidates = validatePool(dataset, pool);
  if (ways > candidates.length) {
    throw new Error(
      `sampleEpisodes: cannot pick ${ways} distinct classes (ways) from ` +
        (pool ? `the ${candidates.length} classes given` : `a dataset of ${candidates.length} classes`),
    );
  }
  // Checked up front so a bad configuration fails on the first batch, not when the unlucky class is drawn.
  for (const classIndex of candidates) {
    const available = dataset.samplesIn(classIndex);
    if (available < shots) {
      throw new Error(
        `sampleEpisodes: class ${classIndex} has ${available} samples, fewer than shots = ${shots}; ` +
          `lower shots or restrict 'classes' to classes with at least ${shots} samples`,
      );
    }
  }

  const task = episodeTask(dataset, [nWays(ways, pool), kShots(shots), shuffleSteps(), remapLabels(encoding), loadSamples()]);
  const steps = ways * shots;
  const sampleSize = dataset.sampleShape.reduce((product, side) => product * side, 1);
  const { groups, choices, size: labelSize } = encoding;
  const batch = {
    steps,
    batchSize,
    ways,
    sampleSize,
    groups,
    choices,
    inputs: new Float32Array(steps * batchSize * sampleSize),
    previousLabels: new Float32Array(steps * batchSize * labelSize),
    targets: new Int32Array(steps * batchSize * groups),
    labels: new Int32Array(steps * batchSize),
    instances: new Int32Array(steps * batchSize),
    classes: new Int32Array(batchSize * ways),
  };
  for (let b = 0; b < batchSize; b++) {
    writeEpisode(task(random), b, batch, encoding);
  }
  return batch;
}

/** The candidate classes, with `pool` checked to hold distinct valid class indices. */
function validatePool(dataset: ClassDataset, pool: ArrayLike<number> | undefined): number[] {
  if (!pool) return Array.from({ length: dataset.numClasses }, (_, i) => i);
  const candidates = Array.from(pool);
  const seen = new Set<number>();
  for (const classIndex of candidates) {
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= dataset.numClasses) {
      throw new Error(
        `sampleEpisodes: classes must be indices in [0, ${dataset.numClasses}) of the dataset, got ${classIndex}`,
      );
    }
    if (seen.has(classIndex)) {
      throw new Error(`sampleEpisodes: classes lists class ${classIndex} twice; episodes need distinct classes`);
    }
    seen.add(classIndex);
  }
  return candidates;
}

/** Copies one finished plan into episode column `b` of the time-major batch arrays. */
function writeEpisode(plan: EpisodePlan, b: number, batch: EpisodeBatch, encoding: LabelEncoding): void {
  const { steps, batchSize, ways, sampleSize, groups } = batch;
  const slotLabels = plan.labels!;
  const inputs = plan.inputs!;
  const seen = new Int32Array(ways);
  plan.classes.forEach((classIndex, slot) => {
    batch.classes[b * ways + slot] = classIndex;
  });
  for (let t = 0; t < steps; t++) {
    const { slot } = plan.steps[t];
    const label = slotLabels[slot];
    const cell = t * batchSize + b;
    batch.inputs.set(inputs.subarray(t * sampleSize, (t + 1) * sampleSize), cell * sampleSize);
    batch.labels[cell] = label;
    encoding.targets(label, batch.targets, cell * groups);
    seen[slot] += 1;
    batch.instances[cell] = seen[slot];
    // y_{t-1} goes beside x_t; row t = 0 stays zeros (the Float32Array starts zeroed).
    if (t + 1 < steps) encoding.encode(label, batch.previousLabels, (cell + batchSize) * encoding.size);
  }
}
