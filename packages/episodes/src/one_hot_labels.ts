import type { LabelEncoding } from './label_encoding';
import { choiceLetter } from './label_encoding';
import { pickDistinct, type Random } from './random';

/**
 * One-hot labels over `ways` choices (the paper's 5-way setting): G = 1, C = ways. Each episode gives its N
 * classes a fresh random permutation of 0..N-1, so a label means nothing across episodes.
 *
 * ```ts
 * const labels = oneHotLabels(5);
 * labels.assign(5, createRandom(0)); // e.g. Int32Array [3, 0, 4, 1, 2]
 * const y = new Float32Array(5);
 * labels.encode(2, y, 0); // y = [0, 0, 1, 0, 0]
 * labels.describe(2); // 'c'
 * ```
 */
export function oneHotLabels(ways: number): LabelEncoding {
  if (!Number.isInteger(ways) || ways < 1) {
    throw new Error(`oneHotLabels: ways must be a positive integer, got ${ways}`);
  }
  const checkLabel = (label: number, caller: string): void => {
    if (!Number.isInteger(label) || label < 0 || label >= ways) {
      throw new Error(`oneHotLabels(${ways}).${caller}: label must be an integer in [0, ${ways}), got ${label}`);
    }
  };
  return {
    name: 'one-hot',
    groups: 1,
    choices: ways,
    size: ways,
    assign(episodeWays: number, random: Random): Int32Array {
      if (episodeWays > ways) {
        throw new Error(
          `oneHotLabels(${ways}).assign: an episode of ${episodeWays} ways needs ${episodeWays} labels, ` +
            `but the encoding has only ${ways}; use oneHotLabels(${episodeWays})`,
        );
      }
      // With episodeWays == ways this is a uniform permutation of 0..ways-1.
      return pickDistinct(ways, episodeWays, random);
    },
    encode(label: number, out: Float32Array, offset: number): void {
      checkLabel(label, 'encode');
      out.fill(0, offset, offset + ways);
      out[offset + label] = 1;
    },
    targets(label: number, out: Int32Array, offset: number): void {
      checkLabel(label, 'targets');
      out[offset] = label;
    },
    decode(choices: ArrayLike<number>): number {
      if (choices.length !== 1) {
        throw new Error(`oneHotLabels(${ways}).decode: expected 1 choice index, got ${choices.length}`);
      }
      checkLabel(choices[0], 'decode');
      return choices[0];
    },
    describe(label: number): string {
      checkLabel(label, 'describe');
      return choiceLetter(label);
    },
  };
}
