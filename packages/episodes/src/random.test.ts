import { describe, expect, it } from 'vitest';
import { createRandom, pickDistinct, restoreRandom } from './random';

describe('createRandom', () => {
  it('pins the first outputs of seed 0 (sfc32 seeded by splitmix32)', () => {
    // Cross-checked against an independent Python implementation of splitmix32 + sfc32 (integers masked to
    // 32 bits): state [1684164658, 3653269916, 2939563536, 2141751570], then uint32 outputs
    // 3184218849, 2185019716, 663190858, 1844421934, 1809772695. next() is output / 2^32.
    const random = createRandom(0);
    expect(random.state()).toEqual([1684164658, 3653269916, 2939563536, 2141751570]);
    const outputs = [3184218849, 2185019716, 663190858, 1844421934, 1809772695];
    for (const output of outputs) expect(random.next()).toBe(output / 2 ** 32);
  });

  it('gives the same stream for the same seed and a different one for another seed', () => {
    const draw = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 8 }, () => random.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('keeps next() in [0, 1) and int(n) in [0, n), hitting every value', () => {
    const random = createRandom(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = random.next();
      expect(x >= 0 && x < 1).toBe(true);
      const k = random.int(6);
      expect(Number.isInteger(k) && k >= 0 && k < 6).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBe(6);
  });

  it('rejects bad seeds and bad n', () => {
    expect(() => createRandom(0.5)).toThrow('createRandom: seed must be an integer, got 0.5');
    expect(() => createRandom(0).int(0)).toThrow('Random.int: n must be an integer in [1, 2^32], got 0');
    expect(() => createRandom(0).int(2 ** 32 + 1)).toThrow('Random.int: n must be an integer in [1, 2^32], got 4294967297');
    expect(() => createRandom(0).int(2.5)).toThrow('Random.int: n must be an integer in [1, 2^32], got 2.5');
    // The ends of the range: int(1) is always 0, int(2^32) is the raw uint32 (seed 0's first is 3184218849).
    expect([createRandom(0).int(1), createRandom(0).int(2 ** 32)]).toEqual([0, 3184218849]);
  });

  it('shuffles arrays and Int32Arrays in place into permutations', () => {
    const random = createRandom(1);
    const array = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const returned = random.shuffle(array);
    expect(returned).toBe(array);
    expect([...array].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const typed = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    random.shuffle(typed);
    expect([...typed].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // 10! orders: the chance that both come out sorted is negligible, and seed 1 is fixed anyway.
    expect(array).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('shuffles with one draw per element but the first', () => {
    for (const length of [0, 1, 2, 5]) {
      const random = createRandom(12);
      random.shuffle(Array.from({ length }, (_, i) => i));
      const reference = createRandom(12);
      for (let i = 1; i < length; i++) reference.next();
      expect(random.next()).toBe(reference.next());
    }
  });

  it('restores a saved state and continues identically (through JSON too)', () => {
    const random = createRandom(11);
    random.next();
    const saved = JSON.parse(JSON.stringify(random.state()));
    const expected = [random.next(), random.int(100), random.next()];
    const restored = restoreRandom(saved);
    expect([restored.next(), restored.int(100), restored.next()]).toEqual(expected);
    expect(() => restoreRandom([1, 2, 3])).toThrow('restoreRandom: state must be the 4 uint32 words');
  });

  it('refuses states that are not 4 uint32 words, and accepts both ends of the range', () => {
    for (const state of [[1, 2, 3], [1, 2, 3, 4, 5], [1, 2, 3, -1], [1, 2, 2 ** 32, 4], [1.5, 2, 3, 4], 'abcd']) {
      expect(() => restoreRandom(state as number[])).toThrow(
        `restoreRandom: state must be the 4 uint32 words from Random.state(), got ${JSON.stringify(state)}`,
      );
    }
    expect(restoreRandom([0, 2 ** 32 - 1, 0, 2 ** 32 - 1]).state()).toEqual([0, 2 ** 32 - 1, 0, 2 ** 32 - 1]);
  });
});

describe('pickDistinct', () => {
  it('picks distinct values of the population, a permutation when count = population', () => {
    const random = createRandom(5);
    const picked = pickDistinct(1000, 50, random);
    expect(new Set(picked).size).toBe(50);
    expect([...picked].every((value) => value >= 0 && value < 1000)).toBe(true);
    expect([...pickDistinct(6, 6, random)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('is uniform over first positions (each of 4 values about 1/4 of 4000 draws)', () => {
    const random = createRandom(9);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[pickDistinct(4, 2, random)[0]] += 1;
    // Binomial(4000, 1/4): mean 1000, sd sqrt(4000 * 0.25 * 0.75) ~ 27; 150 is over 5 sd.
    for (const count of counts) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });

  it('refuses to pick more than the population, and bad sizes', () => {
    expect(() => pickDistinct(3, 4, createRandom(0))).toThrow(
      'pickDistinct: cannot pick 4 distinct values from a population of 3',
    );
    for (const [population, count] of [[-1, 0], [2.5, 1], [3, -1], [3, 1.5]]) {
      expect(() => pickDistinct(population, count, createRandom(0))).toThrow(
        `pickDistinct: population and count must be non-negative integers, got ${population}, ${count}`,
      );
    }
    expect([...pickDistinct(0, 0, createRandom(0))]).toEqual([]);
    expect([...pickDistinct(3, 0, createRandom(0))]).toEqual([]);
  });

  it('pins the picks of seed 0 (the first steps of a Fisher-Yates shuffle)', () => {
    // Seed 0's first draws are 0.741 0.509 0.154 (createRandom test above): j = 0 + floor(0.741 * 6) = 4,
    // 1 + floor(0.509 * 5) = 3, 2 + floor(0.154 * 4) = 2.
    expect([...pickDistinct(6, 3, createRandom(0))]).toEqual([4, 3, 2]);
    // Of 2: j = floor(0.741 * 2) = 1 picks 1 and moves 0 to position 1; then j = 1 + floor(0.509 * 1) = 1 picks that 0.
    expect([...pickDistinct(2, 2, createRandom(0))]).toEqual([1, 0]);
  });
});
