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

  it('refuses labels below 0, at N and fractional in every method, leaving the output alone', () => {
    const labels = oneHotLabels(3);
    // Two 3-vectors side by side: encode(-1) at offset 3 would set out[2], the last entry of the previous vector.
    const out = Float32Array.from([7, 7, 7, 8, 8, 8]);
    expect(() => labels.encode(-1, out, 3)).toThrow('oneHotLabels(3).encode: label must be an integer in [0, 3), got -1');
    expect(() => labels.encode(3, out, 0)).toThrow('oneHotLabels(3).encode: label must be an integer in [0, 3), got 3');
    expect(() => labels.encode(0.5, out, 0)).toThrow('oneHotLabels(3).encode: label must be an integer in [0, 3), got 0.5');
    expect([...out]).toEqual([7, 7, 7, 8, 8, 8]);
    const targets = Int32Array.from([9, 9]);
    for (const label of [-1, 3]) {
      expect(() => labels.targets(label, targets, 1)).toThrow(
        `oneHotLabels(3).targets: label must be an integer in [0, 3), got ${label}`,
      );
    }
    expect([...targets]).toEqual([9, 9]);
    expect(() => labels.decode([3])).toThrow('oneHotLabels(3).decode: label must be an integer in [0, 3), got 3');
    expect(() => labels.decode([-1])).toThrow('oneHotLabels(3).decode: label must be an integer in [0, 3), got -1');
    expect(() => labels.decode([1.5])).toThrow('oneHotLabels(3).decode: label must be an integer in [0, 3), got 1.5');
    expect(() => labels.decode([0, 1])).toThrow('oneHotLabels(3).decode: expected 1 choice index, got 2');
    expect(() => labels.decode([])).toThrow('oneHotLabels(3).decode: expected 1 choice index, got 0');
    expect(() => labels.describe(3)).toThrow('oneHotLabels(3).describe: label must be an integer in [0, 3), got 3');
    expect(() => labels.describe(-1)).toThrow('oneHotLabels(3).describe: label must be an integer in [0, 3), got -1');
    // The edges that are labels: 0 and N - 1.
    labels.encode(0, out, 0);
    labels.encode(2, out, 3);
    expect([...out]).toEqual([1, 0, 0, 0, 0, 1]);
    expect([labels.decode([0]), labels.decode([2]), labels.describe(0)]).toEqual([0, 2, 'a']);
  });

  it("describes labels past 'z' by number", () => {
    const labels = oneHotLabels(28);
    expect([24, 25, 26, 27].map((label) => labels.describe(label))).toEqual(['y', 'z', '<26>', '<27>']);
  });

  it('assigns fewer labels than N for a smaller episode, and refuses bad N', () => {
    // A 3-way episode under 5 labels: 3 distinct labels of 0..4 (the first 3 draws of a shuffle of 0..4).
    const picked = oneHotLabels(5).assign(3, createRandom(0));
    expect(picked.length).toBe(3);
    expect(new Set(picked).size).toBe(3);
    expect([...picked].every((label) => label >= 0 && label < 5)).toBe(true);
    expect([...oneHotLabels(1).assign(1, createRandom(0))]).toEqual([0]);
    expect(() => oneHotLabels(0)).toThrow('oneHotLabels: ways must be a positive integer, got 0');
    expect(() => oneHotLabels(2.5)).toThrow('oneHotLabels: ways must be a positive integer, got 2.5');
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

  it('refuses labels outside [0, alphabet^length) instead of wrapping them', () => {
    const labels = stringLabels({ length: 2, alphabet: 3 }); // 9 labels, 'aa' = 0 .. 'cc' = 8
    const name = 'stringLabels({ length: 2, alphabet: 3 })';
    // Unchecked, 9 would wrap to 'aa' (its two low base-3 digits are 0 0) and -1 would write digit -1.
    const out = Float32Array.from([5, 5, 5, 5, 5, 5, 5]);
    expect(() => labels.encode(9, out, 1)).toThrow(`${name}.encode: label must be an integer in [0, 9), got 9`);
    expect(() => labels.encode(-1, out, 1)).toThrow(`${name}.encode: label must be an integer in [0, 9), got -1`);
    expect(() => labels.encode(2.5, out, 1)).toThrow(`${name}.encode: label must be an integer in [0, 9), got 2.5`);
    expect([...out]).toEqual([5, 5, 5, 5, 5, 5, 5]);
    const targets = Int32Array.from([7, 7, 7]);
    expect(() => labels.targets(9, targets, 1)).toThrow(`${name}.targets: label must be an integer in [0, 9), got 9`);
    expect(() => labels.targets(-1, targets, 1)).toThrow(`${name}.targets: label must be an integer in [0, 9), got -1`);
    expect([...targets]).toEqual([7, 7, 7]);
    expect(() => labels.describe(9)).toThrow(`${name}.describe: label must be an integer in [0, 9), got 9`);
    expect(() => labels.describe(-1)).toThrow(`${name}.describe: label must be an integer in [0, 9), got -1`);
    // The edges that are labels: 0 = 'aa' and 8 = 'cc', at an offset.
    labels.encode(8, out, 1);
    expect([...out]).toEqual([5, 0, 0, 1, 0, 0, 1]);
    labels.targets(8, targets, 1);
    expect([...targets]).toEqual([7, 2, 2]);
    labels.encode(0, out, 0);
    expect([...out]).toEqual([1, 0, 0, 1, 0, 0, 1]);
    expect([labels.describe(0), labels.describe(8), labels.describe(5)]).toEqual(['aa', 'cc', 'bc']);
  });

  it('refuses choice indices outside [0, alphabet) when decoding', () => {
    const labels = stringLabels();
    const name = 'stringLabels({ length: 5, alphabet: 5 })';
    // Unchecked, 'f' + 'aaaa' would read as 5 * 625 = 3125, one past the last label.
    expect(() => labels.decode([5, 0, 0, 0, 0])).toThrow(`${name}.decode: choice 0 must be an integer in [0, 5), got 5`);
    expect(() => labels.decode([0, 0, 0, 0, -1])).toThrow(`${name}.decode: choice 4 must be an integer in [0, 5), got -1`);
    expect(() => labels.decode([0, 1.5, 0, 0, 0])).toThrow(`${name}.decode: choice 1 must be an integer in [0, 5), got 1.5`);
    expect(labels.decode([4, 4, 4, 4, 4])).toBe(3124);
    expect(labels.decode([0, 0, 0, 0, 0])).toBe(0);
  });

  it('explains bad options, too many labels and bad ways', () => {
    expect(() => stringLabels({ length: 0 })).toThrow('stringLabels: length must be a positive integer, got 0');
    expect(() => stringLabels({ length: 1.5 })).toThrow('stringLabels: length must be a positive integer, got 1.5');
    expect(() => stringLabels({ alphabet: 2.5 })).toThrow('stringLabels: alphabet must be an integer >= 2, got 2.5');
    // Ids go up to count - 1: 2^31 labels fit an Int32Array (ids up to 2^31 - 1), 3^20 = 3486784401 do not.
    expect(() => stringLabels({ length: 20, alphabet: 3 })).toThrow(
      'stringLabels: 3^20 = 3486784401 labels do not fit the Int32Array label ids; use shorter strings',
    );
    expect(() => stringLabels({ length: 32, alphabet: 2 })).toThrow('stringLabels: 2^32 = 4294967296 labels do not fit');
    const widest = stringLabels({ length: 31, alphabet: 2 });
    expect(widest.describe(2 ** 31 - 1)).toBe('b'.repeat(31));
    const choices = new Int32Array(31);
    widest.targets(2 ** 31 - 1, choices, 0);
    expect(widest.decode(choices)).toBe(2 ** 31 - 1);
    const ids = widest.assign(3, createRandom(0));
    expect([...ids].every((id) => id >= 0 && id < 2 ** 31)).toBe(true);
    const bits = stringLabels({ length: 1, alphabet: 2 });
    expect([bits.describe(1), bits.size]).toEqual(['b', 2]);
    expect(() => stringLabels().assign(0, createRandom(0))).toThrow(
      'stringLabels({ length: 5, alphabet: 5 }).assign: ways must be a positive integer, got 0',
    );
    expect(() => stringLabels().assign(1.5, createRandom(0))).toThrow(
      'stringLabels({ length: 5, alphabet: 5 }).assign: ways must be a positive integer, got 1.5',
    );
    expect([...stringLabels({ length: 1, alphabet: 2 }).assign(2, createRandom(0))].sort()).toEqual([0, 1]);
    expect(stringLabels().assign(1, createRandom(0)).length).toBe(1);
  });
});
