import { describe, expect, it } from 'vitest';
import { resizeByAreaAverage } from './area_resize';

describe('resizeByAreaAverage', () => {
  it('averages whole blocks when the ratio is an integer', () => {
    // 4x4 -> 2x2: each output is the mean of a 2x2 block.
    // block (0,0) = [1, 0; 0, 0] -> 1/4; block (0,1) = [1, 1; 1, 1] -> 1; block (1,0) = 0; block (1,1) = [0, 1; 0, 0] -> 1/4.
    const image = [1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0];
    expect(Array.from(resizeByAreaAverage(image, 4, 2))).toEqual([0.25, 1, 0, 0.25]);
  });

  it('counts a partly covered pixel by the covered fraction (3 -> 2)', () => {
    // Output 0 covers [0, 1.5): pixel 0 whole, pixel 1 half; output 1 covers [1.5, 3). Per axis weights
    // (1/1.5, 0.5/1.5) = (2/3, 1/3). A lone centre pixel gets 1/3 x 1/3 = 1/9 in each output.
    const centre = [0, 0, 0, 0, 1, 0, 0, 0, 0];
    const out = resizeByAreaAverage(centre, 3, 2);
    for (const value of out) expect(value).toBeCloseTo(1 / 9, 12);
    // A lone top-left pixel: (2/3)^2 = 4/9 in output (0,0), nothing elsewhere.
    const corner = [1, 0, 0, 0, 0, 0, 0, 0, 0];
    const cornerOut = Array.from(resizeByAreaAverage(corner, 3, 2));
    expect(cornerOut[0]).toBeCloseTo(4 / 9, 12);
    expect(cornerOut.slice(1)).toEqual([0, 0, 0]);
  });

  it('resizes 105 -> 20 with 5.25-pixel squares', () => {
    // One ink pixel at (0, 0): output (0, 0) covers 5.25 x 5.25 input pixels, so it reads 1 / 27.5625.
    const image = new Float32Array(105 * 105);
    image[0] = 1;
    const out = resizeByAreaAverage(image, 105, 20);
    expect(out[0]).toBeCloseTo(1 / 27.5625, 12);
    expect(out.slice(1).every((value) => value === 0)).toBe(true);
    // Full ink stays 1 everywhere; weights sum to 1.
    const full = resizeByAreaAverage(new Float32Array(105 * 105).fill(1), 105, 20);
    for (const value of full) expect(value).toBeCloseTo(1, 12);
  });

  it('rejects a wrong-sized image', () => {
    expect(() => resizeByAreaAverage(new Float32Array(10), 105, 20)).toThrow(/10 values, expected 105 x 105 = 11025/);
  });
});
