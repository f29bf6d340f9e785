import type { LabelEncoding } from './label_encoding';
import { choiceLetter } from './label_encoding';
import { pickDistinct, type Random } from './random';

/** Options of `stringLabels`. */
export interface StringLabelsOptions {
  /** G: characters per label (default 5). */
  length?: number;
  /** C: letters in the alphabet (default 5). */
  alphabet?: number;
}

/**
 * Labels that are strings of `length` characters over an `alphabet`-letter alphabet (the paper's Table 2:
 * 5 characters over 5 letters, 3125 labels), so an episode can have many classes with a fixed-size output.
 * Label id = the string read as a base-`alphabet` number, first character most significant
 * ('aaaab' = 1, 'baaaa' = 625). Each episode gives its classes `ways` distinct random strings.
 *
 * ```ts
 * const labels = stringLabels(); // 5 x 5
 * const id = labels.assign(15, createRandom(0))[0];
 * labels.describe(id); // e.g. 'adbbe'
 * const choices = new Int32Array(5);
 * labels.targets(id, choices, 0);
 * labels.decode(choices) === id; // true
 * ```
 */
export function stringLabels({ length = 5, alphabet = 5 }: StringLabelsOptions = {}): LabelEncoding {
  if (!Number.isInteger(length) || length < 1) {
    throw new Error(`stringLabels: length must be a positive integer, got ${length}`);
  }
  if (!Number.isInteger(alphabet) || alphabet < 2) {
    throw new Error(`stringLabels: alphabet must be an integer >= 2, got ${alphabet}`);
  }
  const count = alphabet ** length;
  // Ids run from 0 to count - 1, and an Int32Array holds up to 2^31 - 1.
  if (count > 2 ** 31) {
    throw new Error(
      `stringLabels: ${alphabet}^${length} = ${count} labels do not fit the Int32Array label ids; use shorter strings`,
    );
  }
  const describeEncoding = `stringLabels({ length: ${length}, alphabet: ${alphabet} })`;
  const checkLabel = (label: number, caller: string): void => {
    if (!Number.isInteger(label) || label < 0 || label >= count) {
      throw new Error(`${describeEncoding}.${caller}: label must be an integer in [0, ${count}), got ${label}`);
    }
  };
  // Writes the base-`alphabet` digits of `label`, most significant first, through `write(group, digit)`.
  const forEachDigit = (label: number, write: (group: number, digit: number) => void): void => {
    let rest = label;
    for (let group = length - 1; group >= 0; group--) {
      write(group, rest % alphabet);
      rest = Math.floor(rest / alphabet);
    }
  };
  return {
    name: 'string',
    groups: length,
    choices: alphabet,
    size: length * alphabet,
    assign(ways: number, random: Random): Int32Array {
      if (!Number.isInteger(ways) || ways < 1) {
        throw new Error(`${describeEncoding}.assign: ways must be a positive integer, got ${ways}`);
      }
      if (ways > count) {
        throw new Error(
          `${describeEncoding}.assign: cannot give ${ways} classes distinct labels: ` +
            `only ${count} strings of ${length} characters over ${alphabet} letters exist`,
        );
      }
      return pickDistinct(count, ways, random);
    },
    encode(label: number, out: Float32Array, offset: number): void {
      checkLabel(label, 'encode');
      out.fill(0, offset, offset + length * alphabet);
      forEachDigit(label, (group, digit) => {
        out[offset + group * alphabet + digit] = 1;
      });
    },
    targets(label: number, out: Int32Array, offset: number): void {
      checkLabel(label, 'targets');
      forEachDigit(label, (group, digit) => {
        out[offset + group] = digit;
      });
    },
    decode(choices: ArrayLike<number>): number {
      if (choices.length !== length) {
        throw new Error(`${describeEncoding}.decode: expected ${length} choice indices, got ${choices.length}`);
      }
      let label = 0;
      for (let group = 0; group < length; group++) {
        const digit = choices[group];
        if (!Number.isInteger(digit) || digit < 0 || digit >= alphabet) {
          throw new Error(
            `${describeEncoding}.decode: choice ${group} must be an integer in [0, ${alphabet}), got ${digit}`,
          );
        }
        label = label * alphabet + digit;
      }
      return label;
    },
    describe(label: number): string {
      checkLabel(label, 'describe');
      let text = '';
      forEachDigit(label, (_group, digit) => {
        text = choiceLetter(digit) + text;
      });
      return text;
    },
  };
}
