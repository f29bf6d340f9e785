import { describe, expect, it } from 'vitest';
import { curriculum } from './curriculum';

describe('curriculum', () => {
  it('starts at 15 and adds one class every 10,000 episodes by default', () => {
    const ways = curriculum();
    // 15 + floor(e / 10000): 0 -> 15, 9999 -> 15, 10000 -> 16, 25000 -> 17.
    expect([0, 9999, 10_000, 25_000].map(ways)).toEqual([15, 15, 16, 17]);
  });

  it('honours increment, every and max', () => {
    const ways = curriculum({ start: 5, increment: 2, every: 100, max: 10 });
    // 5 + 2 * floor(e / 100), capped at 10: 0 -> 5, 150 -> 7, 250 -> 9, 300 -> 11 -> 10.
    expect([0, 150, 250, 300, 10_000].map(ways)).toEqual([5, 7, 9, 10, 10]);
  });

  it('accepts the smallest settings: start 1, increment 0, every 1, max = start', () => {
    expect([0, 1, 5].map(curriculum({ start: 1, every: 1 }))).toEqual([1, 2, 6]);
    expect([0, 100_000].map(curriculum({ start: 3, increment: 0 }))).toEqual([3, 3]);
    expect([0, 100_000].map(curriculum({ start: 4, max: 4 }))).toEqual([4, 4]);
  });

  it('explains bad options', () => {
    expect(() => curriculum({ start: 10, max: 5 })).toThrow('curriculum: max (5) must be at least start (10)');
    expect(() => curriculum({ every: 0 })).toThrow('curriculum: every must be a positive integer, got 0');
    expect(() => curriculum({ every: 1.5 })).toThrow('curriculum: every must be a positive integer, got 1.5');
    expect(() => curriculum({ start: 0 })).toThrow('curriculum: start must be a positive integer, got 0');
    expect(() => curriculum({ start: 1.5 })).toThrow('curriculum: start must be a positive integer, got 1.5');
    expect(() => curriculum({ increment: -1 })).toThrow('curriculum: increment must be a non-negative integer, got -1');
    expect(() => curriculum({ increment: 0.5 })).toThrow('curriculum: increment must be a non-negative integer, got 0.5');
    expect(() => curriculum({ max: 20.5 })).toThrow('curriculum: max must be an integer, got 20.5');
    const ways = curriculum();
    expect(() => ways(-1)).toThrow('curriculum: episodesSeen must be >= 0, got -1');
    expect(() => ways(Number.NaN)).toThrow('curriculum: episodesSeen must be >= 0, got NaN');
  });
});
