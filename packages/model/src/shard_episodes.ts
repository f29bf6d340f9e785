import type { EpisodeBatch } from '@mann/episodes';

/**
 * Splits `batchSize` episodes into at most `parts` contiguous ranges `[start, end)` whose sizes differ by at most
 * one, larger ones first; never an empty range (fewer ranges when there are fewer episodes than parts).
 *
 * ```js
 * splitEpisodes(5, 2); // [[0, 3], [3, 5]]
 * ```
 */
export function splitEpisodes(batchSize: number, parts: number): [number, number][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`splitEpisodes: batchSize must be a positive integer, got ${batchSize}.`);
  if (!Number.isInteger(parts) || parts < 1) throw new Error(`splitEpisodes: parts must be a positive integer, got ${parts}.`);
  const count = Math.min(parts, batchSize);
  const base = Math.floor(batchSize / count);
  const larger = batchSize % count;
  const ranges: [number, number][] = [];
  let start = 0;
  for (let k = 0; k < count; k++) {
    const end = start + base + (k < larger ? 1 : 0);
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}

/** The part of an `EpisodeBatch` a training step reads: sizes and the three time-major arrays. */
export type EpisodeShard = Pick<EpisodeBatch, 'steps' | 'batchSize' | 'ways' | 'sampleSize' | 'groups' | 'choices' | 'inputs' | 'previousLabels' | 'targets'>;

/**
 * Episodes `start..end-1` of a batch as a batch of their own (new arrays; the batch is time-major, so each step's
 * rows are copied). Checks that the arrays have the sizes the batch declares.
 *
 * ```js
 * const shard = sliceEpisodes(batch, 0, 8); // shard.batchSize === 8, shard.inputs.length === T * 8 * D
 * ```
 */
export function sliceEpisodes(batch: EpisodeShard, start: number, end: number): EpisodeShard {
  const { steps, batchSize, sampleSize, groups, choices } = batch;
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= batchSize)) {
    throw new Error(`sliceEpisodes: episodes [${start}, ${end}) are not a non-empty range inside the batch of ${batchSize}.`);
  }
  const expected: [string, number, number][] = [
    ['inputs', batch.inputs.length, steps * batchSize * sampleSize],
    ['previousLabels', batch.previousLabels.length, steps * batchSize * groups * choices],
    ['targets', batch.targets.length, steps * batchSize * groups],
  ];
  for (const [name, actual, wanted] of expected) {
    if (actual !== wanted) {
      throw new Error(`sliceEpisodes: batch.${name} has ${actual} numbers, expected ${wanted} for [T ${steps}, B ${batchSize}, ...].`);
    }
  }
  const size = end - start;
  return {
    steps,
    batchSize: size,
    ways: batch.ways,
    sampleSize,
    groups,
    choices,
    inputs: sliceRows(batch.inputs, new Float32Array(steps * size * sampleSize), steps, batchSize, sampleSize, start, size),
    previousLabels: sliceRows(batch.previousLabels, new Float32Array(steps * size * groups * choices), steps, batchSize, groups * choices, start, size),
    targets: sliceRows(batch.targets, new Int32Array(steps * size * groups), steps, batchSize, groups, start, size),
  };
}

function sliceRows<A extends Float32Array | Int32Array>(from: A, to: A, steps: number, batchSize: number, width: number, start: number, size: number): A {
  for (let t = 0; t < steps; t++) {
    to.set(from.subarray((t * batchSize + start) * width, (t * batchSize + start + size) * width), t * size * width);
  }
  return to;
}
