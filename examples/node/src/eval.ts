import { resolve } from 'node:path';
import { useBackend } from '@mann/backend';
import { formatAccuracyTable, type ErrorBreakdownSummary, type InstanceAccuracySummary } from '@mann/episodes';
import { cutMemoryReads, evaluateModel, evaluateNearestNeighbour } from '@mann/model';
import { loadCheckpoint } from '@mann/model/node';
import { CHECKPOINT_ERRORS, UsageError, choice, integer, parse, userFiles } from './args';
import { loadTask } from './data';
import type { RunOptions } from './train';
import { Progress } from './progress';

export const EVAL_HELP = `mann eval --checkpoint DIR [options]: the paper's table on held-out Omniglot classes
mann eval --knn [--ways N --labels one-hot|string --shots K]: the kNN baseline alone, on any episode settings

  --checkpoint DIR        a checkpoint folder (manifest.json + weights), e.g. runs/<run>/checkpoint
  --set test|validation   which characters: test, the held-out ones the final table reports (default); or
                          validation, the training characters the run set aside (mann train --validation), to
                          choose a snapshot or a recipe without looking at the test characters
  --episodes N            test episodes (1000)
  --batch B               episodes per batch (16)
  --seed N                seed of the test episodes (1): the same seed gives the same episodes
  --knn                   also measure the k-nearest-neighbour baseline on the same episodes; without
                          --checkpoint, measure it alone on episodes of --ways N classes (5), --labels
                          one-hot|string (one-hot) and --shots K instances per class (10), 20x20 images, the
                          paper's split (a row of the paper's tables that needs no training)
  --errors                also say why answers were wrong: confusions between classes already shown, and
                          2nd-instance accuracy by the number of steps since the 1st (does the model forget?)
  --cut-reads             evaluate with the memory's reads cut off (their weights zeroed): how much the trained
                          model relies on what it reads
  --json                  print the figures as JSON on stdout
  --backend wasm|cpu      tfjs backend (wasm)
  --data DIR              folder with the Omniglot zips (else $OMNIGLOT_DIR, else ~/.cache/mann/omniglot)`;

export interface EvalReport {
  checkpoint: string;
  step: number;
  episodes: number;
  seed: number;
  split: string;
  /** Which characters were scored: 'test' (held out) or 'validation' (set aside from the training characters). */
  set: EvalSet;
  model: Record<string, unknown>;
  /** True when the memory's reads were cut off (--cut-reads). */
  cutReads?: boolean;
  accuracy: InstanceAccuracySummary[];
  loss: number;
  knn?: InstanceAccuracySummary[];
  /** With --errors: why the model's wrong answers were wrong. */
  errors?: ErrorBreakdownSummary;
  seconds: number;
}

/** The characters `mann eval` scores. */
export type EvalSet = 'test' | 'validation';

export async function evaluate(argv: string[]): Promise<EvalReport | NearestNeighbourReport | undefined> {
  const { values } = parse('eval', argv, {
    checkpoint: { type: 'string' },
    set: { type: 'string' },
    episodes: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    knn: { type: 'boolean' },
    errors: { type: 'boolean' },
    'cut-reads': { type: 'boolean' },
    json: { type: 'boolean' },
    backend: { type: 'string' },
    data: { type: 'string' },
    ways: { type: 'string' },
    labels: { type: 'string' },
    shots: { type: 'string' },
  });
  if (values.help) {
    console.log(EVAL_HELP);
    return undefined;
  }
  const episodeSettings = (['ways', 'labels', 'shots'] as const).filter((name) => values[name] !== undefined);
  if (!values.checkpoint && values.knn) {
    for (const name of ['set', 'errors', 'cut-reads'] as const) {
      if (values[name]) throw new UsageError(`--${name} needs --checkpoint: the kNN baseline alone scores the held-out characters, and has no memory or errors breakdown.`);
    }
    return evaluateNearestNeighbourAlone({
      ways: integer('ways', values.ways, 5, 2),
      labels: choice('labels', values.labels, ['one-hot', 'string'] as const, 'one-hot'),
      shots: integer('shots', values.shots, 10),
      episodes: integer('episodes', values.episodes, 1000),
      batch: integer('batch', values.batch, 16),
      seed: integer('seed', values.seed, 1, 0),
      json: Boolean(values.json),
      data: values.data,
    });
  }
  if (!values.checkpoint) throw new UsageError('mann eval needs --checkpoint DIR (a folder with manifest.json), or --knn alone. See `mann eval --help`.');
  if (episodeSettings.length > 0) {
    throw new UsageError(`--${episodeSettings[0]} goes with --knn alone: with --checkpoint the episodes are the checkpoint's (its classes, labels and instances per class).`);
  }
  return evaluateCheckpoint({
    checkpoint: resolve(values.checkpoint),
    set: choice('set', values.set, ['test', 'validation'] as const, 'test'),
    episodes: integer('episodes', values.episodes, 1000),
    batch: integer('batch', values.batch, 16),
    seed: integer('seed', values.seed, 1, 0),
    knn: Boolean(values.knn),
    errors: Boolean(values.errors),
    cutReads: Boolean(values['cut-reads']),
    json: Boolean(values.json),
    backend: choice('backend', values.backend, ['wasm', 'cpu'] as const, 'wasm'),
    data: values.data,
  });
}

export interface EvaluateCheckpointOptions {
  checkpoint: string;
  /** The characters to score (default 'test'). */
  set?: EvalSet;
  episodes: number;
  batch: number;
  seed: number;
  knn: boolean;
  /** Add the error breakdown (`ErrorBreakdown`) to the report and the printout. */
  errors?: boolean;
  /** Zero the weights through which the memory's reads enter (`cutMemoryReads`) before evaluating. */
  cutReads?: boolean;
  json: boolean;
  backend: 'wasm' | 'cpu';
  data?: string;
}

export async function evaluateCheckpoint(options: EvaluateCheckpointOptions): Promise<EvalReport> {
  const started = Date.now();
  await useBackend(options.backend);
  const log = options.json ? () => {} : (message: string) => console.error(message);
  const { model, training } = await userFiles(() => loadCheckpoint(options.checkpoint), CHECKPOINT_ERRORS);
  if (options.cutReads) {
    if (!model.addressing) throw new UsageError(`--cut-reads needs a model with memory; ${options.checkpoint} holds a ${model.config.kind} model.`);
    cutMemoryReads(model);
  }
  const run = training.run as Partial<RunOptions> | undefined;
  const shots = run?.shots ?? 10;
  const set = options.set ?? 'test';
  if (set === 'validation' && !run?.validation) {
    model.dispose();
    throw new UsageError(
      `--set validation: ${options.checkpoint} was trained on every training character (its run set none aside, ` +
        'as runs did before `mann train --validation`), so it has no validation characters; score it with --set test.',
    );
  }
  const task = await loadTask({
    dir: options.data ?? run?.data,
    imageSize: model.config.imageSize,
    split: run?.split ?? 'paper',
    splitSeed: run?.splitSeed ?? 0,
    augment: false,
    validation: run?.validation ?? 0,
    validationSeed: run?.validationSeed ?? 0,
    log,
  });
  log(task.describe);
  const dataset = set === 'validation' ? task.validation! : task.test;
  const setName = set === 'validation' ? `validation episodes (${dataset.numClasses} characters set aside from training)` : 'held-out episodes';
  const progress = options.json ? undefined : new Progress(options.episodes);
  const result = evaluateModel(model, {
    dataset,
    episodes: options.episodes,
    shots,
    batchSize: options.batch,
    seed: options.seed,
    onProgress: (done) => progress?.update(done, 'episodes'),
  });
  progress?.done();
  const report: EvalReport = {
    checkpoint: options.checkpoint,
    step: training.step,
    episodes: options.episodes,
    seed: options.seed,
    split: run?.split ?? 'paper',
    set,
    model: { ...model.config },
    ...(options.cutReads ? { cutReads: true } : {}),
    accuracy: result.accuracy.summary(),
    loss: result.loss,
    ...(options.errors ? { errors: result.errors.summary() } : {}),
    seconds: 0,
  };
  if (options.knn) {
    report.knn = evaluateNearestNeighbour(model.config, { dataset, episodes: options.episodes, shots, batchSize: options.batch, seed: options.seed }).accuracy.summary();
  }
  model.dispose();
  report.seconds = (Date.now() - started) / 1000;
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`${model.config.kind}${options.cutReads ? ' with its memory reads cut off' : ''} after ${training.step} training batches, ${options.episodes} ${setName} (seed ${options.seed}), accuracy % by instance, 95% interval:`);
    console.log(formatAccuracyTable(report.accuracy, { label: model.config.kind }));
    if (report.knn) console.log(formatAccuracyTable(report.knn, { label: 'kNN (1-NN, raw pixels)' }));
    if (report.errors) console.log(formatErrorBreakdown(report.errors));
  }
  return report;
}

/** What `mann eval --knn` without a checkpoint measures: the kNN baseline on episodes of these settings. */
export interface NearestNeighbourOptions {
  ways: number;
  labels: 'one-hot' | 'string';
  shots: number;
  episodes: number;
  batch: number;
  seed: number;
  json: boolean;
  data?: string;
}

/** What `mann eval --knn` without a checkpoint reports (JSON with --json). */
export interface NearestNeighbourReport {
  episodes: number;
  seed: number;
  split: 'paper';
  set: 'test';
  ways: number;
  labels: 'one-hot' | 'string';
  shots: number;
  knn: InstanceAccuracySummary[];
  seconds: number;
}

/**
 * The kNN baseline alone (1-nearest neighbour on raw pixels among the episode's earlier images) on held-out episodes
 * of the given settings: needs no training, so a row of the paper's tables (Table 2's string labels, 15 classes)
 * is measured without a checkpoint. Episodes with the same settings and seed are those `mann eval --knn` scores with a
 * checkpoint of those settings.
 */
export async function evaluateNearestNeighbourAlone(options: NearestNeighbourOptions): Promise<NearestNeighbourReport> {
  const started = Date.now();
  const log = options.json ? () => {} : (message: string) => console.error(message);
  const task = await loadTask({ dir: options.data, imageSize: 20, split: 'paper', splitSeed: 0, augment: false, validation: 0, validationSeed: 0, log });
  log(task.describe);
  if (task.test.numClasses < options.ways) {
    throw new UsageError(`--ways ${options.ways} is more classes than the ${task.test.numClasses} held-out characters.`);
  }
  const result = evaluateNearestNeighbour(
    { ways: options.ways, labels: options.labels },
    { dataset: task.test, episodes: options.episodes, shots: options.shots, batchSize: options.batch, seed: options.seed },
  );
  const report: NearestNeighbourReport = {
    episodes: options.episodes,
    seed: options.seed,
    split: 'paper',
    set: 'test',
    ways: options.ways,
    labels: options.labels,
    shots: options.shots,
    knn: result.accuracy.summary(),
    seconds: (Date.now() - started) / 1000,
  };
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(
      `kNN (1-NN, raw pixels), ${options.ways} classes, ${options.labels} labels, ${options.shots} instances per class, ` +
        `${options.episodes} held-out episodes (seed ${options.seed}), accuracy % by instance, 95% interval:`,
    );
    console.log(formatAccuracyTable(report.knn, { label: 'kNN (1-NN, raw pixels)' }));
  }
  return report;
}

const percent = (part: number, whole: number): string => (whole ? `${((100 * part) / whole).toFixed(1)}%` : 'n/a');

/** The `--errors` printout: where the wrong answers went, and 2nd-instance accuracy by gap. */
export function formatErrorBreakdown(errors: ErrorBreakdownSummary): string {
  const { firstInstances, laterInstanceErrors, gapBucket, secondInstanceByGap } = errors;
  const wrong = laterInstanceErrors.confusedWithShownClass + laterInstanceErrors.other;
  const lines = [
    `Wrong answers at the 2nd instance and later: ${wrong}; ${percent(laterInstanceErrors.confusedWithShownClass, wrong)} ` +
      `named another class already shown (a confusion), ${percent(laterInstanceErrors.other, wrong)} a label not shown yet.`,
    `1st instances answered with a label already shown: ${percent(firstInstances.answeredShownLabel, firstInstances.steps)} ` +
      `(${firstInstances.answeredShownLabel} of ${firstInstances.steps}; a model sure a class is new answers 0%).`,
    '2nd-instance accuracy by steps since the 1st:',
    ...secondInstanceByGap.map(
      ({ gap, steps, accuracy }) => `  ${`${gap}-${gap + gapBucket - 1}`.padStart(6)}  ${(100 * accuracy).toFixed(1).padStart(5)}%  (${steps} steps)`,
    ),
  ];
  return lines.join('\n');
}
