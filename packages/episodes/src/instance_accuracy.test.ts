import { describe, expect, it } from 'vitest';
import { formatAccuracyTable, ordinal } from './format_accuracy_table';
import { InstanceAccuracy, type InstanceAccuracyJSON } from './instance_accuracy';
import { oneHotLabels } from './one_hot_labels';
import { createRandom } from './random';
import { sampleEpisodes } from './sample_episodes';
import { syntheticPatterns } from './synthetic_patterns';
import { answersFor, batchOf, tinyBatch } from './test_helpers';
import type { EpisodeBatch } from './types';

// Which cells are predicted right:
//   episode 0 (cells 0, 2, 4, 6; instances 1, 2, 1, 2): right, right, wrong, right
//     -> instance 1: 1 of 2 = 0.5; instance 2: 2 of 2 = 1.0
//   episode 1 (cells 1, 3, 5, 7; instances 1, 1, 2, 2): wrong, wrong, right, wrong
//     -> instance 1: 0 of 2 = 0.0; instance 2: 1 of 2 = 0.5
const rightCells = [0, 2, 6, 5];
function predictionsFor(batch: EpisodeBatch): Int32Array {
  const predictions = Int32Array.from(batch.targets);
  for (let cell = 0; cell < 8; cell++) {
    if (!rightCells.includes(cell)) predictions[cell * batch.groups] = 1 - batch.targets[cell * batch.groups];
  }
  return predictions;
}

describe('InstanceAccuracy', () => {
  it('matches a hand-computed case, interval included', () => {
    const batch = tinyBatch();
    const accuracy = new InstanceAccuracy().add(batch, predictionsFor(batch));
    expect(accuracy.episodes).toBe(2);
    const [first, second, third] = accuracy.summary([1, 2, 3]);
    // Instance 1: episode scores 0.5 and 0 -> mean 0.25; sample variance ((0.25)^2 + (0.25)^2) / 1 = 0.125,
    // sd = 0.35355; interval = 1.96 * 0.35355 / sqrt(2) = 1.96 * 0.25 = 0.49.
    expect(first.instance).toBe(1);
    expect(first.accuracy).toBeCloseTo(0.25, 12);
    expect(first.interval).toBeCloseTo(0.49, 12);
    expect(first.episodes).toBe(2);
    // Instance 2: scores 1.0 and 0.5 -> mean 0.75, same spread -> interval 0.49.
    expect(second.accuracy).toBeCloseTo(0.75, 12);
    expect(second.interval).toBeCloseTo(0.49, 12);
    // Instance 3 is beyond shots = 2: kept, NaN, no episodes.
    expect(third).toEqual({ instance: 3, accuracy: NaN, interval: NaN, episodes: 0 });
    // Overall: 4 of 8 steps right.
    expect(accuracy.overall()).toBe(0.5);
  });

  it('counts a string-label step right only if every group is', () => {
    const batch = tinyBatch(5);
    const predictions = Int32Array.from(batch.targets);
    // Cell 0 (episode 0, instance 1): one character of five wrong -> the step is wrong.
    predictions[0 * 5 + 3] = 1 - predictions[0 * 5 + 3];
    const accuracy = new InstanceAccuracy().add(batch, predictions);
    // Episode 0 instance 1: cells 0 (wrong) and 4 (right) -> 0.5; episode 1 instance 1: 1.0 -> mean 0.75.
    expect(accuracy.summary([1])[0].accuracy).toBeCloseTo(0.75, 12);
    expect(accuracy.overall()).toBe(7 / 8);
  });

  it('reports NaN interval for a single episode and NaN everything when empty', () => {
    const empty = new InstanceAccuracy();
    expect(empty.overall()).toBeNaN();
    expect(empty.summary([1])[0].episodes).toBe(0);
    const batch = tinyBatch();
    const single: EpisodeBatch = {
      ...batch, batchSize: 1, ways: 2,
      targets: Int32Array.from([0, 0, 1, 1]), labels: Int32Array.from([0, 0, 1, 1]),
      instances: Int32Array.from([1, 2, 1, 2]), previousLabels: new Float32Array(8), inputs: new Float32Array(4),
    };
    const [first] = new InstanceAccuracy().add(single, Int32Array.from([0, 0, 0, 1])).summary([1]);
    // Instance 1 is cells 0 (right) and 2 (wrong): 0.5, from one episode, so no interval.
    expect(first.accuracy).toBe(0.5);
    expect(first.interval).toBeNaN();
  });

  it('merging equals adding everything to one accumulator, and survives JSON', () => {
    const dataset = syntheticPatterns({ classes: 12, samplesPerClass: 11, sampleShape: [4, 4] });
    const random = createRandom(21);
    const guesses = createRandom(22);
    const options = { ways: 3, shots: 11, batchSize: 5, labels: oneHotLabels(3), random };
    const all = new InstanceAccuracy();
    const parts = [new InstanceAccuracy(), new InstanceAccuracy()];
    for (let i = 0; i < 4; i++) {
      const batch = sampleEpisodes(dataset, options);
      const predictions = Int32Array.from(batch.targets, (target) => (guesses.next() < 0.6 ? target : 3 - 1 - target));
      all.add(batch, predictions);
      parts[i % 2].add(batch, predictions);
    }
    const merged = parts[0].merge(parts[1]);
    expect(merged.episodes).toBe(20);
    expect(merged.overall()).toBe(all.overall());
    const expected = all.summary([1, 2, 5, 10, 11, 12]);
    merged.summary([1, 2, 5, 10, 11, 12]).forEach((entry, i) => {
      expect(entry.episodes).toBe(expected[i].episodes);
      if (entry.episodes === 0) expect(entry.accuracy).toBeNaN();
      else {
        expect(entry.accuracy).toBeCloseTo(expected[i].accuracy, 12);
        expect(entry.interval).toBeCloseTo(expected[i].interval, 12);
      }
    });
    const restored = InstanceAccuracy.fromJSON(JSON.parse(JSON.stringify(merged)));
    expect(restored.toJSON()).toEqual(merged.toJSON());
    expect(restored.summary()).toEqual(merged.summary());
    expect(() => InstanceAccuracy.fromJSON({} as never)).toThrow('InstanceAccuracy.fromJSON: expected the object');
  });

  it('matches a hand-computed case of 3 episodes (the variance divides by episodes - 1 = 2)', () => {
    // Three episodes of 2 ways x 2 shots, each showing labels 0 1 0 1 (instances 1 1 2 2).
    const batch = batchOf([[0, 1, 0, 1], [0, 1, 0, 1], [0, 1, 0, 1]]);
    const accuracy = new InstanceAccuracy().add(batch, answersFor(batch, [[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 1]]));
    expect(accuracy.episodes).toBe(3);
    const [first, second] = accuracy.summary([1, 2]);
    // Instance 1: scores 1, 0.5, 0.5 -> mean 2/3; squared deviations (1/3)^2 + (1/6)^2 + (1/6)^2 = 1/6,
    // sample variance 1/6 / 2 = 1/12; interval 1.96 * sqrt(1/12 / 3) = 1.96 * sqrt(1/36) = 1.96 / 6.
    // (Multiplying by episodes - 1 instead would give variance 1/3 and interval 1.96 / 3.)
    expect(first).toEqual({
      instance: 1, accuracy: expect.closeTo(2 / 3, 12), interval: expect.closeTo(1.96 / 6, 12), episodes: 3,
    });
    // Instance 2: scores 0, 0.5, 1 -> mean 0.5; squared deviations 0.25 + 0 + 0.25 = 0.5, variance 0.25;
    // interval 1.96 * sqrt(0.25 / 3) = 0.98 / sqrt(3) = 0.565803...
    expect(second).toEqual({ instance: 2, accuracy: 0.5, interval: expect.closeTo(0.98 / Math.sqrt(3), 12), episodes: 3 });
    // Overall: 2 + 2 + 3 = 7 of 12 steps right.
    expect(accuracy.overall()).toBe(7 / 12);
  });

  it('gives interval 0, not NaN, when every episode scores the same and rounding would make the variance negative', () => {
    // Three episodes of 5 ways x 1 shot with 1 of 5 right: scores 0.2, 0.2, 0.2. In floating point
    // 3 * 0.04... - 3 * mean^2 comes out -1.4e-17, which the clamp turns into 0.
    const batch = batchOf([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]);
    const right = [1, 0, 0, 0, 0];
    const [first] = new InstanceAccuracy().add(batch, answersFor(batch, [right, right, right])).summary([1]);
    expect(first).toEqual({ instance: 1, accuracy: expect.closeTo(0.2, 15), interval: 0, episodes: 3 });
  });

  it('merging two different accumulators equals one that saw all their episodes, either way round', () => {
    // A: 2 episodes of 2 ways x 3 shots (instances up to 3); B: 2 episodes of 2 ways x 2 shots (up to 2).
    // Every score is a multiple of 1/2, so the sums are exact whatever the order of addition.
    const batchA = batchOf([[0, 1, 0, 1, 0, 1], [1, 1, 0, 0, 0, 1]]);
    const answersA = answersFor(batchA, [[1, 0, 1, 1, 0, 1], [0, 1, 1, 0, 1, 1]]);
    const batchB = batchOf([[0, 0, 1, 1], [1, 0, 0, 1]]);
    const answersB = answersFor(batchB, [[0, 1, 1, 1], [1, 0, 0, 0]]);
    const a = () => new InstanceAccuracy().add(batchA, answersA);
    const b = () => new InstanceAccuracy().add(batchB, answersB);
    const allAB = new InstanceAccuracy().add(batchA, answersA).add(batchB, answersB);
    const allBA = new InstanceAccuracy().add(batchB, answersB).add(batchA, answersA);
    // By hand, A: episode 0 instances 1 1 2 2 3 3 right 1 0 1 1 0 1 -> 0.5, 1, 0.5; episode 1 labels 1 1 0 0 0 1
    // (instances 1 2 1 2 3 3) right 0 1 1 0 1 1 -> 0.5, 0.5, 1. B: episode 0 (1 2 1 2) right 0 1 1 1 -> 0.5, 1;
    // episode 1 (1 1 2 2) right 1 0 0 0 -> 0.5, 0.
    expect(allAB.toJSON()).toEqual({
      episodes: 4,
      steps: 20,
      correct: 12,
      instances: { episodes: [4, 4, 2], sum: [2, 2.5, 1.5], sumOfSquares: [1, 2.25, 1.25] },
    });
    const mergedAB = a().merge(b());
    expect(mergedAB.toJSON()).toEqual(allAB.toJSON());
    expect(mergedAB.summary([1, 2, 3, 4])).toEqual(allAB.summary([1, 2, 3, 4]));
    // The receiver has fewer instances than the other: its missing entries count as 0.
    const mergedBA = b().merge(a());
    expect(mergedBA.toJSON()).toEqual(allBA.toJSON());
    expect(mergedBA.overall()).toBe(12 / 20);
    expect(mergedBA.episodes).toBe(4);
    // Merging into or from an empty accumulator changes nothing.
    expect(new InstanceAccuracy().merge(a()).toJSON()).toEqual(a().toJSON());
    expect(a().merge(new InstanceAccuracy()).toJSON()).toEqual(a().toJSON());
  });

  it('round-trips an empty accumulator through JSON', () => {
    const json = JSON.parse(JSON.stringify(new InstanceAccuracy()));
    expect(json).toEqual({ episodes: 0, steps: 0, correct: 0, instances: { episodes: [], sum: [], sumOfSquares: [] } });
    const restored = InstanceAccuracy.fromJSON(json);
    expect(restored.episodes).toBe(0);
    expect(restored.overall()).toBeNaN();
    expect(restored.toJSON()).toEqual(json);
  });

  it('fromJSON refuses negative or fractional counts, unequal lists and non-finite numbers, naming the field', () => {
    const valid = (): InstanceAccuracyJSON => ({
      episodes: 2, steps: 8, correct: 4, instances: { episodes: [2, 2], sum: [0.5, 1.5], sumOfSquares: [0.25, 1.25] },
    });
    expect(InstanceAccuracy.fromJSON(valid()).toJSON()).toEqual(valid());
    const refuse = (edit: (json: InstanceAccuracyJSON) => void, message: string) => {
      const json = valid();
      edit(json);
      expect(() => InstanceAccuracy.fromJSON(json)).toThrow(new Error(`InstanceAccuracy.fromJSON: ${message}`));
    };
    const expectedObject = new Error('InstanceAccuracy.fromJSON: expected the object written by InstanceAccuracy.toJSON()');
    expect(() => InstanceAccuracy.fromJSON(null as never)).toThrow(expectedObject);
    expect(() => InstanceAccuracy.fromJSON(undefined as never)).toThrow(expectedObject);
    expect(() => InstanceAccuracy.fromJSON('{}' as never)).toThrow(expectedObject);
    refuse((json) => delete (json as Partial<InstanceAccuracyJSON>).instances, expectedObject.message.slice(27));
    refuse((json) => (json.instances = null as never), expectedObject.message.slice(27));
    refuse((json) => (json.episodes = -1), 'episodes must be a non-negative integer, got -1');
    refuse((json) => (json.steps = 2.5), 'steps must be a non-negative integer, got 2.5');
    refuse((json) => (json.correct = undefined as never), 'correct must be a non-negative integer, got undefined');
    refuse((json) => (json.instances.episodes = {} as never), 'instances.episodes must be an array, got [object Object]');
    refuse(
      (json) => (json.instances.sumOfSquares = undefined as never),
      'instances.sumOfSquares must be an array, got undefined',
    );
    refuse((json) => json.instances.sum.pop(), 'instances.sum has 1 entries but instances.episodes has 2; they must match');
    refuse(
      (json) => json.instances.sumOfSquares.push(0),
      'instances.sumOfSquares has 3 entries but instances.episodes has 2; they must match',
    );
    refuse((json) => (json.instances.episodes[1] = -1), 'instances.episodes[1] must be a non-negative integer, got -1');
    refuse((json) => (json.instances.episodes[0] = 1.5), 'instances.episodes[0] must be a non-negative integer, got 1.5');
    refuse((json) => (json.instances.sum[1] = Number.NaN), 'instances.sum[1] must be a finite number, got NaN');
    refuse(
      (json) => (json.instances.sumOfSquares[0] = Infinity),
      'instances.sumOfSquares[0] must be a finite number, got Infinity',
    );
    // A NaN saved with JSON.stringify comes back as null.
    refuse(
      (json) => (json.instances.sum = JSON.parse(JSON.stringify([Number.NaN, 1]))),
      'instances.sum[0] must be a finite number, got null',
    );
  });

  it('checks the predictions shape', () => {
    expect(() => new InstanceAccuracy().add(tinyBatch(), new Int32Array(7))).toThrow(
      'InstanceAccuracy.add: predictions must be [T, B, G] = [4, 2, 1] (8 numbers), got 7',
    );
    expect(() => new InstanceAccuracy().add(tinyBatch(5), new Int32Array(8))).toThrow(
      'InstanceAccuracy.add: predictions must be [T, B, G] = [4, 2, 5] (40 numbers), got 8',
    );
  });

  it('summarises instances 1-5 and 10 by default, and refuses instances below 1 or fractional', () => {
    const batch = tinyBatch();
    const accuracy = new InstanceAccuracy().add(batch, predictionsFor(batch));
    expect(accuracy.summary().map(({ instance, episodes }) => [instance, episodes])).toEqual([
      [1, 2], [2, 2], [3, 0], [4, 0], [5, 0], [10, 0],
    ]);
    for (const instance of [0, -1, 1.5]) {
      expect(() => accuracy.summary([1, instance])).toThrow(
        `InstanceAccuracy.summary: instances must be positive integers, got ${instance}`,
      );
    }
  });

  it('reports NaN below 1 episode (accuracy) and below 2 (interval) whatever the sums loaded say', () => {
    // Sums that add() never writes (it gives one episode a sum of squares of exactly sum^2), so the formulas
    // alone would give 0.5 / 0 = Infinity and (0.5 - 0.25) / 0 = Infinity.
    const loaded = InstanceAccuracy.fromJSON({
      episodes: 1, steps: 2, correct: 1, instances: { episodes: [1, 0], sum: [0.5, 0.5], sumOfSquares: [0.5, 0.5] },
    });
    expect(loaded.summary([1, 2])).toEqual([
      { instance: 1, accuracy: 0.5, interval: NaN, episodes: 1 },
      { instance: 2, accuracy: NaN, interval: NaN, episodes: 0 },
    ]);
  });

  it('leaves out an instance an episode skipped (a hand-made batch whose instances go 1, 3)', () => {
    const batch: EpisodeBatch = { ...batchOf([[0, 1]]), instances: Int32Array.from([1, 3]) };
    const accuracy = new InstanceAccuracy().add(batch, Int32Array.from([0, 1]));
    expect(accuracy.toJSON().instances).toEqual({ episodes: [1, 0, 1], sum: [1, 0, 1], sumOfSquares: [1, 0, 1] });
    expect(accuracy.summary([2])).toEqual([{ instance: 2, accuracy: NaN, interval: NaN, episodes: 0 }]);
  });
});

describe('formatAccuracyTable', () => {
  it('prints instances over percent ± interval, with - for unreached instances', () => {
    const batch = tinyBatch();
    const summary = new InstanceAccuracy().add(batch, predictionsFor(batch)).summary([1, 2, 10]);
    expect(formatAccuracyTable(summary, { label: 'MANN' })).toBe(
      'instance  1st          2nd          10th\n' + 'MANN      25.0 ± 49.0  75.0 ± 49.0  -',
    );
  });

  it("defaults the label to 'accuracy %', leaves out the interval of a single episode and pads every column", () => {
    const summary = [
      { instance: 1, accuracy: 0.5, interval: Number.NaN, episodes: 1 },
      { instance: 2, accuracy: 1, interval: 0.123, episodes: 7 },
      { instance: 11, accuracy: Number.NaN, interval: Number.NaN, episodes: 0 },
      { instance: 3, accuracy: 0.0004, interval: 0, episodes: 7 },
    ];
    expect(formatAccuracyTable(summary)).toBe(
      'instance    1st   2nd           11th  3rd\n' + 'accuracy %  50.0  100.0 ± 12.3  -     0.0 ± 0.0',
    );
  });

  it('names ordinals', () => {
    expect([1, 2, 3, 4, 10, 11, 12, 13, 21, 22, 23, 100, 101, 111, 112, 113, 1011, 1021].map(ordinal)).toEqual([
      '1st', '2nd', '3rd', '4th', '10th', '11th', '12th', '13th', '21st', '22nd', '23rd',
      '100th', '101st', '111th', '112th', '113th', '1011th', '1021st',
    ]);
  });
});
