import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference } from '@mann/backend/testing';
import { glorotUniform } from './glorot_uniform';
import { seededRandom } from './seeded_random';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('glorotUniform', () => {
  it('fills [-limit, limit) with limit = sqrt(6 / (fanIn + fanOut)), centred and spread out', () => {
    // [200, 10]: limit = sqrt(6 / 210) = 0.1690309
    const values = Array.from(glorotUniform([200, 10], 3).dataSync());
    const limit = Math.sqrt(6 / 210);
    const max = Math.max(...values);
    const min = Math.min(...values);
    expect(max).toBeLessThan(limit);
    expect(min).toBeGreaterThanOrEqual(-limit);
    // 2000 uniform draws: extremes within 1% of the limit, mean within 4 standard errors
    // (limit / sqrt(3) / sqrt(2000) = 0.0022 each) of zero. Deterministic for this seed.
    expect(max).toBeGreaterThan(0.99 * limit);
    expect(min).toBeLessThan(-0.99 * limit);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(4 * 0.0022);
  });

  it('uses fanIn = fanOut = n for a vector', () => {
    const values = glorotUniform([6], 1).dataSync();
    // limit = sqrt(6 / 12) = 0.7071068
    expect(Math.max(...values.map(Math.abs))).toBeLessThan(Math.sqrt(0.5));
  });

  it('is a pure function of shape and seed', () => {
    expect(maxAbsDifference(glorotUniform([4, 5], 11), glorotUniform([4, 5], 11))).toBe(0);
    expect(maxAbsDifference(glorotUniform([4, 5], 11), glorotUniform([4, 5], 12))).toBeGreaterThan(0.1);
    // The first value is limit * (2 u - 1) with u the generator's first draw.
    const u = seededRandom(11)();
    expect(glorotUniform([4, 5], 11).dataSync()[0]).toBeCloseTo(Math.sqrt(6 / 9) * (2 * u - 1), 6);
  });

  it('rejects shapes it cannot take fans of, and bad seeds', () => {
    expect(() => glorotUniform([2, 3, 4], 0)).toThrow('glorotUniform: shape must be [fanIn, fanOut] or [size], got [2,3,4].');
    expect(() => glorotUniform([2, 0], 0)).toThrow('glorotUniform: shape[1] must be a positive integer, got 0.');
    expect(() => glorotUniform([2, 2], Number.NaN)).toThrow('glorotUniform: seed must be an integer, got NaN.');
    expect(() => glorotUniform([], 0)).toThrow('glorotUniform: shape must be [fanIn, fanOut] or [size], got [].');
    expect(() => glorotUniform('6' as never, 0)).toThrow('glorotUniform: shape must be [fanIn, fanOut] or [size], got 6.');
    expect(() => glorotUniform([1.5, 2], 0)).toThrow('glorotUniform: shape[0] must be a positive integer, got 1.5.');
  });

  it('pins the first values: limit * (2 u - 1) for the draws u of seededRandom(seed)', () => {
    // seededRandom(0) draws 0.26642920868471265, 0.0003297457005828619, 0.2232720274478197 (see below).
    // [2, 1]: limit = sqrt(6 / 3) = 1.4142136 -> [1.4142136 * -0.4671416, 1.4142136 * -0.9993405] = [-0.6606380, -1.4132809]
    expect(maxAbsDifference(glorotUniform([2, 1], 0), [-0.6606380, -1.4132809])).toBeLessThan(1e-6);
    // A vector [3] has fanIn = fanOut = 3: limit = sqrt(6 / 6) = 1 -> [-0.4671416, -0.9993405, -0.5534559]
    expect(maxAbsDifference(glorotUniform([3], 0), [-0.4671416, -0.9993405, -0.5534559])).toBeLessThan(1e-6);
  });
});

describe('seededRandom', () => {
  it('gives numbers in [0, 1) that depend on the seed', () => {
    const a = seededRandom(0);
    const draws = Array.from({ length: 1000 }, () => a());
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(new Set(draws).size).toBe(1000);
    expect(seededRandom(1)()).not.toBe(seededRandom(0)());
    expect(seededRandom(5)()).toBe(seededRandom(5)());
  });

  it('is mulberry32: the same numbers as an independent implementation, seeds taken modulo 2^32', () => {
    // Reference values from a separate mulberry32 written in Python with explicit 32-bit wrap-around.
    const zero = seededRandom(0);
    expect([zero(), zero(), zero()]).toEqual([0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]);
    const one = seededRandom(1);
    expect([one(), one()]).toEqual([0.6270739405881613, 0.002735721180215478]);
    expect(seededRandom(2 ** 32 + 1)()).toBe(0.6270739405881613);
  });
});
