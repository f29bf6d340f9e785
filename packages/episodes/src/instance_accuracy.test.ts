import { describe, expect, it } from 'vitest';
import { formatAccuracyTable, ordinal } from './format_accuracy_table';
import { InstanceAccuracy } from './instance_accuracy';
import { oneHotLabels } from './one_hot_labels';
import { createRandom } from './random';
import { sampleEpisodes } from './sample_episodes';
import { syntheticPatterns } from './synthetic_patterns';
import { tinyBatch } from './test_helpers';
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

  it('checks the predictions shape', () => {
    expect(() => new InstanceAccuracy().add(tinyBatch(), new Int32Array(7))).toThrow(
      'InstanceAccuracy.add: predictions must be [T, B, G] = [4, 2, 1] (8 numbers), got 7',
    );
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

  it('names ordinals', () => {
    expect([1, 2, 3, 4, 10, 11, 12, 13, 21, 22, 23].map(ordinal)).toEqual([
      '1st', '2nd', '3rd', '4th', '10th', '11th', '12th', '13th', '21st', '22nd', '23rd',
    ]);
  });
});
