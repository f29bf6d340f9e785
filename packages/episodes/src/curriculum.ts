/** Options of `curriculum`. */
export interface CurriculumOptions {
  /** Classes per episode at the start (default 15, as in the paper). */
  start?: number;
  /** Classes added at each stage (default 1). */
  increment?: number;
  /** Episodes per stage (default 10,000, as in the paper). */
  every?: number;
  /** Upper bound on the classes per episode (default none). */
  max?: number;
}

/**
 * The paper's curriculum: the number of classes per episode grows with training,
 * `min(max, start + increment * floor(episodesSeen / every))`.
 *
 * ```ts
 * const ways = curriculum({ start: 15, every: 10_000, max: 25 });
 * ways(0); // 15
 * ways(25_000); // 17
 * ```
 */
export function curriculum({
  start = 15,
  increment = 1,
  every = 10_000,
  max = Number.POSITIVE_INFINITY,
}: CurriculumOptions = {}): (episodesSeen: number) => number {
  if (!Number.isInteger(start) || start < 1) throw new Error(`curriculum: start must be a positive integer, got ${start}`);
  if (!Number.isInteger(increment) || increment < 0) {
    throw new Error(`curriculum: increment must be a non-negative integer, got ${increment}`);
  }
  if (!Number.isInteger(every) || every < 1) throw new Error(`curriculum: every must be a positive integer, got ${every}`);
  if (max !== Number.POSITIVE_INFINITY && !Number.isInteger(max)) {
    throw new Error(`curriculum: max must be an integer, got ${max}`);
  }
  if (max < start) throw new Error(`curriculum: max (${max}) must be at least start (${start})`);
  return (episodesSeen) => {
    if (!(episodesSeen >= 0)) throw new Error(`curriculum: episodesSeen must be >= 0, got ${episodesSeen}`);
    return Math.min(max, start + increment * Math.floor(episodesSeen / every));
  };
}
