import { checkPredictions } from './check_predictions';
import type { EpisodeBatch } from './types';

/** Accuracy of the k-th presentation of a class, over episodes. */
export interface InstanceAccuracySummary {
  /** k: which presentation (1 = the first time a class is shown). */
  instance: number;
  /** Mean over episodes of the fraction of classes right at their k-th presentation; NaN if no episode got there. */
  accuracy: number;
  /** Half-width of the 95% interval of that mean, 1.96 * sd / sqrt(episodes) (sample sd); NaN below 2 episodes. */
  interval: number;
  /** Episodes in which some class reached its k-th presentation. */
  episodes: number;
}

/** The serialisable state of an `InstanceAccuracy` (plain numbers, JSON-safe). */
export interface InstanceAccuracyJSON {
  /** Episodes added. */
  episodes: number;
  /** Steps scored, over all episodes. */
  steps: number;
  /** Steps predicted right. */
  correct: number;
  /** Entry k - 1 is about instance k. */
  instances: {
    /** Episodes in which instance k was reached. */
    episodes: number[];
    /** Sum over those episodes of the fraction right at instance k. */
    sum: number[];
    /** Sum of the squares of those fractions. */
    sumOfSquares: number[];
  };
}

/**
 * Accumulates the paper's accuracy by instance over episodes (Santoro et al. 2016, Table 1). A step is right
 * only if every label group is (for string labels: all characters). Per episode and instance k, the score
 * is the fraction right among the classes that reached k presentations; `summary` averages it over episodes.
 * Kept as sums, so it merges across workers and round-trips through JSON for checkpoints.
 *
 * ```ts
 * const accuracy = new InstanceAccuracy();
 * accuracy.add(batch, predictions); // predictions: Int32Array [T, B, G] of chosen indices
 * console.log(formatAccuracyTable(accuracy.summary()));
 * ```
 */
export class InstanceAccuracy {
  private episodeCount = 0;
  private stepCount = 0;
  private correctCount = 0;
  /** Per instance k (index k - 1): episodes that reached it, sum and sum of squares of the per-episode fractions. */
  private reached: number[] = [];
  private sum: number[] = [];
  private sumOfSquares: number[] = [];

  /** Episodes added so far. */
  get episodes(): number {
    return this.episodeCount;
  }

  /** Scores every episode of `batch` against `predictions`, the chosen choice index per group, [T, B, G]. */
  add(batch: EpisodeBatch, predictions: ArrayLike<number>): this {
    const { steps, batchSize, groups } = batch;
    checkPredictions('InstanceAccuracy.add', batch, predictions);
    for (let b = 0; b < batchSize; b++) {
      const right: number[] = [];
      const shown: number[] = [];
      for (let t = 0; t < steps; t++) {
        const cell = t * batchSize + b;
        let correct = true;
        for (let g = 0; g < groups; g++) {
          if (predictions[cell * groups + g] !== batch.targets[cell * groups + g]) correct = false;
        }
        const k = batch.instances[cell] - 1;
        shown[k] = (shown[k] ?? 0) + 1;
        right[k] = (right[k] ?? 0) + (correct ? 1 : 0);
        this.stepCount += 1;
        if (correct) this.correctCount += 1;
      }
      // forEach skips the holes: an instance this episode skipped (only in a hand-made batch) is not counted.
      shown.forEach((count, k) => {
        const fraction = right[k] / count;
        this.reached[k] = (this.reached[k] ?? 0) + 1;
        this.sum[k] = (this.sum[k] ?? 0) + fraction;
        this.sumOfSquares[k] = (this.sumOfSquares[k] ?? 0) + fraction * fraction;
      });
      this.episodeCount += 1;
    }
    return this;
  }

  /** Adds the episodes counted by `other` (as if they had been added here). */
  merge(other: InstanceAccuracy): this {
    this.episodeCount += other.episodeCount;
    this.stepCount += other.stepCount;
    this.correctCount += other.correctCount;
    for (let k = 0; k < other.reached.length; k++) {
      this.reached[k] = (this.reached[k] ?? 0) + (other.reached[k] ?? 0);
      this.sum[k] = (this.sum[k] ?? 0) + (other.sum[k] ?? 0);
      this.sumOfSquares[k] = (this.sumOfSquares[k] ?? 0) + (other.sumOfSquares[k] ?? 0);
    }
    return this;
  }

  /**
   * Accuracy by instance for each k in `instances`. An instance no episode reached (k > shots) is kept in
   * the list, with `accuracy` and `interval` NaN and `episodes` 0, so tables keep their columns.
   */
  summary(instances: readonly number[] = [1, 2, 3, 4, 5, 10]): InstanceAccuracySummary[] {
    return instances.map((instance) => {
      if (!Number.isInteger(instance) || instance < 1) {
        throw new Error(`InstanceAccuracy.summary: instances must be positive integers, got ${instance}`);
      }
      const episodes = this.reached[instance - 1] ?? 0;
      if (episodes === 0) return { instance, accuracy: Number.NaN, interval: Number.NaN, episodes };
      const mean = this.sum[instance - 1] / episodes;
      // Sample variance from the sums; clamped because rounding can make a zero variance slightly negative.
      const variance =
        episodes > 1 ? Math.max(0, this.sumOfSquares[instance - 1] - episodes * mean * mean) / (episodes - 1) : Number.NaN;
      return { instance, accuracy: mean, interval: 1.96 * Math.sqrt(variance / episodes), episodes };
    });
  }

  /** Fraction of all steps predicted right, over every episode and instance (NaN before any step). */
  overall(): number {
    return this.correctCount / this.stepCount; // 0 / 0 = NaN before any step
  }

  /** A JSON-safe copy of the accumulated state. */
  toJSON(): InstanceAccuracyJSON {
    const length = this.reached.length;
    const dense = (values: number[]): number[] => Array.from({ length }, (_, k) => values[k] ?? 0);
    return {
      episodes: this.episodeCount,
      steps: this.stepCount,
      correct: this.correctCount,
      instances: { episodes: dense(this.reached), sum: dense(this.sum), sumOfSquares: dense(this.sumOfSquares) },
    };
  }

  /**
   * Rebuilds an accumulator saved with `toJSON`. Throws, naming the first bad field, unless the counts are
   * non-negative integers and the three per-instance lists are equally long arrays of finite numbers (episode
   * counts among them non-negative integers).
   */
  static fromJSON(json: InstanceAccuracyJSON): InstanceAccuracy {
    checkJSON(json);
    const accuracy = new InstanceAccuracy();
    accuracy.episodeCount = json.episodes;
    accuracy.stepCount = json.steps;
    accuracy.correctCount = json.correct;
    accuracy.reached = [...json.instances.episodes];
    accuracy.sum = [...json.instances.sum];
    accuracy.sumOfSquares = [...json.instances.sumOfSquares];
    return accuracy;
  }
}

/** Throws unless `json` has the shape and ranges of what `InstanceAccuracy.toJSON` writes. */
function checkJSON(json: InstanceAccuracyJSON): void {
  const fail = (problem: string): never => {
    throw new Error(`InstanceAccuracy.fromJSON: ${problem}`);
  };
  if (typeof json !== 'object' || json === null || typeof json.instances !== 'object' || json.instances === null) {
    fail('expected the object written by InstanceAccuracy.toJSON()');
  }
  const isCount = (value: unknown): boolean => Number.isInteger(value) && (value as number) >= 0;
  for (const name of ['episodes', 'steps', 'correct'] as const) {
    if (!isCount(json[name])) fail(`${name} must be a non-negative integer, got ${json[name]}`);
  }
  const names = ['episodes', 'sum', 'sumOfSquares'] as const;
  for (const name of names) {
    const list: unknown = json.instances[name];
    if (!Array.isArray(list)) fail(`instances.${name} must be an array, got ${list}`);
  }
  const length = json.instances.episodes.length;
  for (const name of names) {
    const list = json.instances[name];
    if (list.length !== length) {
      fail(`instances.${name} has ${list.length} entries but instances.episodes has ${length}; they must match`);
    }
    list.forEach((value, k) => {
      const isCounts = name === 'episodes';
      if (isCounts ? !isCount(value) : !Number.isFinite(value)) {
        fail(`instances.${name}[${k}] must be ${isCounts ? 'a non-negative integer' : 'a finite number'}, got ${value}`);
      }
    });
  }
}
