/**
 * One Omniglot character (a class): every drawing of it, decoded and resized.
 *
 * `pixels` holds `drawers.length` images of `imageSize x imageSize` bytes, one after the other, row-major,
 * ink = 255 and background = 0 (the area-averaged ink fraction times 255, rounded). Drawing `k` is
 * `pixels.subarray(k * imageSize * imageSize, (k + 1) * imageSize * imageSize)` and was drawn by `drawers[k]`.
 */
export interface OmniglotCharacter {
  /** Alphabet folder name, e.g. 'Alphabet_of_the_Magi'. */
  readonly alphabet: string;
  /** Character folder name, e.g. 'character01'. */
  readonly character: string;
  /**
   * Which archive it came from: the zip's top folder without its `images_` prefix ('background', 'evaluation',
   * or e.g. 'background_small1' for the authors' small subsets).
   */
  readonly set: string;
  /** Drawer numbers (the `_NN` of `<id>_NN.png`), ascending. */
  readonly drawers: readonly number[];
  /** `drawers.length * imageSize * imageSize` bytes, 0..255, ink high. */
  readonly pixels: Uint8Array;
}

/** The characters of one archive, sorted by alphabet then character. */
export interface OmniglotSet {
  /** Where it came from (a file name or the `name` given to the reader), for messages. */
  readonly source: string;
  /** Side of every stored image, in pixels. */
  readonly imageSize: number;
  /** Every character of the archive, sorted by alphabet, then character. */
  readonly characters: readonly OmniglotCharacter[];
}

/** Training and test characters: build datasets with `new OmniglotDataset(split.train)`. */
export interface OmniglotSplit {
  /** The characters to train on. */
  readonly train: OmniglotCharacter[];
  /** The held-out characters, to test on. */
  readonly test: OmniglotCharacter[];
}

/** Side of every Omniglot drawing as the authors publish it. */
export const OMNIGLOT_SOURCE_SIZE = 105;

/** Image side the paper (and this package by default) downsamples to. */
export const DEFAULT_IMAGE_SIZE = 20;

/** What the two official archives contain; a reader refuses anything short of it. */
export const OFFICIAL_COUNTS: Readonly<
  Record<
    'background' | 'evaluation',
    {
      /** Characters (classes) in the archive. */
      characters: number;
      /** Drawings of each character: one per drawer. */
      drawers: number;
    }
  >
> = {
  background: { characters: 964, drawers: 20 },
  evaluation: { characters: 659, drawers: 20 },
};
