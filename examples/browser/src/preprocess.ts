import { OMNIGLOT_SOURCE_SIZE, resizeByAreaAverage } from '@mann/omniglot';

/**
 * Turns a drawing into what the model sees, exactly as `@mann/omniglot` prepares the training images: the
 * drawing is taken at Omniglot's 105x105, binarised to ink 1 / paper 0 (the authors' PNGs are 1-bit), shrunk to
 * `imageSize` squared by area averaging (`resizeByAreaAverage`, the same function the zip reader uses), stored as
 * bytes (round(255 x ink)) and read back as byte / 255, as `OmniglotDataset` does.
 *
 * `alpha` is the drawing's 105 x 105 alpha channel (0..255): strokes are opaque, paper transparent.
 *
 * ```ts
 * const { data } = context.getImageData(0, 0, 105, 105);
 * const alpha = Uint8ClampedArray.from({ length: 105 * 105 }, (_, i) => data[4 * i + 3]);
 * drawingToInput(alpha, 20); // 400 numbers in [0, 1]
 * ```
 */
export function drawingToInput(alpha: ArrayLike<number>, imageSize: number): Float32Array {
  const side = OMNIGLOT_SOURCE_SIZE;
  if (alpha.length !== side * side) {
    throw new Error(`drawingToInput: expected the ${side} x ${side} alpha channel (${side * side} values), got ${alpha.length}.`);
  }
  const ink = new Float32Array(side * side);
  // Anti-aliased stroke edges are half-covered pixels; the 1-bit source images have none, so threshold at half.
  for (let i = 0; i < ink.length; i++) ink[i] = alpha[i] >= 128 ? 1 : 0;
  const resized = resizeByAreaAverage(ink, side, imageSize);
  const out = new Float32Array(imageSize * imageSize);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(resized[i] * 255) / 255;
  return out;
}
