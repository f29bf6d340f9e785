import { describe, expect, it, vi } from 'vitest';
import type { Random } from './random';
import { syntheticPatterns } from './synthetic_patterns';

// createRandom passes through unless a test sets `draws.int`, which then answers every int() of the generators
// syntheticPatterns creates (to drive the prototype retries).
const draws = vi.hoisted(() => ({ int: undefined as ((n: number) => number) | undefined }));
vi.mock('./random', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./random')>();
  return {
    ...actual,
    createRandom(seed: number): Random {
      const random = actual.createRandom(seed);
      return draws.int ? { ...random, int: draws.int } : random;
    },
  };
});

function readAll(dataset: ReturnType<typeof syntheticPatterns>, c: number, s: number): Float32Array {
  const size = dataset.sampleShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  dataset.read(c, s, out, 0, () => 0.5);
  return out;
}

const distance = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + Math.abs(value - b[i]), 0);

describe('syntheticPatterns', () => {
  it('has binary samples of the given shape and counts', () => {
    const dataset = syntheticPatterns({ classes: 7, samplesPerClass: 3, sampleShape: [5, 4] });
    expect(dataset.numClasses).toBe(7);
    expect(dataset.sampleShape).toEqual([5, 4]);
    expect(dataset.samplesIn(6)).toBe(3);
    expect([...readAll(dataset, 2, 1)].every((value) => value === 0 || value === 1)).toBe(true);
  });

  it('keeps classes far apart and samples of a class close', () => {
    const dataset = syntheticPatterns({ classes: 10, samplesPerClass: 4, sampleShape: [20, 20], noise: 0.05 });
    // With noise 0 a sample is its prototype; here prototypes differ in >= 100 of 400 pixels (about 200 for
    // random ones) while two samples of a class differ in about 2 * 0.05 * 400 = 40.
    for (let c = 0; c < 10; c++) {
      const within = distance(readAll(dataset, c, 0), readAll(dataset, c, 1));
      expect(within).toBeLessThan(80);
      for (let other = 0; other < c; other++) {
        expect(distance(readAll(dataset, c, 0), readAll(dataset, other, 0))).toBeGreaterThan(within + 20);
      }
    }
  });

  it('makes every sample its prototype at noise 0 and is fixed by the seed', () => {
    const clean = syntheticPatterns({ classes: 3, samplesPerClass: 3, sampleShape: [16], noise: 0, seed: 4 });
    expect(readAll(clean, 1, 0)).toEqual(readAll(clean, 1, 2));
    const again = syntheticPatterns({ classes: 3, samplesPerClass: 3, sampleShape: [16], noise: 0, seed: 4 });
    expect(readAll(again, 2, 1)).toEqual(readAll(clean, 2, 1));
    const other = syntheticPatterns({ classes: 3, samplesPerClass: 3, sampleShape: [16], noise: 0, seed: 5 });
    expect(readAll(other, 2, 1)).not.toEqual(readAll(clean, 2, 1));
  });

  it('flips about `noise` of the pixels', () => {
    const clean = syntheticPatterns({ classes: 1, samplesPerClass: 50, sampleShape: [400], noise: 0 });
    const noisy = syntheticPatterns({ classes: 1, samplesPerClass: 50, sampleShape: [400], noise: 0.2 });
    let flipped = 0;
    for (let s = 0; s < 50; s++) flipped += distance(readAll(clean, 0, s), readAll(noisy, 0, s));
    // Binomial(20000, 0.2): mean 4000, sd ~ 57; 300 is over 5 sd.
    expect(Math.abs(flipped - 4000)).toBeLessThan(300);
  });

  it('explains bad options', () => {
    expect(() => syntheticPatterns({ classes: 20, samplesPerClass: 2, sampleShape: [2] })).toThrow(
      'syntheticPatterns: could not draw 20 prototypes of 2 pixels that differ in at least 1 pixels; ' +
        'use a larger sampleShape or fewer classes',
    );
    const options = { classes: 2, samplesPerClass: 2, sampleShape: [4] };
    for (const noise of [0.5, -0.1, Number.NaN]) {
      expect(() => syntheticPatterns({ ...options, noise })).toThrow(
        `syntheticPatterns: noise must be in [0, 0.5) (0.5 would erase the class), got ${noise}`,
      );
    }
    for (const classes of [0, 1.5]) {
      expect(() => syntheticPatterns({ ...options, classes })).toThrow(
        `syntheticPatterns: classes must be a positive integer, got ${classes}`,
      );
    }
    for (const samplesPerClass of [0, 1.5]) {
      expect(() => syntheticPatterns({ ...options, samplesPerClass })).toThrow(
        `syntheticPatterns: samplesPerClass must be a positive integer, got ${samplesPerClass}`,
      );
    }
    const badShapes = [[[], '[]'], [[2, 0], '[2,0]'], [[-1], '[-1]'], [[2.5], '[2.5]'], [4, '[4]']] as const;
    for (const [sampleShape, shown] of badShapes) {
      expect(() => syntheticPatterns({ ...options, sampleShape: sampleShape as never })).toThrow(
        `syntheticPatterns: sampleShape must be positive integers, got ${shown}`,
      );
    }
    // The smallest valid settings.
    const tiny = syntheticPatterns({ classes: 1, samplesPerClass: 1, sampleShape: [1], noise: 0 });
    expect([tiny.numClasses, tiny.samplesIn(0), [...readAll(tiny, 0, 0)].length]).toEqual([1, 1, 1]);
  });

  it('refuses class and sample indices out of range', () => {
    const dataset = syntheticPatterns({ classes: 3, samplesPerClass: 2, sampleShape: [4] });
    const out = new Float32Array(4);
    for (const c of [3, -1, 1.5]) {
      const message = `syntheticPatterns: class index must be in [0, 3), got ${c}`;
      expect(() => dataset.samplesIn(c)).toThrow(message);
      expect(() => dataset.read(c, 0, out, 0, Math.random)).toThrow(message);
    }
    for (const s of [2, -1, 0.5]) {
      expect(() => dataset.read(0, s, out, 0, Math.random)).toThrow(
        `syntheticPatterns.read: sample index must be in [0, 2), got ${s}`,
      );
    }
    expect(dataset.samplesIn(2)).toBe(2);
    expect(() => dataset.read(2, 1, out, 0, Math.random)).not.toThrow();
  });

  it('pins the prototypes and samples of seed 1', () => {
    // 2x2 samples: minDistance = ceil(4 / 4) = 1 pixel. Prototypes 0 and 1 are exactly 1 pixel apart.
    const shape = { classes: 3, samplesPerClass: 2, sampleShape: [2, 2], seed: 1 };
    const all = (dataset: ReturnType<typeof syntheticPatterns>) =>
      [0, 1, 2].map((c) => [0, 1].map((s) => [...readAll(dataset, c, s)].join('')));
    expect(all(syntheticPatterns({ ...shape, noise: 0 }))).toEqual([['0011', '0011'], ['0010', '0010'], ['0100', '0100']]);
    expect(all(syntheticPatterns({ ...shape, noise: 0.3 }))).toEqual([['1011', '0000'], ['0010', '0010'], ['0000', '0101']]);
  });

  it('flips a pixel when its draw is below noise, not when it equals noise', () => {
    // The first pixel draw of sample (0, 0) of seed 1 is 708101392 / 2^32 (found by bisecting noise); its
    // prototype pixel is 0.
    const firstPixel = (noise: number) =>
      readAll(syntheticPatterns({ classes: 3, samplesPerClass: 2, sampleShape: [2, 2], seed: 1, noise }), 0, 0)[0];
    expect(firstPixel(708101392 / 2 ** 32)).toBe(0);
    expect(firstPixel(708101393 / 2 ** 32)).toBe(1);
  });

  it('writes exactly one sample at the offset', () => {
    const dataset = syntheticPatterns({ classes: 2, samplesPerClass: 2, sampleShape: [2, 2], seed: 1, noise: 0 });
    const out = new Float32Array(7).fill(7);
    dataset.read(1, 0, out, 2, Math.random);
    expect([...out]).toEqual([7, 7, 0, 0, 1, 0, 7]);
  });

  it('redraws a prototype equal to any earlier one, comparing exactly their pixels', () => {
    // minDistance is 1 pixel for 4-pixel samples. Draws: class 0 = 1100; class 1 = 1100 (equal to class 0: drawn
    // again) then 0011; class 2 = 0011 (equal to class 1, not class 0: drawn again) then 1010.
    const sequence = [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0];
    let next = 0;
    draws.int = () => sequence[next++] ?? 0;
    try {
      const clean = syntheticPatterns({ classes: 3, samplesPerClass: 1, sampleShape: [4], noise: 0 });
      expect([0, 1, 2].map((c) => [...readAll(clean, c, 0)].join(''))).toEqual(['1100', '0011', '1010']);
      expect(next).toBe(sequence.length + 1); // and one draw for the samples' seed
    } finally {
      draws.int = undefined;
    }
  });

  it('gives up after exactly 1000 draws of a prototype that is too close', () => {
    // Every draw is 0: prototype 0 is 0000 (4 draws), then prototype 1 comes out 0000 again at every attempt.
    let count = 0;
    draws.int = () => {
      count += 1;
      return 0;
    };
    try {
      expect(() => syntheticPatterns({ classes: 2, samplesPerClass: 1, sampleShape: [4] })).toThrow(
        'syntheticPatterns: could not draw 2 prototypes of 4 pixels',
      );
      expect(count).toBe(4 + 1000 * 4);
      // Too close 999 times, then 1111 at the 1000th attempt: accepted.
      count = 0;
      draws.int = () => (++count > 4 + 999 * 4 ? 1 : 0);
      const clean = syntheticPatterns({ classes: 2, samplesPerClass: 1, sampleShape: [4], noise: 0 });
      expect([...readAll(clean, 1, 0)]).toEqual([1, 1, 1, 1]);
    } finally {
      draws.int = undefined;
    }
  });
});
