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

  it('restores a saved state and continues identically (through JSON too)', () => {
    const random = createRandom(11);
    random.next();
    const saved = JSON.parse(JSON.stringify(random.state()));
    const expected = [random.next(), random.int(100), random.next()];
    const restored = restoreRandom(saved);
    expect([restored.next(), restored.int(100), restored.next()]).toEqual(expected);
    expect(() => restoreRandom([1, 2, 3])).toThrow('restoreRandom: state must be the 4 uint32 words');
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

  it('refuses to pick more than the population', () => {
    expect(() => pickDistinct(3, 4, createRandom(0))).toThrow('cannot pick 4 distinct values from a population of 3');
  });
});
