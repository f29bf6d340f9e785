import { describe, expect, it } from 'vitest';
import { ErrorBreakdown } from './error_breakdown';
import { tinyBatch } from './test_helpers';

// The answers, per cell (t * 2 + b), for tinyBatch (episode 0: labels 0 0 1 1; episode 1: labels 1 0 0 1):
//   episode 0: t0 label 0 (1st) answers 1: nothing shown yet, so not a shown label
//              t1 label 0 (2nd) answers 1: wrong, label 1 not shown yet -> "other"; gap 1
//              t2 label 1 (1st) answers 0: a shown label
//              t3 label 1 (2nd) answers 1: right; gap 1
//   episode 1: t0 label 1 (1st) answers 1: nothing shown yet
//              t1 label 0 (1st) answers 1: a shown label
//              t2 label 0 (2nd) answers 1: wrong, label 1 shown -> confused; gap 1
//              t3 label 1 (2nd) answers 1: right; gap 3
const answers = [1, 1, 1, 1, 0, 1, 1, 1];

describe('ErrorBreakdown', () => {
  it('matches a hand-computed case', () => {
    const summary = new ErrorBreakdown(2).add(tinyBatch(), Int32Array.from(answers)).summary();
    expect(summary).toEqual({
      steps: 8,
      firstInstances: { steps: 4, answeredShownLabel: 2 },
      laterInstanceErrors: { confusedWithShownClass: 1, other: 1 },
      gapBucket: 2,
      // Gaps 1, 1, 1 (one right) in the bucket 1-2; gap 3 (right) in the bucket 3-4.
      secondInstanceByGap: [
        { gap: 1, steps: 3, accuracy: 1 / 3 },
        { gap: 3, steps: 1, accuracy: 1 },
      ],
    });
  });

  it('compares string labels on every character', () => {
    const batch = tinyBatch(5);
    const predictions = new Int32Array(8 * 5);
    answers.forEach((answer, cell) => predictions.fill(answer, cell * 5, cell * 5 + 5));
    const same = new ErrorBreakdown(2).add(batch, predictions).summary();
    expect(same.laterInstanceErrors).toEqual({ confusedWithShownClass: 1, other: 1 });
    // One character off turns episode 1's confusion (t2, cell 5) into an answer that is no class's label.
    predictions[5 * 5 + 4] = 0;
    const off = new ErrorBreakdown(2).add(batch, predictions).summary();
    expect(off.laterInstanceErrors).toEqual({ confusedWithShownClass: 0, other: 2 });
  });

  it('accumulates over calls and rejects predictions of the wrong size', () => {
    const breakdown = new ErrorBreakdown(2).add(tinyBatch(), Int32Array.from(answers)).add(tinyBatch(), Int32Array.from(answers));
    expect(breakdown.summary().laterInstanceErrors).toEqual({ confusedWithShownClass: 2, other: 2 });
    expect(() => breakdown.add(tinyBatch(), new Int32Array(7))).toThrow('predictions must be [T, B, G] = [4, 2, 1] (8 numbers), got 7');
    expect(() => new ErrorBreakdown(0)).toThrow('gapBucket must be a positive integer, got 0');
  });
});
