import type { Random } from './random';

/**
 * How an episode's labels are drawn, fed back to the network and predicted. A label is an integer id; on the
 * wire it is G groups of C choices: the input y_{t-1} is G concatenated one-hots of size C (G * C numbers),
 * and the output is G independent C-way softmaxes, right only if every group is.
 */
export interface LabelEncoding {
  /** 'one-hot' (G = 1, C = N) or 'string' (G = string length, C = alphabet size). */
  readonly name: 'one-hot' | 'string';
  /** G: softmax groups of a label. */
  readonly groups: number;
  /** C: choices per group. */
  readonly choices: number;
  /** G * C: numbers in an encoded label. */
  readonly size: number;
  /** `ways` distinct label ids in random order, one per class slot of an episode (fresh every episode). */
  assign(ways: number, random: Random): Int32Array;
  /** Writes the label's G concatenated one-hots to `out[offset .. offset + size)` (all `size` numbers). */
  encode(label: number, out: Float32Array, offset: number): void;
  /** Writes the label's G choice indices to `out[offset .. offset + groups)`. */
  targets(label: number, out: Int32Array, offset: number): void;
  /** The label id whose choice indices are `choices` (G of them): the inverse of `targets`. */
  decode(choices: ArrayLike<number>): number;
  /** The label as text, one letter per group: 'c' (one-hot label 2) or 'adbbe' (a string). */
  describe(label: number): string;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** The letter of choice `index` (a = 0), or `<index>` past z. */
export function choiceLetter(index: number): string {
  return index < LETTERS.length ? LETTERS[index] : `<${index}>`;
}
