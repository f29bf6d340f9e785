import { createRandom } from './random';
import type { ClassDataset } from './types';

/** Options of `syntheticPatterns`. */
export interface SyntheticPatternsOptions {
  /** Number of classes. */
  classes: number;
  /** Samples per class. */
  samplesPerClass: number;
  /** Shape of a sample, e.g. [8, 8]. */
  sampleShape: number[];
  /** Probability that a pixel of a sample is flipped from its class prototype, in [0, 0.5) (default 0.1). */
  noise?: number;
  /** Seed of the prototypes and samples (default 0). */
  seed?: number;
}

/**
 * A stand-in for Omniglot: each class is a random binary prototype (pixels 0 or 1), and each sample is the
 * prototype with every pixel flipped with probability `noise`. Prototypes are redrawn until every pair
 * differs in at least a quarter of the pixels, so classes are clearly distinct (two random prototypes differ
 * in about half), while samples of one class differ in about 2 * noise of them. Samples are fixed by the seed:
 * `read` ignores its `random` argument (no augmentation).
 *
 * ```ts
 * const dataset = syntheticPatterns({ classes: 20, samplesPerClass: 10, sampleShape: [8, 8], noise: 0.05 });
 * const sample = new Float32Array(64);
 * dataset.read(3, 0, sample, 0, Math.random);
 * ```
 */
export function syntheticPatterns(options: SyntheticPatternsOptions): ClassDataset {
  const { classes, samplesPerClass, sampleShape, noise = 0.1, seed = 0 } = options;
  if (!Number.isInteger(classes) || classes < 1) {
    throw new Error(`syntheticPatterns: classes must be a positive integer, got ${classes}`);
  }
  if (!Number.isInteger(samplesPerClass) || samplesPerClass < 1) {
    throw new Error(`syntheticPatterns: samplesPerClass must be a positive integer, got ${samplesPerClass}`);
  }
  if (!Array.isArray(sampleShape) || sampleShape.length === 0 || !sampleShape.every((side) => Number.isInteger(side) && side > 0)) {
    throw new Error(`syntheticPatterns: sampleShape must be positive integers, got [${sampleShape}]`);
  }
  if (!(noise >= 0 && noise < 0.5)) {
    throw new Error(`syntheticPatterns: noise must be in [0, 0.5) (0.5 would erase the class), got ${noise}`);
  }
  const size = sampleShape.reduce((product, side) => product * side, 1);
  const minDistance = Math.ceil(size / 4);
  const random = createRandom(seed);
  const prototypes = new Uint8Array(classes * size);
  for (let c = 0; c < classes; c++) {
    const prototype = prototypes.subarray(c * size, (c + 1) * size);
    let attempts = 0;
    do {
      if (++attempts > 1000) {
        throw new Error(
          `syntheticPatterns: could not draw ${classes} prototypes of ${size} pixels that differ in at least ` +
            `${minDistance} pixels; use a larger sampleShape or fewer classes`,
        );
      }
      for (let i = 0; i < size; i++) prototype[i] = random.int(2);
    } while (tooClose(prototypes, c, size, minDistance));
  }
  // Each sample has its own generator derived from (seed, class, sample), so reads are independent of order.
  const sampleSeed = random.int(2 ** 32) | 0;
  return {
    numClasses: classes,
    sampleShape: [...sampleShape],
    samplesIn(classIndex: number): number {
      checkClass(classIndex);
      return samplesPerClass;
    },
    read(classIndex: number, sampleIndex: number, out: Float32Array, offset: number): void {
      checkClass(classIndex);
      if (!Number.isInteger(sampleIndex) || sampleIndex < 0 || sampleIndex >= samplesPerClass) {
        throw new Error(`syntheticPatterns.read: sample index must be in [0, ${samplesPerClass}), got ${sampleIndex}`);
      }
      const pixels = createRandom((sampleSeed + classIndex * samplesPerClass + sampleIndex) | 0);
      for (let i = 0; i < size; i++) {
        const flip = pixels.next() < noise ? 1 : 0;
        out[offset + i] = prototypes[classIndex * size + i] ^ flip;
      }
    },
  };

  function checkClass(classIndex: number): void {
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes) {
      throw new Error(`syntheticPatterns: class index must be in [0, ${classes}), got ${classIndex}`);
    }
  }
}

/** Whether prototype `c` differs from an earlier one in fewer than `minDistance` pixels. */
function tooClose(prototypes: Uint8Array, c: number, size: number, minDistance: number): boolean {
  for (let other = 0; other < c; other++) {
    let distance = 0;
    for (let i = 0; i < size; i++) distance += prototypes[c * size + i] ^ prototypes[other * size + i];
    if (distance < minDistance) return true;
  }
  return false;
}
