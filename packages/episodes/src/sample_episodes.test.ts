import { describe, expect, it } from 'vitest';
import type { LabelEncoding } from './label_encoding';
import { oneHotLabels } from './one_hot_labels';
import { createRandom } from './random';
import { sampleEpisodes } from './sample_episodes';
import { stringLabels } from './string_labels';
import type { ClassDataset } from './types';

/**
 * A dataset whose samples say where they come from: sample s of class c reads as [c, s, u], with u a draw
 * of the `random` passed to `read` (standing in for seeded augmentation).
 */
function taggedDataset(classes: number, samplesPerClass: number | ((c: number) => number)): ClassDataset {
  const samples = typeof samplesPerClass === 'number' ? () => samplesPerClass : samplesPerClass;
  return {
    numClasses: classes,
    sampleShape: [3],
    samplesIn: (c) => samples(c),
    read(c, s, out, offset, random) {
      out[offset] = c;
      out[offset + 1] = s;
      out[offset + 2] = random();
    },
  };
}

function sample(seed: number, labels: LabelEncoding = oneHotLabels(5), extra: { classes?: number[] } = {}) {
  return sampleEpisodes(taggedDataset(30, 12), {
    ways: 5,
    shots: 10,
    batchSize: 4,
    labels,
    random: createRandom(seed),
    ...extra,
  });
}

describe('sampleEpisodes', () => {
  it('lays out [T, B, ...] arrays of the right sizes', () => {
    const batch = sample(0);
    expect([batch.steps, batch.batchSize, batch.ways, batch.sampleSize, batch.groups, batch.choices]).toEqual([
      50, 4, 5, 3, 1, 5,
    ]);
    expect(batch.inputs.length).toBe(50 * 4 * 3);
    expect(batch.previousLabels.length).toBe(50 * 4 * 5);
    expect(batch.targets.length).toBe(50 * 4);
    expect(batch.labels.length).toBe(50 * 4);
    expect(batch.instances.length).toBe(50 * 4);
    expect(batch.classes.length).toBe(4 * 5);
  });

  it('shows each of N distinct classes exactly K times, with K distinct samples each', () => {
    const batch = sample(1);
    for (let b = 0; b < 4; b++) {
      const samplesByClass = new Map<number, number[]>();
      for (let t = 0; t < 50; t++) {
        const cell = (t * 4 + b) * 3;
        const list = samplesByClass.get(batch.inputs[cell]) ?? [];
        list.push(batch.inputs[cell + 1]);
        samplesByClass.set(batch.inputs[cell], list);
      }
      expect(samplesByClass.size).toBe(5);
      for (const list of samplesByClass.values()) {
        expect(list.length).toBe(10);
        expect(new Set(list).size).toBe(10);
      }
      // batch.classes lists exactly the episode's classes.
      const episodeClasses = [...batch.classes.subarray(b * 5, b * 5 + 5)].sort((x, y) => x - y);
      expect(episodeClasses).toEqual([...samplesByClass.keys()].sort((x, y) => x - y));
    }
  });

  it('gives the N classes of an episode a permutation of 0..N-1, one label per class', () => {
    const batch = sample(2);
    for (let b = 0; b < 4; b++) {
      const labelOfClass = new Map<number, number>();
      for (let t = 0; t < 50; t++) {
        const classIndex = batch.inputs[(t * 4 + b) * 3];
        const label = batch.labels[t * 4 + b];
        expect(labelOfClass.get(classIndex) ?? label).toBe(label);
        labelOfClass.set(classIndex, label);
        expect(batch.targets[t * 4 + b]).toBe(label);
      }
      expect([...labelOfClass.values()].sort()).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('shuffles the steps (not grouped by class)', () => {
    const batch = sample(3);
    // Grouped steps would change class only 4 times in 50; a shuffle changes it about 40 times.
    let changes = 0;
    for (let t = 1; t < 50; t++) if (batch.inputs[t * 4 * 3] !== batch.inputs[(t - 1) * 4 * 3]) changes++;
    expect(changes).toBeGreaterThan(20);
  });

  it('feeds y_{t-1}: previousLabels[t] = encode(labels[t-1]), zeros at t = 0', () => {
    for (const labels of [oneHotLabels(5), stringLabels()]) {
      const batch = sample(4, labels);
      const expected = new Float32Array(labels.size);
      for (let b = 0; b < 4; b++) {
        for (let t = 0; t < 50; t++) {
          const start = (t * 4 + b) * labels.size;
          const actual = batch.previousLabels.subarray(start, start + labels.size);
          if (t === 0) expected.fill(0);
          else labels.encode(batch.labels[(t - 1) * 4 + b], expected, 0);
          expect([...actual]).toEqual([...expected]);
        }
      }
    }
  });

  it('counts instances: the k-th appearance of a class in its episode has instance k', () => {
    const batch = sample(5);
    for (let b = 0; b < 4; b++) {
      const counts = new Map<number, number>();
      for (let t = 0; t < 50; t++) {
        const classIndex = batch.inputs[(t * 4 + b) * 3];
        counts.set(classIndex, (counts.get(classIndex) ?? 0) + 1);
        expect(batch.instances[t * 4 + b]).toBe(counts.get(classIndex));
      }
    }
  });

  it('counts instances on a hand-checked tiny episode (2 ways x 2 shots)', () => {
    const batch = sampleEpisodes(taggedDataset(2, 2), {
      ways: 2, shots: 2, batchSize: 1, labels: oneHotLabels(2), random: createRandom(0),
    });
    // Whatever the order, a class's first showing has instance 1 and its second instance 2, so the
    // sequence has two 1s and two 2s and starts with 1.
    expect([...batch.instances].sort()).toEqual([1, 1, 2, 2]);
    expect(batch.instances[0]).toBe(1);
  });

  it('is reproducible: same seed same batch (augmentation included), another seed another batch', () => {
    const a = sample(6, stringLabels());
    const b = sample(6, stringLabels());
    const c = sample(7, stringLabels());
    expect(b).toEqual(a);
    expect(c.inputs).not.toEqual(a.inputs);
    expect(c.labels).not.toEqual(a.labels);
  });

  it('gives string labels distinct within each episode, with G = 5 targets per step', () => {
    const labels = stringLabels();
    const batch = sample(8, labels);
    expect([batch.groups, batch.choices]).toEqual([5, 5]);
    const choices = new Int32Array(5);
    for (let b = 0; b < 4; b++) {
      const distinct = new Set<number>();
      for (let t = 0; t < 50; t++) {
        const cell = t * 4 + b;
        distinct.add(batch.labels[cell]);
        labels.targets(batch.labels[cell], choices, 0);
        expect([...batch.targets.subarray(cell * 5, cell * 5 + 5)]).toEqual([...choices]);
      }
      expect(distinct.size).toBe(5);
    }
  });

  it('draws only from the given classes', () => {
    const allowed = [3, 7, 11, 19, 23, 29];
    const batch = sample(9, oneHotLabels(5), { classes: allowed });
    expect([...batch.classes].every((c) => allowed.includes(c))).toBe(true);
  });

  it('pins the episodes of seed 0: classes, sample order, labels, instances and augmentation draws', () => {
    const batch = sampleEpisodes(taggedDataset(6, 4), {
      ways: 3, shots: 2, batchSize: 2, labels: oneHotLabels(3), random: createRandom(0),
    });
    // Episode 0 by hand from createRandom(0)'s first draws, 0.741 0.509 0.154 0.429 0.421 0.594 0.493 0.835 0.533
    // 0.134 0.666 0.902 0.256 0.703 0.285 0.368 0.851 0.714 0.897 0.180 0.101 0.462 0.662 (int(n) = floor(draw * n)):
    //   classes: pickDistinct(6, 3) -> 4, then 1 + 2 = 3, then 2 + 0 = 2            -> slots [4, 3, 2]
    //   samples: class 4 -> 1, 2; class 3 -> 2, 0; class 2 -> 3, 2 (pickDistinct(4, 2) each)
    //   shuffle of the 6 steps (i = 5..1: j = 0, 3, 3, 0, 1): 3/2 4/2 2/2 2/3 3/0 4/1 (class/sample)
    //   labels: pickDistinct(3, 3) -> 0, 1, 2 for slots 4, 3, 2 (the last draw is int(1))
    //   augmentation: one draw per step in step order, 0.714 0.897 0.180 0.101 0.462 0.662
    // Episode 1 continues the same stream.
    const column = (values: ArrayLike<number>, b: number, width = 1) =>
      Array.from({ length: 6 }, (_, t) => Array.from({ length: width }, (_, i) => values[(t * 2 + b) * width + i]));
    const readsOf = (b: number) => column(batch.inputs, b, 3).map(([c, s, u]) => [c, s, Math.floor(u * 1000)]);
    expect([...batch.classes]).toEqual([4, 3, 2, 1, 4, 0]);
    expect(readsOf(0)).toEqual([[3, 2, 713], [4, 2, 896], [2, 2, 179], [2, 3, 101], [3, 0, 461], [4, 1, 662]]);
    expect(readsOf(1)).toEqual([[1, 0, 270], [0, 3, 21], [4, 2, 972], [1, 1, 606], [4, 1, 668], [0, 0, 559]]);
    expect(column(batch.labels, 0).flat()).toEqual([1, 0, 2, 2, 1, 0]);
    expect(column(batch.labels, 1).flat()).toEqual([1, 0, 2, 1, 2, 0]);
    expect([...batch.instances]).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    expect([...batch.targets]).toEqual([...batch.labels]);
  });

  it('refuses class indices in `classes` that are out of range, negative or fractional', () => {
    const random = createRandom(0);
    const labels = oneHotLabels(2);
    const options = { ways: 2, shots: 1, batchSize: 1, labels, random };
    for (const bad of [30, 31, -1, 1.5, Number.NaN]) {
      expect(() => sampleEpisodes(taggedDataset(30, 2), { ...options, classes: [0, bad, 2] })).toThrow(
        `sampleEpisodes: classes must be indices in [0, 30) of the dataset, got ${bad}`,
      );
    }
    // The ends of the range are classes.
    const batch = sampleEpisodes(taggedDataset(30, 2), { ...options, classes: [29, 0] });
    expect([...batch.classes].sort((x, y) => x - y)).toEqual([0, 29]);
  });

  it('never asks the encoding to write y_{t-1} past the end of previousLabels', () => {
    // An encoding that refuses writes outside `out`: the last step's label has no next step to be fed to.
    const oneHot = oneHotLabels(5);
    const strict: LabelEncoding = {
      ...oneHot,
      encode(label, out, offset) {
        if (offset < 0 || offset + oneHot.size > out.length) throw new Error(`encode past the end: offset ${offset}`);
        oneHot.encode(label, out, offset);
      },
    };
    const batch = sample(10, strict);
    expect(batch.previousLabels.length).toBe(50 * 4 * 5);
    // The last row of y_{t-1} is the one-hot of step 48's label.
    expect([...batch.previousLabels.subarray(49 * 4 * 5, 49 * 4 * 5 + 5)].indexOf(1)).toBe(batch.labels[48 * 4]);
  });

  it('explains impossible configurations', () => {
    const random = createRandom(0);
    const labels = oneHotLabels(5);
    expect(() => sampleEpisodes(taggedDataset(4, 10), { ways: 5, shots: 1, batchSize: 1, labels, random })).toThrow(
      'sampleEpisodes: cannot pick 5 distinct classes (ways) from a dataset of 4 classes',
    );
    expect(() =>
      sampleEpisodes(taggedDataset(10, 10), { ways: 5, shots: 1, batchSize: 1, labels, random, classes: [1, 2, 3] }),
    ).toThrow('sampleEpisodes: cannot pick 5 distinct classes (ways) from the 3 classes given');
    expect(() =>
      sampleEpisodes(taggedDataset(10, (c) => (c === 6 ? 3 : 10)), { ways: 5, shots: 4, batchSize: 1, labels, random }),
    ).toThrow(
      "sampleEpisodes: class 6 has 3 samples, fewer than shots = 4; lower shots or restrict 'classes' to classes " +
        'with at least 4 samples',
    );
    expect(() =>
      sampleEpisodes(taggedDataset(10, 10), { ways: 5, shots: 1, batchSize: 1, labels, random, classes: [1, 1, 2, 3, 4] }),
    ).toThrow('sampleEpisodes: classes lists class 1 twice');
    expect(() =>
      sampleEpisodes(taggedDataset(10, 10), { ways: 5, shots: 0, batchSize: 1, labels, random }),
    ).toThrow('sampleEpisodes: shots must be a positive integer, got 0');
    expect(() =>
      sampleEpisodes(taggedDataset(10, 10), { ways: 5, shots: 1, batchSize: 1, labels: oneHotLabels(3), random }),
    ).toThrow('an episode of 5 ways needs 5 labels, but the encoding has only 3');
  });

  it('refuses more classes per episode than there are strings', () => {
    const labels = stringLabels({ length: 2, alphabet: 2 });
    expect(() =>
      sampleEpisodes(taggedDataset(10, 2), { ways: 5, shots: 1, batchSize: 1, labels, random: createRandom(0) }),
    ).toThrow('cannot give 5 classes distinct labels: only 4 strings of 2 characters over 2 letters exist');
  });
});
