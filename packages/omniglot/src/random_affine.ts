import type { ClassDataset } from '@mann/episodes';
import { squareSide } from './square_side';

/** Options of {@link withRandomAffine}: how far each drawing may be rotated and shifted. */
export interface RandomAffineOptions {
  /** Largest rotation either way, in degrees (default 10). */
  maxRotationDegrees?: number;
  /** Largest shift along each axis either way, in output pixels (default 2, 10% of a 20px image). */
  maxShiftPixels?: number;
}

/**
 * Rotates `source` (square, side `size`) by `angleRadians` counter-clockwise as displayed about the image centre,
 * then shifts it by (`shiftX` right, `shiftY` down) pixels, writing into `out` at `offset`. Each output pixel
 * samples the source bilinearly at the inverse-mapped point; points outside the image read as background (0).
 */
export function affineTransform(
  source: ArrayLike<number>,
  size: number,
  angleRadians: number,
  shiftX: number,
  shiftY: number,
  out: Float32Array,
  offset: number,
): void {
  const centre = (size - 1) / 2;
  const cos = Math.cos(angleRadians);
  const sin = Math.sin(angleRadians);
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= size || y >= size ? 0 : source[y * size + x]);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = x - centre - shiftX;
      const v = y - centre - shiftY;
      // Inverse of a counter-clockwise turn on screen (y points down): source = [[cos, -sin], [sin, cos]] (u, v).
      const sourceX = cos * u - sin * v + centre;
      const sourceY = sin * u + cos * v + centre;
      const x0 = Math.floor(sourceX);
      const y0 = Math.floor(sourceY);
      const fx = sourceX - x0;
      const fy = sourceY - y0;
      out[offset + y * size + x] =
        (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
    }
  }
}

/**
 * Gives every drawing read a fresh small random rotation and shift (the paper's per-drawing augmentation),
 * drawn from the `random` function the episode sampler passes to `read`, so a seed fixes it. After the wrapped
 * dataset's own read, three draws in this order: angle = (2r - 1) x maxRotationDegrees, shiftX and shiftY =
 * (2r - 1) x maxShiftPixels. Apply it to training data only.
 *
 * ```ts
 * const train = withRandomAffine(withRotatedClasses(new OmniglotDataset(split.train)));
 * ```
 */
export function withRandomAffine(dataset: ClassDataset, options: RandomAffineOptions = {}): ClassDataset {
  const { maxRotationDegrees = 10, maxShiftPixels = 2 } = options;
  if (!(maxRotationDegrees >= 0 && maxRotationDegrees <= 180) || !(maxShiftPixels >= 0)) {
    throw new Error(
      `withRandomAffine: maxRotationDegrees must be in [0, 180] and maxShiftPixels >= 0, got ${maxRotationDegrees}, ${maxShiftPixels}`,
    );
  }
  const size = squareSide(dataset, 'withRandomAffine');
  const scratch = new Float32Array(size * size);
  return {
    numClasses: dataset.numClasses,
    sampleShape: dataset.sampleShape,
    samplesIn: (classIndex) => dataset.samplesIn(classIndex),
    read(classIndex, sampleIndex, out, offset, random) {
      if (typeof random !== 'function') {
        throw new Error('withRandomAffine.read: needs the random function the episode sampler passes');
      }
      dataset.read(classIndex, sampleIndex, scratch, 0, random);
      const angle = (((2 * random() - 1) * maxRotationDegrees) / 180) * Math.PI;
      const shiftX = (2 * random() - 1) * maxShiftPixels;
      const shiftY = (2 * random() - 1) * maxShiftPixels;
      if (offset < 0 || offset + scratch.length > out.length) {
        throw new Error(`withRandomAffine.read: ${scratch.length} values at offset ${offset} do not fit in out (length ${out.length})`);
      }
      affineTransform(scratch, size, angle, shiftX, shiftY, out, offset);
    },
  };
}
