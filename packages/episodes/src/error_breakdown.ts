import { checkPredictions } from './check_predictions';
import type { EpisodeBatch } from './types';

/** What `ErrorBreakdown` found, as counts of steps (see `ErrorBreakdown`). */
export interface ErrorBreakdownSummary {
  /** Steps scored. */
  steps: number;
  /** Steps showing a class for the 1st time, and how many of them the model answered with a label already shown. */
  firstInstances: {
    /** Steps showing a class for the 1st time. */
    steps: number;
    /** How many of them the model answered with the label of a class already shown. */
    answeredShownLabel: number;
  };
  /**
   * Steps showing a class again (2nd instance or later) that the model got wrong: answered with the label of
   * another class already shown in the episode (a confusion between classes it has seen), or with any other answer
   * (a label not shown yet; for string labels also a string that is no class's).
   */
  laterInstanceErrors: {
    /** Answered with the label of another class already shown in the episode. */
    confusedWithShownClass: number;
    /** Any other wrong answer. */
    other: number;
  };
  /** Width of the buckets of `secondInstanceByGap`, in steps. */
  gapBucket: number;
  /**
   * 2nd-instance accuracy by how many steps passed since the class was first shown; `gap` is the bucket's lower
   * end (buckets `gapBucket` wide; a class shown at steps 3 and 4 has gap 1). Empty buckets are left out.
   */
  secondInstanceByGap: {
    /** The bucket's lower end: steps since the class was first shown. */
    gap: number;
    /** 2nd-instance steps in the bucket. */
    steps: number;
    /** Fraction of them answered right, in [0, 1]. */
    accuracy: number;
  }[];
}

/**
 * Why a model's answers are wrong, over episodes: does it confuse classes it has already seen (their memories do
 * not tell them apart), answer a label not shown yet, or forget (2nd-instance accuracy falling as the gap since
 * the 1st grows)? A companion to `InstanceAccuracy`, which says how often it is right.
 *
 * ```ts
 * const errors = new ErrorBreakdown();
 * errors.add(batch, predictions); // predictions: Int32Array [T, B, G] of chosen indices
 * console.log(errors.summary().laterInstanceErrors);
 * ```
 */
export class ErrorBreakdown {
  private stepCount = 0;
  private firstSteps = 0;
  private firstAnsweredShown = 0;
  private confused = 0;
  private other = 0;
  private gapSteps: number[] = [];
  private gapRight: number[] = [];

  /** @param gapBucket width of the gap buckets of `secondInstanceByGap`, in steps. */
  constructor(readonly gapBucket = 5) {
    if (!Number.isInteger(gapBucket) || gapBucket < 1) {
      throw new Error(`ErrorBreakdown: gapBucket must be a positive integer, got ${gapBucket}`);
    }
  }

  /** Scores every episode of `batch` against `predictions`, the chosen choice index per group, [T, B, G]. */
  add(batch: EpisodeBatch, predictions: ArrayLike<number>): this {
    const { steps, batchSize, groups } = batch;
    checkPredictions('ErrorBreakdown.add', batch, predictions);
    const matches = (cell: number, labelCell: number): boolean => {
      for (let g = 0; g < groups; g++) {
        if (predictions[cell * groups + g] !== batch.targets[labelCell * groups + g]) return false;
      }
      return true;
    };
    for (let b = 0; b < batchSize; b++) {
      // Label id -> the step that first showed it (its targets stand for the label).
      const firstShown = new Map<number, number>();
      for (let t = 0; t < steps; t++) {
        const cell = t * batchSize + b;
        const label = batch.labels[cell];
        let answeredLabel: number | undefined;
        for (const [shownLabel, shownAt] of firstShown) {
          if (matches(cell, shownAt * batchSize + b)) answeredLabel = shownLabel;
        }
        this.stepCount += 1;
        if (batch.instances[cell] === 1) {
          this.firstSteps += 1;
          if (answeredLabel !== undefined) this.firstAnsweredShown += 1;
          firstShown.set(label, t);
          continue;
        }
        const right = matches(cell, cell);
        if (!right) {
          // A wrong answer cannot match this step's own label (the same targets would make it right), so a shown
          // label it matches is another class's.
          if (answeredLabel !== undefined) this.confused += 1;
          else this.other += 1;
        }
        if (batch.instances[cell] === 2) {
          const bucket = Math.floor((t - firstShown.get(label)! - 1) / this.gapBucket);
          this.gapSteps[bucket] = (this.gapSteps[bucket] ?? 0) + 1;
          this.gapRight[bucket] = (this.gapRight[bucket] ?? 0) + (right ? 1 : 0);
        }
      }
    }
    return this;
  }

  /** The counts so far (see {@link ErrorBreakdownSummary}). */
  summary(): ErrorBreakdownSummary {
    const secondInstanceByGap: ErrorBreakdownSummary['secondInstanceByGap'] = [];
    // forEach skips the holes of the sparse array: the buckets no step fell in.
    this.gapSteps.forEach((steps, bucket) => {
      secondInstanceByGap.push({ gap: bucket * this.gapBucket + 1, steps, accuracy: this.gapRight[bucket] / steps });
    });
    return {
      steps: this.stepCount,
      firstInstances: { steps: this.firstSteps, answeredShownLabel: this.firstAnsweredShown },
      laterInstanceErrors: { confusedWithShownClass: this.confused, other: this.other },
      gapBucket: this.gapBucket,
      secondInstanceByGap,
    };
  }
}
