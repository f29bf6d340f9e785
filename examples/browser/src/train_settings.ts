// The Train mode's settings and what a checkpoint trained with them records, plus the messages between the page and
// its training worker. Pure: no DOM, no tfjs (the unit tests run it in Node).
import type { CheckpointManifest } from '@mann/model';
import type { CheckpointFiles } from './data';
import type { CurvePoint } from './learning_curve';

/** What the Train mode trains and how. */
export interface TrainSettings {
  /** LSTM controller units. */
  controllerUnits: number;
  /** Memory slots x width, read/write heads. */
  memorySlots: number;
  memoryWidth: number;
  heads: number;
  /** LRUA: zero every least-used slot before writing (the short run's rule) or only the least-used one (the paper's). */
  clearing: 'all-least-used' | 'least-used';
  /** Classes per episode and instances of each: the paper's 5 and 10. */
  ways: number;
  shots: number;
  /** Episodes per batch. */
  batchSize: number;
  /** Adam's learning rate; gradients clipped to global norm `clipNorm`. */
  learningRate: number;
  clipNorm: number;
  /** Seed of the weights and of the training episodes. */
  seed: number;
  /** Evaluate every this many batches, on this many episodes of the validation characters (same episodes each time). */
  evalEvery: number;
  evalEpisodes: number;
  /** Training characters set aside for the evaluation, never trained on, as `mann train --validation` does. */
  validation: number;
  validationSeed: number;
}

/**
 * The README's "A short run" model (`--units 64 --slots 64 --width 20 --heads 2 --clearing all-least-used`, batches of
 * 16) at learning rate 1e-2 instead of 3e-3: in headless Chromium on a 2-core machine its 2nd instance passed its
 * 1st after 1,200 batches (about 2.5 minutes), where 3e-3 had not after 3,000 batches of 8 (4 minutes);
 * examples/browser/README.md, "Train", has the measurements.
 */
export const DEFAULT_TRAIN_SETTINGS: Readonly<TrainSettings> = {
  controllerUnits: 64,
  memorySlots: 64,
  memoryWidth: 20,
  heads: 2,
  clearing: 'all-least-used',
  ways: 5,
  shots: 10,
  batchSize: 16,
  learningRate: 1e-2,
  clipNorm: 10,
  seed: 0,
  evalEvery: 100,
  evalEpisodes: 96,
  validation: 100,
  validationSeed: 0,
};

/** URL parameters that change a setting (`?train-batch=16&train-lr=0.001`), for experiments; the rest stay default. */
const QUERY_KEYS: Record<string, keyof TrainSettings> = {
  'train-units': 'controllerUnits',
  'train-slots': 'memorySlots',
  'train-width': 'memoryWidth',
  'train-heads': 'heads',
  'train-batch': 'batchSize',
  'train-lr': 'learningRate',
  'train-seed': 'seed',
  'train-eval-every': 'evalEvery',
  'train-eval-episodes': 'evalEpisodes',
};

/**
 * The settings with any `train-*` URL parameters applied (`location.search`). Throws one line naming a parameter
 * that is not a positive number (the seed may be 0), or that asks for a non-integer where one is needed.
 */
export function settingsFromQuery(search: string, base: Readonly<TrainSettings> = DEFAULT_TRAIN_SETTINGS): TrainSettings {
  const settings = { ...base };
  const params = new URLSearchParams(search);
  for (const [name, key] of Object.entries(QUERY_KEYS)) {
    const text = params.get(name);
    if (text === null) continue;
    const value = Number(text);
    const integer = key !== 'learningRate';
    const ok = Number.isFinite(value) && (key === 'seed' ? value >= 0 : value > 0) && (!integer || Number.isInteger(value));
    if (!ok) throw new Error(`The URL parameter ${name}=${text} is not ${integer ? 'a whole number' : 'a number'} ${key === 'seed' ? '>= 0' : '> 0'}.`);
    (settings as Record<string, unknown>)[key] = value;
  }
  const clearing = params.get('train-clearing');
  if (clearing !== null) {
    if (clearing !== 'all-least-used' && clearing !== 'least-used') throw new Error(`The URL parameter train-clearing=${clearing} is not all-least-used or least-used.`);
    settings.clearing = clearing;
  }
  return settings;
}

/** The model configuration the settings train (`new MemoryAugmentedNetwork(modelConfig(settings, imageSize))`). */
export function modelConfig(settings: TrainSettings, imageSize: number) {
  return {
    kind: 'mann' as const,
    controller: 'lstm' as const,
    addressing: 'lrua' as const,
    controllerUnits: settings.controllerUnits,
    memorySlots: settings.memorySlots,
    memoryWidth: settings.memoryWidth,
    heads: settings.heads,
    clearing: settings.clearing,
    labels: 'one-hot' as const,
    ways: settings.ways,
    imageSize,
    seed: settings.seed,
  };
}

/** Which split the training characters come from (the build's `assets.training.split`). */
export type TrainingSplit = { kind: 'paper'; seed: number } | { kind: 'official' };

/**
 * The run options a checkpoint trained here records in `training.run`, shaped like `mann train`'s (RunOptions in
 * examples/node/src/train.ts), so that `mann eval` rebuilds the same held-out and validation characters and
 * `mann train --resume` can continue the run (`steps`: the batches trained so far; give `--steps` to go on).
 */
export function runRecord(settings: TrainSettings, split: TrainingSplit, imageSize: number, step: number) {
  return {
    model: modelConfig(settings, imageSize),
    shots: settings.shots,
    batch: settings.batchSize,
    steps: step,
    optimizer: 'adam' as const,
    learningRate: settings.learningRate,
    learningRateSchedule: [],
    clipNorm: settings.clipNorm,
    seed: settings.seed,
    backend: 'wasm' as const,
    path: 'fast' as const,
    workers: 0,
    split: split.kind,
    splitSeed: split.kind === 'paper' ? split.seed : 0,
    augment: true,
    affine: true,
    validation: settings.validation,
    validationSeed: settings.validationSeed,
    curriculum: false,
    logEvery: 50,
    evalEvery: settings.evalEvery,
    evalEpisodes: settings.evalEpisodes,
    checkpointEvery: 500,
    /** Not read by `mann`: where the run trained. */
    trainedIn: 'browser (examples/browser, Train mode)',
  };
}

/** The settings a checkpoint trained here was trained with (to continue it after a reload), or null for another. */
export function settingsOfCheckpoint(manifest: CheckpointManifest): TrainSettings | null {
  const run = manifest.training.run as Partial<ReturnType<typeof runRecord>> | undefined;
  const config = manifest.config;
  if (!run || typeof run.trainedIn !== 'string' || config.kind !== 'mann' || config.labels !== 'one-hot') return null;
  return {
    controllerUnits: config.controllerUnits,
    memorySlots: config.memorySlots,
    memoryWidth: config.memoryWidth,
    heads: config.heads,
    clearing: config.clearing === 'least-used' ? 'least-used' : 'all-least-used',
    ways: config.ways,
    shots: run.shots ?? DEFAULT_TRAIN_SETTINGS.shots,
    batchSize: run.batch ?? DEFAULT_TRAIN_SETTINGS.batchSize,
    learningRate: run.learningRate ?? DEFAULT_TRAIN_SETTINGS.learningRate,
    clipNorm: run.clipNorm ?? DEFAULT_TRAIN_SETTINGS.clipNorm,
    seed: run.seed ?? 0,
    evalEvery: run.evalEvery ?? DEFAULT_TRAIN_SETTINGS.evalEvery,
    evalEpisodes: run.evalEpisodes ?? DEFAULT_TRAIN_SETTINGS.evalEpisodes,
    validation: run.validation ?? DEFAULT_TRAIN_SETTINGS.validation,
    validationSeed: run.validationSeed ?? 0,
  };
}

/** One line for the page: what is trained, how. */
export function describeSettings(settings: TrainSettings): string {
  return (
    `MANN: LSTM ${settings.controllerUnits}, memory ${settings.memorySlots} x ${settings.memoryWidth}, ${settings.heads} heads ` +
    `(clearing ${settings.clearing === 'all-least-used' ? 'every least-used slot' : 'the least-used slot'}); ` +
    `Adam, learning rate ${settings.learningRate}, ${settings.batchSize} episodes of ${settings.ways} classes x ${settings.shots} per batch`
  );
}

// ---------------------------------------------------------------- messages

/** Where the worker fetches the training characters (absolute URLs). */
export interface TrainingData {
  indexUrl: string;
  indexSha256: string;
  imageSize: number;
  split: TrainingSplit;
}

/** Page -> worker. */
export type ToWorker =
  | {
      type: 'start';
      settings: TrainSettings;
      data: TrainingData;
      /** URLs of tfjs' three .wasm files (the page's, made absolute). */
      wasmPaths: Record<string, string>;
      /** A checkpoint trained here earlier (with its optimiser state), to continue. */
      resume?: CheckpointFiles;
    }
  | { type: 'pause' }
  | { type: 'resume' }
  /** A snapshot of the model now; `optimizer`: with Adam's state (to continue training it later). */
  | { type: 'checkpoint'; id: number; optimizer: boolean };

/** Worker -> page. */
export type FromWorker =
  | { type: 'loading'; text: string }
  | {
      type: 'ready';
      step: number;
      parameters: number;
      /** `fastPathParts(model).description`: which parts run fast, and whether the memory step is WebAssembly SIMD. */
      fastPath: string;
      backend: string;
      /** The training and validation characters. */
      data: string;
      curve: CurvePoint[];
    }
  | { type: 'progress'; step: number; msPerBatch: number; loss: number }
  | { type: 'evaluation'; point: CurvePoint }
  | { type: 'paused'; step: number }
  | { type: 'checkpoint'; id: number; checkpoint: CheckpointFiles }
  | { type: 'error'; message: string; id?: number };
