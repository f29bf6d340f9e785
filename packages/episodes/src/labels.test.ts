import { describe, expect, it } from 'vitest';
import { oneHotLabels } from './one_hot_labels';
import { createRandom } from './random';
import { stringLabels } from './string_labels';

describe('oneHotLabels', () => {
  it('has one group of N choices', () => {
    const labels = oneHotLabels(5);
    expect([labels.name, labels.groups, labels.choices, labels.size]).toEqual(['one-hot', 1, 5, 5]);
  });

  it('assigns a fresh permutation of 0..N-1 each episode', () => {
    const labels = oneHotLabels(5);
    const random = createRandom(2);
    const first = labels.assign(5, random);
    const second = labels.assign(5, random);
    expect([...first].sort()).toEqual([0, 1, 2, 3, 4]);
    expect([...second].sort()).toEqual([0, 1, 2, 3, 4]);
    // Over 20 episodes the permutations are not all the same (1 in 120^19 if they were random).
    const orders = new Set(Array.from({ length: 20 }, () => labels.assign(5, random).join()));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('encodes, targets, decodes and describes a label', () => {
    const labels = oneHotLabels(4);
    const out = new Float32Array(6).fill(9);
    labels.encode(2, out, 1);
    expect([...out]).toEqual([9, 0, 0, 1, 0, 9]);
    const targets = new Int32Array(2);
    labels.targets(3, targets, 1);
    expect([...targets]).toEqual([0, 3]);
    expect(labels.decode([3])).toBe(3);
    expect(labels.describe(2)).toBe('c');
  });

  it('refuses episodes with more ways than labels, and labels out of range', () => {
    expect(() => oneHotLabels(5).assign(6, createRandom(0))).toThrow(
      'oneHotLabels(5).assign: an episode of 6 ways needs 6 labels, but the encoding has only 5',
    );
    expect(() => oneHotLabels(5).encode(5, new Float32Array(5), 0)).toThrow('label must be an integer in [0, 5), got 5');
  });
});

describe('stringLabels', () => {
  it('defaults to 5 characters over 5 letters: 25 inputs, 5 groups of 5', () => {
    const labels = stringLabels();
    expect([labels.name, labels.groups, labels.choices, labels.size]).toEqual(['string', 5, 5, 25]);
  });

  it("round-trips 'adbbe' through its id, one-hots and choice indices", () => {
    const labels = stringLabels();
    // a d b b e = digits 0 3 1 1 4: id = 0*625 + 3*125 + 1*25 + 1*5 + 4 = 409.
    const id = labels.decode([0, 3, 1, 1, 4]);
    expect(id).toBe(409);
    expect(labels.describe(409)).toBe('adbbe');
    const targets = new Int32Array(5);
    labels.targets(409, targets, 0);
    expect([...targets]).toEqual([0, 3, 1, 1, 4]);
    // The one-hot of group g sits at g*5 + digit: 0, 5+3 = 8, 10+1 = 11, 15+1 = 16, 20+4 = 24.
    const encoded = new Float32Array(25);
    labels.encode(409, encoded, 0);
    expect([...encoded.keys()].filter((i) => encoded[i] === 1)).toEqual([0, 8, 11, 16, 24]);
    expect(encoded.reduce((a, b) => a + b, 0)).toBe(5);
    expect(labels.describe(0)).toBe('aaaaa');
    expect(labels.describe(3124)).toBe('eeeee');
  });

  it('round-trips every id of a small encoding', () => {
    const labels = stringLabels({ length: 3, alphabet: 4 });
    const targets = new Int32Array(3);
    for (let id = 0; id < 64; id++) {
      labels.targets(id, targets, 0);
      expect(labels.decode(targets)).toBe(id);
    }
  });

  it('assigns distinct strings within an episode, all 3125 when asked', () => {
    const labels = stringLabels();
    const random = createRandom(4);
    expect(new Set(labels.assign(15, random)).size).toBe(15);
    const all = labels.assign(3125, random);
    expect(new Set(all).size).toBe(3125);
    expect(Math.min(...all)).toBe(0);
    expect(Math.max(...all)).toBe(3124);
  });

  it('refuses more classes than strings, and bad options', () => {
    expect(() => stringLabels().assign(3126, createRandom(0))).toThrow(
      'cannot give 3126 classes distinct labels: only 3125 strings of 5 characters over 5 letters exist',
    );
    expect(() => stringLabels({ alphabet: 1 })).toThrow('stringLabels: alphabet must be an integer >= 2, got 1');
    expect(() => stringLabels().decode([0, 1])).toThrow('expected 5 choice indices, got 2');
  });
});
