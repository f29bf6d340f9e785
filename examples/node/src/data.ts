import type { ClassDataset } from '@mann/episodes';
import { OmniglotDataset, officialSplit, paperSplit, withRandomAffine, withRotatedClasses } from '@mann/omniglot';
import { loadOmniglot } from '@mann/omniglot/node';
import { userFiles } from './args';

export type SplitName = 'paper' | 'official';

export interface DataOptions {
  /** Folder with the Omniglot zips (else OMNIGLOT_DIR, else the per-user cache folder). */
  dir?: string;
  imageSize: number;
  split: SplitName;
  splitSeed: number;
  /** Rotations by 90/180/270 degrees as new classes, and small random rotations and shifts per drawing. */
  augment: boolean;
  /** With `augment`: the random rotation and shift per drawing; false keeps only the rotated classes (default true). */
  affine?: boolean;
  log?: (message: string) => void;
}

export interface OmniglotTask {
  /** Training classes (augmented when asked). */
  train: ClassDataset;
  /** Held-out classes, never augmented. */
  test: ClassDataset;
  describe: string;
}

/** Loads Omniglot and splits it into training and held-out classes, as the paper does (or the official split). */
export async function loadTask(options: DataOptions): Promise<OmniglotTask> {
  const started = Date.now();
  // Its errors about the zips (missing, swapped, damaged) name the file and the fix: the user's to act on.
  const { background, evaluation } = await userFiles(
    () => loadOmniglot({ dir: options.dir, imageSize: options.imageSize, onProgress: options.log }),
    /Omniglot|images_(background|evaluation)/,
  );
  const split = options.split === 'paper' ? paperSplit(background, evaluation, { seed: options.splitSeed }) : officialSplit(background, evaluation);
  const base = new OmniglotDataset(split.train);
  const affine = options.augment && (options.affine ?? true);
  const rotated = options.augment ? withRotatedClasses(base) : base;
  const train = affine ? withRandomAffine(rotated) : rotated;
  const test = new OmniglotDataset(split.test);
  const describe =
    `Omniglot ${options.split} split: ${split.train.length} training characters` +
    `${options.augment ? ` (x4 rotations = ${train.numClasses} classes${affine ? ', random affine per drawing' : ''})` : ''}, ` +
    `${split.test.length} held out; ${options.imageSize}x${options.imageSize} images; loaded in ${((Date.now() - started) / 1000).toFixed(1)}s`;
  return { train, test, describe };
}
