import type { ClassDataset } from '@mann/episodes';
import { describe, expect, it } from 'vitest';
import { affineTransform, withRandomAffine } from './random_affine';
import { rotateQuarterTurns, withRotatedClasses } from './rotated_classes';

/** A tiny dataset: 2 classes x 2 samples of 3x3 images, value = 100 * class + 10 * sample + pixel index. */
const tiny: ClassDataset = {
  numClasses: 2,
  sampleShape: [3, 3],
  samplesIn: () => 2,
  read(classIndex, sampleIndex, out, offset) {
    for (let p = 0; p < 9; p++) out[offset + p] = 100 * classIndex + 10 * sampleIndex + p;
  },
};

function readAll(dataset: ClassDataset, classIndex: number, sampleIndex: number, random: () => number = () => 0.5): number[] {
  const out = new Float32Array(9);
  dataset.read(classIndex, sampleIndex, out, 0, random);
  return Array.from(out);
}

describe('rotateQuarterTurns', () => {
  it('turns counter-clockwise as displayed', () => {
    // [0 1 2; 3 4 5; 6 7 8] a quarter turn counter-clockwise -> [2 5 8; 1 4 7; 0 3 6] (right column becomes top row).
    const image = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const out = new Float32Array(9);
    rotateQuarterTurns(image, 3, 1, out, 0);
    expect(Array.from(out)).toEqual([2, 5, 8, 1, 4, 7, 0, 3, 6]);
    rotateQuarterTurns(image, 3, 2, out, 0);
    expect(Array.from(out)).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0]);
    rotateQuarterTurns(image, 3, 3, out, 0);
    expect(Array.from(out)).toEqual([6, 3, 0, 7, 4, 1, 8, 5, 2]);
  });
});

describe('withRotatedClasses', () => {
  const rotated = withRotatedClasses(tiny);

  it('has four times the classes, the first n unchanged', () => {
    expect(rotated.numClasses).toBe(8);
    expect(rotated.sampleShape).toEqual([3, 3]);
    expect(rotated.samplesIn(7)).toBe(2);
    expect(readAll(rotated, 1, 1)).toEqual(readAll(tiny, 1, 1));
  });

  it('class c + k n is class c turned k quarter turns', () => {
    // Class 1 sample 0 is [100 .. 108]; class 1 + 2 = 3 is it turned once: [102 105 108; 101 104 107; 100 103 106].
    expect(readAll(rotated, 3, 0)).toEqual([102, 105, 108, 101, 104, 107, 100, 103, 106]);
    // Class 0 + 3 * 2 = 6 is class 0 turned three times (sample 1: 10 + [6 3 0; 7 4 1; 8 5 2]).
    expect(readAll(rotated, 6, 1)).toEqual([16, 13, 10, 17, 14, 11, 18, 15, 12]);
  });

  it('rejects out-of-range classes and non-square samples', () => {
    expect(() => readAll(rotated, 8, 0)).toThrow('withRotatedClasses: class 8 out of range [0, 8)');
    expect(() => withRotatedClasses({ ...tiny, sampleShape: [3, 4] })).toThrow(
      'withRotatedClasses: needs square 2-D samples, got sampleShape [3, 4]',
    );
  });
});

describe('withRandomAffine', () => {
  it('is the identity with zero ranges', () => {
    const still = withRandomAffine(tiny, { maxRotationDegrees: 0, maxShiftPixels: 0 });
    expect(readAll(still, 1, 0, Math.random)).toEqual(readAll(tiny, 1, 0));
  });

  it('shifts by (2r - 1) x maxShift pixels, background coming in from outside', () => {
    // r = 0.75 for every draw: angle 0 (range 0), shiftX = shiftY = (1.5 - 1) x 2 = 1 pixel right and down.
    // out(x, y) = in(x - 1, y - 1): [0 0 0; 0 p0 p1; 0 p3 p4] with p = 100 .. 108 for class 1 sample 0.
    const shifted = withRandomAffine(tiny, { maxRotationDegrees: 0, maxShiftPixels: 2 });
    expect(readAll(shifted, 1, 0, () => 0.75)).toEqual([0, 0, 0, 0, 100, 101, 0, 103, 104]);
  });

  it('rotates counter-clockwise, agreeing with a quarter turn at 90 degrees', () => {
    // r = 0.75 with maxRotationDegrees 180: angle = 0.5 x 180 = 90 degrees; shifts 0 (range 0). Bilinear sampling
    // at (nearly) integer points gives the quarter turn up to cos(pi/2) ~ 6e-17 rounding.
    const turned = withRandomAffine(tiny, { maxRotationDegrees: 180, maxShiftPixels: 0 });
    const expected = new Float32Array(9);
    rotateQuarterTurns(readAll(tiny, 0, 1), 3, 1, expected, 0);
    const got = readAll(turned, 0, 1, () => 0.75);
    got.forEach((value, p) => expect(value).toBeCloseTo(expected[p], 4));
  });

  it('interpolates between pixels for a half-pixel shift', () => {
    // A single bright pixel at the centre of a 3x3, shifted right by 0.5: the centre and its right neighbour
    // each get half of it.
    const source = [0, 0, 0, 0, 1, 0, 0, 0, 0];
    const out = new Float32Array(9);
    affineTransform(source, 3, 0, 0.5, 0, out, 0);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0.5, 0.5, 0, 0, 0]);
  });

  it('draws three numbers per read from the given random function, so a seed fixes it', () => {
    let draws = 0;
    const counting = () => {
      draws++;
      return 0.3;
    };
    const jittered = withRandomAffine(tiny);
    const a = readAll(jittered, 1, 1, counting);
    expect(draws).toBe(3);
    expect(readAll(jittered, 1, 1, () => 0.3)).toEqual(a);
    expect(readAll(jittered, 1, 1, () => 0.9)).not.toEqual(a);
    expect(() => withRandomAffine(tiny, { maxRotationDegrees: 200 })).toThrow(/maxRotationDegrees must be in \[0, 180\]/);
  });
});
