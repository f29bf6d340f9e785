import { describe, expect, it } from 'vitest';
import { syntheticPatterns } from './synthetic_patterns';

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
      'syntheticPatterns: could not draw 20 prototypes of 2 pixels that differ in at least 1 pixels',
    );
    expect(() => syntheticPatterns({ classes: 2, samplesPerClass: 2, sampleShape: [4], noise: 0.5 })).toThrow(
      'syntheticPatterns: noise must be in [0, 0.5)',
    );
  });
});
