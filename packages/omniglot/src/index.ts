/**
 * The Omniglot handwritten characters (Lake et al. 2015), read straight from the authors' zips, in Node and in
 * browsers: decoded, resized, split into training and test characters, and augmented. Finding, downloading and
 * caching the zips, which needs Node, is in `@mann/omniglot/node`.
 *
 * @module @mann/omniglot
 */
export type { OmniglotCharacter, OmniglotSet, OmniglotSplit } from './types';
export { DEFAULT_IMAGE_SIZE, OFFICIAL_COUNTS, OMNIGLOT_SOURCE_SIZE } from './types';
export { readOmniglotZip } from './read_omniglot_zip';
export type { ReadOmniglotZipOptions } from './read_omniglot_zip';
export { resizeByAreaAverage } from './area_resize';
export { decodeInk } from './decode_ink';
export { OmniglotDataset } from './omniglot_dataset';
export { characterKey, officialSplit, paperSplit, validationSplit } from './splits';
export type { PaperSplitOptions, ValidationSplit, ValidationSplitOptions } from './splits';
export { mulberry32, seededShuffle } from './seeded_shuffle';
export { rotateQuarterTurns, withRotatedClasses } from './rotated_classes';
export { affineTransform, withRandomAffine } from './random_affine';
export type { RandomAffineOptions } from './random_affine';
