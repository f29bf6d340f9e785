import { describe, expect, it } from 'vitest';
import { ErrorBreakdown } from './error_breakdown';
import { answersFor, batchOf, tinyBatch } from './test_helpers';

// The answers, per cell (t * 2 + b), for tinyBatch (episode 0: labels 0 0 1 1; episode 1: labels 1 0 0 1):
//   episode 0: t0 label 0 (1st) answers 1: nothing shown yet, so not a shown label
//              t1 label 0 (2nd) answers 1: wrong, label 1 not shown yet -> "other"; gap 1
//              t2 label 1 (1st) answers 1: right, and label 1 is not shown yet (only 0 is)
//              t3 label 1 (2nd) answers 1: right; gap 1
//   episode 1: t0 label 1 (1st) answers 1: nothing shown yet
//              t1 label 0 (1st) answers 1: a shown label
//              t2 label 0 (2nd) answers 1: wrong, label 1 shown (at t0) -> confused; gap 1
//              t3 label 1 (2nd) answers 0: wrong, label 0 shown (at t1, cell 3) -> confused; gap 3
// One of the four 1st instances is answered with a shown label, so counting the others would give 3, not 1.
const answers = [1, 1, 1, 1, 1, 1, 1, 0];

describe('ErrorBreakdown', () => {
  it('matches a hand-computed case', () => {
    const summary = new ErrorBreakdown(2).add(tinyBatch(), Int32Array.from(answers)).summary();
    expect(summary).toEqual({
      steps: 8,
      firstInstances: { steps: 4, answeredShownLabel: 1 },
      laterInstanceErrors: { confusedWithShownClass: 2, other: 1 },
      gapBucket: 2,
      // Gaps 1, 1, 1 (one right) in the bucket 1-2; gap 3 (wrong) in the bucket 3-4.
      secondInstanceByGap: [
        { gap: 1, steps: 3, accuracy: 1 / 3 },
        { gap: 3, steps: 1, accuracy: 0 },
      ],
    });
  });

  it('compares string labels on every character', () => {
    const batch = tinyBatch(5);
    const predictions = new Int32Array(8 * 5);
    answers.forEach((answer, cell) => predictions.fill(answer, cell * 5, cell * 5 + 5));
    const same = new ErrorBreakdown(2).add(batch, predictions).summary();
    expect(same.laterInstanceErrors).toEqual({ confusedWithShownClass: 2, other: 1 });
    expect(same.firstInstances).toEqual({ steps: 4, answeredShownLabel: 1 });
    // One character off turns episode 1's confusion at t2 (cell 5) into an answer that is no class's label.
    predictions[5 * 5 + 4] = 0;
    const off = new ErrorBreakdown(2).add(batch, predictions).summary();
    expect(off.laterInstanceErrors).toEqual({ confusedWithShownClass: 1, other: 2 });
  });

  it('accumulates over calls and rejects predictions of the wrong size', () => {
    const breakdown = new ErrorBreakdown(2).add(tinyBatch(), Int32Array.from(answers)).add(tinyBatch(), Int32Array.from(answers));
    expect(breakdown.summary().laterInstanceErrors).toEqual({ confusedWithShownClass: 4, other: 2 });
    expect(breakdown.summary().steps).toBe(16);
    expect(() => breakdown.add(tinyBatch(), new Int32Array(7))).toThrow(
      'ErrorBreakdown.add: predictions must be [T, B, G] = [4, 2, 1] (8 numbers), got 7',
    );
    expect(() => breakdown.add(tinyBatch(5), new Int32Array(8))).toThrow(
      'ErrorBreakdown.add: predictions must be [T, B, G] = [4, 2, 5] (40 numbers), got 8',
    );
    expect(() => new ErrorBreakdown(0)).toThrow('ErrorBreakdown: gapBucket must be a positive integer, got 0');
    expect(() => new ErrorBreakdown(1.5)).toThrow('ErrorBreakdown: gapBucket must be a positive integer, got 1.5');
    expect(new ErrorBreakdown().gapBucket).toBe(5);
  });

  it('buckets only 2nd instances by gap, one step wide, leaving out empty buckets', () => {
    // One episode, labels 0 1 0 0 1 1: instances 1 1 2 3 2 3.
    const batch = batchOf([[0, 1, 0, 0, 1, 1]]);
    const summary = new ErrorBreakdown(1).add(batch, answersFor(batch, [[1, 0, 0, 1, 1, 0]])).summary();
    // t0 right; t1 (1st) answers 0, a shown label; t2 (label 0, 2nd, gap 2) answers 1, shown -> confused;
    // t3 (3rd) right; t4 (label 1, 2nd, gap 3) right; t5 (label 1, 3rd) answers 0, shown -> confused.
    // The 3rd instances (gaps 3 and 4 from the 1st) stay out of the buckets; gap 1 has no step.
    expect(summary).toEqual({
      steps: 6,
      firstInstances: { steps: 2, answeredShownLabel: 1 },
      laterInstanceErrors: { confusedWithShownClass: 2, other: 0 },
      gapBucket: 1,
      secondInstanceByGap: [
        { gap: 2, steps: 1, accuracy: 0 },
        { gap: 3, steps: 1, accuracy: 1 },
      ],
    });
  });
});
