import type { ClassDataset } from '@mann/episodes';
import { squareSide } from './square_side';

/**
 * Copies square image `source` (side `size`) into `out` at `offset`, turned `quarterTurns` x 90 degrees
 * counter-clockwise as displayed (row 0 at the top): one quarter turn sends the top-right corner to the top-left.
 *
 * ```ts
 * rotateQuarterTurns(Float32Array.of(1, 2, 3, 4), 2, 1, out, 0); // out = [2, 4, 1, 3]
 * ```
 */
export function rotateQuarterTurns(
  source: ArrayLike<number>,
  size: number,
  quarterTurns: number,
  out: Float32Array,
  offset: number,
): void {
  const turns = ((quarterTurns % 4) + 4) % 4;
  const last = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sourceIndex: number;
      if (turns === 0) sourceIndex = y * size + x;
      else if (turns === 1) sourceIndex = x * size + (last - y);
      else if (turns === 2) sourceIndex = (last - y) * size + (last - x);
      else sourceIndex = (last - x) * size + y;
      out[offset + y * size + x] = source[sourceIndex];
    }
  }
}

/**
 * Four times the classes: class `c + k * n` (n = the original class count, k = 0..3) is original class `c`
 * turned k x 90 degrees counter-clockwise, a new class as in the paper's augmentation. Classes 0..n-1 are the
 * originals, unchanged. Apply it to training characters only.
 *
 * ```ts
 * const train = withRotatedClasses(new OmniglotDataset(split.train)); // 4800 classes
 * ```
 */
export function withRotatedClasses(dataset: ClassDataset): ClassDataset {
  const size = squareSide(dataset, 'withRotatedClasses');
  const originals = dataset.numClasses;
  const scratch = new Float32Array(size * size);
  const original = (classIndex: number): number => {
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= 4 * originals) {
      throw new Error(`withRotatedClasses: class ${classIndex} out of range [0, ${4 * originals})`);
    }
    return classIndex % originals;
  };
  return {
    numClasses: 4 * originals,
    sampleShape: dataset.sampleShape,
    samplesIn: (classIndex) => dataset.samplesIn(original(classIndex)),
    read(classIndex, sampleIndex, out, offset, random) {
      const quarterTurns = Math.floor(classIndex / originals);
      dataset.read(original(classIndex), sampleIndex, scratch, 0, random);
      if (offset < 0 || offset + scratch.length > out.length) {
        throw new Error(`withRotatedClasses.read: ${scratch.length} values at offset ${offset} do not fit in out (length ${out.length})`);
      }
      rotateQuarterTurns(scratch, size, quarterTurns, out, offset);
    },
  };
}
