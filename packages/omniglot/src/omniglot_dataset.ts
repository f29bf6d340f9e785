import type { ClassDataset } from '@mann/episodes';
import type { OmniglotCharacter } from './types';

/** Byte -> float in [0, 1]: 255 (full ink) reads as 1. */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, byte) => byte / 255);

/**
 * A `ClassDataset` over Omniglot characters: class `c` is `characters[c]`, its samples are that character's
 * drawings in drawer order, each `imageSize x imageSize` floats in [0, 1] with ink = 1.
 *
 * ```ts
 * const { train } = paperSplit(background, evaluation);
 * const dataset = new OmniglotDataset(train);
 * dataset.numClasses; // 1200
 * const image = new Float32Array(400);
 * dataset.read(0, 0, image, 0, Math.random);
 * ```
 */
export class OmniglotDataset implements ClassDataset {
  readonly numClasses: number;
  readonly sampleShape: readonly number[];
  /** The characters, class `c` being `characters[c]`. */
  readonly characters: readonly OmniglotCharacter[];
  private readonly pixelsPerImage: number;

  constructor(characters: readonly OmniglotCharacter[]) {
    if (characters.length === 0) {
      throw new Error('OmniglotDataset: needs at least one character');
    }
    const first = characters[0];
    const imageSize = Math.sqrt(first.pixels.length / first.drawers.length);
    if (first.drawers.length === 0 || !Number.isInteger(imageSize)) {
      throw new Error(
        `OmniglotDataset: ${first.alphabet}/${first.character} has ${first.pixels.length} pixels for ` +
          `${first.drawers.length} drawings, not a whole number of square images`,
      );
    }
    for (const character of characters) {
      if (character.drawers.length === 0 || character.pixels.length !== character.drawers.length * imageSize * imageSize) {
        throw new Error(
          `OmniglotDataset: ${character.alphabet}/${character.character} has ${character.pixels.length} pixels for ` +
            `${character.drawers.length} drawings; expected ${imageSize}x${imageSize} images like the first character`,
        );
      }
    }
    this.characters = characters;
    this.numClasses = characters.length;
    this.sampleShape = [imageSize, imageSize];
    this.pixelsPerImage = imageSize * imageSize;
  }

  samplesIn(classIndex: number): number {
    return this.character(classIndex).drawers.length;
  }

  read(classIndex: number, sampleIndex: number, out: Float32Array, offset: number, _random?: () => number): void {
    const character = this.character(classIndex);
    if (!Number.isInteger(sampleIndex) || sampleIndex < 0 || sampleIndex >= character.drawers.length) {
      throw new Error(
        `OmniglotDataset.read: sample ${sampleIndex} out of range [0, ${character.drawers.length}) for class ${classIndex}`,
      );
    }
    const size = this.pixelsPerImage;
    if (!Number.isInteger(offset) || offset < 0 || offset + size > out.length) {
      throw new Error(`OmniglotDataset.read: ${size} values at offset ${offset} do not fit in out (length ${out.length})`);
    }
    const pixels = character.pixels;
    const start = sampleIndex * size;
    for (let p = 0; p < size; p++) out[offset + p] = BYTE_TO_UNIT[pixels[start + p]];
  }

  private character(classIndex: number): OmniglotCharacter {
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= this.numClasses) {
      throw new Error(`OmniglotDataset: class ${classIndex} out of range [0, ${this.numClasses})`);
    }
    return this.characters[classIndex];
  }
}
