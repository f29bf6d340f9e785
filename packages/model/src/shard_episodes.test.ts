import { describe, expect, it } from 'vitest';
import { sliceEpisodes, splitEpisodes, type EpisodeShard } from './shard_episodes';

describe('splitEpisodes', () => {
  it('gives ranges whose sizes differ by at most one, larger first', () => {
    expect(splitEpisodes(5, 2)).toEqual([[0, 3], [3, 5]]);
    expect(splitEpisodes(16, 2)).toEqual([[0, 8], [8, 16]]);
    expect(splitEpisodes(7, 3)).toEqual([[0, 3], [3, 5], [5, 7]]);
  });

  it('never gives an empty range: fewer ranges than parts when episodes are fewer', () => {
    expect(splitEpisodes(2, 3)).toEqual([[0, 1], [1, 2]]);
  });

  it('refuses sizes that are not positive integers', () => {
    expect(() => splitEpisodes(0, 2)).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => splitEpisodes(4, 1.5)).toThrow(/parts must be a positive integer, got 1.5/);
  });
});

describe('sliceEpisodes', () => {
  // T = 2 steps, B = 3 episodes, D = 2 numbers per sample, G = 1 group of C = 2 choices. inputs[t, b, d] = 6t + 2b + d.
  const batch: EpisodeShard = {
    steps: 2,
    batchSize: 3,
    ways: 2,
    sampleSize: 2,
    groups: 1,
    choices: 2,
    inputs: Float32Array.from({ length: 12 }, (_, i) => i),
    previousLabels: Float32Array.from({ length: 12 }, (_, i) => 100 + i),
    targets: Int32Array.from([0, 1, 0, 1, 1, 0]),
  };

  it('copies each step’s rows of the chosen episodes', () => {
    const shard = sliceEpisodes(batch, 1, 3);
    expect(shard.batchSize).toBe(2);
    expect(shard.steps).toBe(2);
    // Episodes 1 and 2: step 0 numbers 2..5, step 1 numbers 8..11.
    expect(Array.from(shard.inputs)).toEqual([2, 3, 4, 5, 8, 9, 10, 11]);
    expect(Array.from(shard.previousLabels)).toEqual([102, 103, 104, 105, 108, 109, 110, 111]);
    // targets [t, b]: step 0 [0, 1, 0] -> [1, 0]; step 1 [1, 1, 0] -> [1, 0].
    expect(Array.from(shard.targets)).toEqual([1, 0, 1, 0]);
    expect(shard.inputs).not.toBe(batch.inputs);
  });

  it('refuses an empty or outside range and arrays of the wrong size', () => {
    expect(() => sliceEpisodes(batch, 2, 2)).toThrow(/\[2, 2\) are not a non-empty range inside the batch of 3/);
    expect(() => sliceEpisodes(batch, 1, 4)).toThrow(/not a non-empty range/);
    expect(() => sliceEpisodes({ ...batch, inputs: new Float32Array(11) }, 0, 1)).toThrow(/batch.inputs has 11 numbers, expected 12/);
  });
});
