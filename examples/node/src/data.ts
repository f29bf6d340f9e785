import type { ClassDataset } from '@mann/episodes';
import { OmniglotDataset, officialSplit, paperSplit, validationSplit, withRandomAffine, withRotatedClasses } from '@mann/omniglot';
import { loadOmniglot } from '@mann/omniglot/node';
import { UsageError, userFiles } from './args';

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
  /**
   * Training characters taken out for validation (`validationSplit`), never trained on: what a run is judged by
   * while it trains and when its snapshot or recipe is chosen. 0 (the default, and every run before this option):
   * none, every training character trains.
   */
  validation?: number;
  /** Seed of the shuffle that picks the validation characters (default 0). */
  validationSeed?: number;
  log?: (message: string) => void;
}

export interface OmniglotTask {
  /** Training classes (augmented when asked). */
  train: ClassDataset;
  /** Held-out classes, never augmented: scored for a finished model's final table. */
  test: ClassDataset;
  /** Validation classes (taken out of the training characters), never augmented; null without `validation`. */
  validation: ClassDataset | null;
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
  const count = options.validation ?? 0;
  if (count >= split.train.length) {
    throw new UsageError(
      `--validation ${count} would leave no character to train on: the ${options.split} split has ${split.train.length} training characters; set aside fewer.`,
    );
  }
  const kept = count > 0 ? validationSplit(split.train, { count, seed: options.validationSeed ?? 0 }) : { train: split.train, validation: [] };
  const base = new OmniglotDataset(kept.train);
  const affine = options.augment && (options.affine ?? true);
  const rotated = options.augment ? withRotatedClasses(base) : base;
  const train = affine ? withRandomAffine(rotated) : rotated;
  const test = new OmniglotDataset(split.test);
  const validation = count > 0 ? new OmniglotDataset(kept.validation) : null;
  const describe =
    `Omniglot ${options.split} split: ${kept.train.length} training characters` +
    `${options.augment ? ` (x4 rotations = ${train.numClasses} classes${affine ? ', random affine per drawing' : ''})` : ''}, ` +
    `${count > 0 ? `${count} validation (taken from the training characters, seed ${options.validationSeed ?? 0}), ` : ''}` +
    `${split.test.length} held out; ${options.imageSize}x${options.imageSize} images; loaded in ${((Date.now() - started) / 1000).toFixed(1)}s`;
  return { train, test, validation, describe };
}
