import { appendFile, mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type BackendName } from '@mann/backend';
import { InstanceAccuracy, createRandom, curriculum, formatAccuracyTable, restoreRandom, sampleEpisodes, type Random } from '@mann/episodes';
import { DivergenceError, MemoryAugmentedNetwork, Trainer, evaluateModel, fastPathParts, labelEncodingFor, resolveConfig, type ModelConfig } from '@mann/model';
import { ParallelTrainer, loadCheckpoint, readCheckpointManifest, saveCheckpoint } from '@mann/model/node';
import { CHECKPOINT_ERRORS, Interrupted, UsageError, choice, integer, number, parse, userFiles } from './args';
import { loadTask, type SplitName } from './data';
import { Progress, formatDuration } from './progress';
import { holdsRun, lockRunFolder, removeCheckpointTemporaries, removeRun, repairMetrics } from './run_folder';
import { describeMatMul } from './relaxed_simd';

export const TRAIN_HELP = `mann train [options]: train a MANN (or a baseline) on Omniglot episodes

Model (defaults: the paper's)
  --model mann|lstm|feed-forward   network; lstm and feed-forward are the memoryless baselines (mann)
  --controller lstm|feed-forward   the MANN's controller (lstm)
  --addressing lrua|ntm            memory addressing (lrua)
  --write-vector key|add           what an LRUA head writes: its read key (the paper) or a separate add vector (key)
  --clearing least-used|all-least-used
                                   LRUA: zero only the least-used slot before each write (the paper) or all H slots of
                                   the least-used mask (the PyTorch reference) (least-used); adds no weights, so it
                                   can be given to --resume
  --labels one-hot|string          label encoding (one-hot)
  --ways N                         classes per episode (5)
  --shots K                        instances per class per episode (10)
  --units N  --slots N  --width N  --heads N  --decay G   controller units (200), memory 128 x 40, 4 heads, usage decay 0.95
  --image-size S                   input image side (20)
  --curriculum                     grow the classes per episode from --ways by 1 every 10,000 episodes (string labels)
Training
  --steps N                        total training batches (10000)
  --batch B                        episodes per batch (16)
  --optimizer adam|rmsprop         (adam)   --lr X  learning rate (1e-3 for adam, 1e-4 for rmsprop)
  --lr-schedule STEP:LR[,...]      lower the learning rate during the run, each LR from that many batches on, e.g.
                                   --lr 3e-3 --lr-schedule 20000:1e-3,22500:3e-4 (none); --lr alone on --resume
                                   drops a run's schedule, --lr-schedule none too
  --clip X                         clip gradients to global norm X, 0 = off (10)
  --seed N                         seed of weights and episodes (0)
  --backend wasm|cpu               tfjs backend (wasm)
  --path fast|plain                fast: the recurrence as one op composed from each part's fast implementation, with
                                   hand-written gradients (same maths, 8-20x faster; every model); plain: every op
                                   through tfjs (fast)
  --workers N                      split each batch's episodes over N worker threads (same maths; about 1.1-1.2x
                                   on 2 cores, see docs/benchmarks.md); 0 = train in the main thread (0)
Data
  --data DIR                       folder with the Omniglot zips (else $OMNIGLOT_DIR, else ~/.cache/mann/omniglot)
  --split paper|official           paper: 1200 training / 423 held-out characters (paper)
  --no-augment                     no rotated classes, no random affine
  --no-affine                      keep the rotated classes, drop the random rotation and shift per drawing (the
                                   held-out drawings are never distorted); can be given to --resume
  --validation N                   take N training characters out for validation, never trained on (100; 0 = none):
                                   the periodic evaluation scores them, and snapshots and recipes are chosen on them,
                                   not on the held-out characters the final table reports; fixed when a run starts
Output
  --out DIR                        run folder: checkpoint/ and metrics.jsonl (runs/<model>-<time>); a folder that
                                   already holds a run is refused
  --overwrite                      with --out: removes the run already in DIR (its checkpoint/ and metrics.jsonl)
                                   and starts a new one there
  --resume DIR                     continue the run in DIR (its checkpoint and options) up to --steps, in place;
                                   --out, --overwrite, --seed, --decay, --validation and the model's shape cannot
                                   go with it
  --log-every N                    progress line and metrics every N batches (50)
  --eval-every N                   evaluate every N batches (1000), 0 = never: on the validation characters, or on
                                   the held-out ones with --validation 0
  --eval-episodes N                episodes per periodic evaluation (160)
  --checkpoint-every N             save every N batches (500); Ctrl-C (or SIGTERM) also saves, then exits 130 (143)`;

/** The options of a run, stored in its checkpoint so that --resume needs nothing else. */
export interface RunOptions {
  model: Partial<ModelConfig>;
  shots: number;
  batch: number;
  steps: number;
  optimizer: 'adam' | 'rmsprop';
  learningRate: number;
  /** Later learning rates, by the batch they start from (absent in older runs: none). */
  learningRateSchedule?: LearningRateChange[];
  clipNorm: number;
  seed: number;
  backend: BackendName;
  path: 'fast' | 'plain';
  /** Worker threads for ParallelTrainer; 0 (or absent, in older runs) trains in the main thread. */
  workers?: number;
  data?: string;
  split: SplitName;
  splitSeed: number;
  augment: boolean;
  /** With augment: the random affine per drawing (absent in older runs: true). */
  affine?: boolean;
  /** Training characters taken out for validation (absent in older runs: 0, every training character trained). */
  validation?: number;
  /** Seed of the validation characters' choice (absent: 0). */
  validationSeed?: number;
  curriculum: boolean;
  logEvery: number;
  evalEvery: number;
  evalEpisodes: number;
  checkpointEvery: number;
}

/** From `step` batches on, train at `learningRate`. */
export interface LearningRateChange {
  step: number;
  learningRate: number;
}

/** `--lr-schedule` text ("20000:1e-3,22500:3e-4", or "none") -> the changes, checked (steps increasing, rates positive). */
export function parseLearningRateSchedule(text: string): LearningRateChange[] {
  if (text.trim() === 'none') return [];
  const changes = text.split(',').map((item) => {
    const match = /^\s*(\d+)\s*:\s*([0-9.eE+-]+)\s*$/.exec(item);
    const step = match ? Number(match[1]) : NaN;
    const learningRate = match ? Number(match[2]) : NaN;
    if (!(step >= 1) || !(learningRate > 0 && Number.isFinite(learningRate))) {
      throw new UsageError(`--lr-schedule: "${item}" is not STEP:LR with a whole STEP >= 1 and a positive LR, e.g. --lr-schedule 20000:1e-3,22500:3e-4.`);
    }
    return { step, learningRate };
  });
  for (let i = 1; i < changes.length; i++) {
    if (changes[i].step <= changes[i - 1].step) {
      throw new UsageError(`--lr-schedule: steps must increase, but ${changes[i].step} follows ${changes[i - 1].step}.`);
    }
  }
  return changes;
}

/** The learning rate of the batch after `step` batches: the last scheduled change at or before `step`, else --lr. */
export function learningRateAt(options: Pick<RunOptions, 'learningRate' | 'learningRateSchedule'>, step: number): number {
  let rate = options.learningRate;
  for (const change of options.learningRateSchedule ?? []) if (change.step <= step) rate = change.learningRate;
  return rate;
}

const OPTIONS = {
  model: { type: 'string' },
  controller: { type: 'string' },
  addressing: { type: 'string' },
  'write-vector': { type: 'string' },
  clearing: { type: 'string' },
  labels: { type: 'string' },
  ways: { type: 'string' },
  shots: { type: 'string' },
  units: { type: 'string' },
  slots: { type: 'string' },
  width: { type: 'string' },
  heads: { type: 'string' },
  decay: { type: 'string' },
  'image-size': { type: 'string' },
  curriculum: { type: 'boolean' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  'lr-schedule': { type: 'string' },
  clip: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  path: { type: 'string' },
  workers: { type: 'string' },
  data: { type: 'string' },
  split: { type: 'string' },
  'no-augment': { type: 'boolean' },
  'no-affine': { type: 'boolean' },
  validation: { type: 'string' },
  out: { type: 'string' },
  overwrite: { type: 'boolean' },
  resume: { type: 'string' },
  'log-every': { type: 'string' },
  'eval-every': { type: 'string' },
  'eval-episodes': { type: 'string' },
  'checkpoint-every': { type: 'string' },
} as const;

export function runOptionsFromArgs(values: Record<string, string | boolean | undefined>, base?: RunOptions): RunOptions {
  const v = values as Record<string, string | undefined>;
  const optimizer = choice('optimizer', v.optimizer, ['adam', 'rmsprop'] as const, base?.optimizer ?? 'adam');
  const model: Partial<ModelConfig> = { ...base?.model };
  if (v.model !== undefined) model.kind = choice('model', v.model, ['mann', 'lstm', 'feed-forward'] as const, 'mann');
  if (v.controller !== undefined) model.controller = choice('controller', v.controller, ['lstm', 'feed-forward'] as const, 'lstm');
  if (v.addressing !== undefined) model.addressing = choice('addressing', v.addressing, ['lrua', 'ntm'] as const, 'lrua');
  if (v['write-vector'] !== undefined) model.writeVector = choice('write-vector', v['write-vector'], ['key', 'add'] as const, 'key');
  if (v.clearing !== undefined) model.clearing = choice('clearing', v.clearing, ['least-used', 'all-least-used'] as const, 'least-used');
  if (v.labels !== undefined) model.labels = choice('labels', v.labels, ['one-hot', 'string'] as const, 'one-hot');
  if (v.ways !== undefined) model.ways = integer('ways', v.ways, 5, 2);
  if (v.units !== undefined) model.controllerUnits = integer('units', v.units, 200);
  if (v.slots !== undefined) model.memorySlots = integer('slots', v.slots, 128);
  if (v.width !== undefined) model.memoryWidth = integer('width', v.width, 40);
  if (v.heads !== undefined) model.heads = integer('heads', v.heads, 4);
  if (v.decay !== undefined) model.usageDecay = number('decay', v.decay, 0.95, { min: 0, max: 1 });
  if (v['image-size'] !== undefined) model.imageSize = integer('image-size', v['image-size'], 20);
  if (v.seed !== undefined) model.seed = integer('seed', v.seed, 0, 0);
  return {
    model,
    shots: integer('shots', v.shots, base?.shots ?? 10),
    batch: integer('batch', v.batch, base?.batch ?? 16),
    steps: integer('steps', v.steps, base?.steps ?? 10000),
    optimizer,
    learningRate: number('lr', v.lr, base && base.optimizer === optimizer ? base.learningRate : optimizer === 'adam' ? 1e-3 : 1e-4, { positive: true }),
    // --lr on a resumed run takes over from the run's schedule, unless a new schedule is given with it.
    learningRateSchedule:
      v['lr-schedule'] !== undefined ? parseLearningRateSchedule(v['lr-schedule']) : v.lr !== undefined ? [] : (base?.learningRateSchedule ?? []),
    clipNorm: number('clip', v.clip, base?.clipNorm ?? 10, { min: 0 }),
    seed: integer('seed', v.seed, base?.seed ?? 0, 0),
    backend: choice('backend', v.backend, ['wasm', 'cpu'] as const, (base?.backend as 'wasm' | 'cpu') ?? 'wasm'),
    path: choice('path', v.path, ['fast', 'plain'] as const, base?.path ?? 'fast'),
    workers: integer('workers', v.workers, base?.workers ?? 0, 0),
    data: v.data ?? base?.data,
    split: choice('split', v.split, ['paper', 'official'] as const, base?.split ?? 'paper'),
    splitSeed: base?.splitSeed ?? 0,
    augment: values['no-augment'] ? false : (base?.augment ?? true),
    affine: values['no-augment'] || values['no-affine'] ? false : (base?.affine ?? true),
    // A resumed run keeps its own (runs from before the option: 0, no validation characters).
    validation: base ? (base.validation ?? 0) : integer('validation', v.validation, 100, 0),
    validationSeed: base?.validationSeed ?? 0,
    curriculum: Boolean(values.curriculum) || (base?.curriculum ?? false),
    logEvery: integer('log-every', v['log-every'], base?.logEvery ?? 50),
    evalEvery: integer('eval-every', v['eval-every'], base?.evalEvery ?? 1000, 0),
    evalEpisodes: integer('eval-episodes', v['eval-episodes'], base?.evalEpisodes ?? 160),
    checkpointEvery: integer('checkpoint-every', v['checkpoint-every'], base?.checkpointEvery ?? 500),
  };
}

function accuracyRecord(accuracy: InstanceAccuracy, shots: number): Record<string, number> {
  const record: Record<string, number> = {};
  for (const row of accuracy.summary([1, 2, 3, 4, 5, 10].filter((k) => k <= shots))) record[row.instance] = row.accuracy;
  return record;
}

/** resolveConfig, its complaints (heads > slots, ...) being the user's to fix. */
function checkedConfig(model: Partial<ModelConfig>): ModelConfig {
  try {
    return resolveConfig(model);
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^Model config: /, ''));
  }
}

/** The options that only a MANN uses: the baselines have no memory, so they would be ignored. */
const MEMORY_OPTIONS = ['addressing', 'controller', 'slots', 'width', 'heads', 'clearing', 'write-vector'] as const;

/** Refuses options that the model (`config`: the new run's, or the resumed run's) would ignore, one line each. */
export function checkContradictions(values: Record<string, string | boolean | undefined>, config: Pick<ModelConfig, 'kind' | 'labels'> & { addressing: unknown }): void {
  if (config.kind !== 'mann') {
    for (const name of MEMORY_OPTIONS) {
      if (values[name] !== undefined) throw new UsageError(`--${name} is for --model mann; the ${config.kind} baseline has no memory. Leave out --${name}.`);
    }
  }
  if (config.kind === 'mann' && config.addressing === 'ntm') {
    if (values.clearing !== undefined) throw new UsageError('--clearing is for LRUA addressing; --addressing ntm has no least-used slots. Leave out --clearing.');
    if (values['write-vector'] !== undefined) throw new UsageError('--write-vector is for LRUA addressing; NTM heads always write their own add vectors. Leave out --write-vector.');
  }
  if (values.curriculum && config.labels === 'one-hot') {
    throw new UsageError('--curriculum needs --labels string: a one-hot model has a fixed number of classes (--ways).');
  }
}

export async function train(argv: string[]): Promise<void> {
  const { values } = parse('train', argv, OPTIONS);
  if (values.help) {
    console.log(TRAIN_HELP);
    return;
  }
  const log = (message: string) => console.error(message);
  let options: RunOptions;
  let runDir: string;
  let resumeStep: number | undefined;
  if (values.resume) {
    runDir = resolve(String(values.resume));
    if (values.out !== undefined) throw new UsageError(`--resume continues ${runDir} in place; copy the folder to branch a run (--out cannot go with --resume).`);
    if (values.overwrite) throw new UsageError('--overwrite starts a new run; it cannot go with --resume.');
    for (const name of ['seed', 'decay', 'image-size', 'validation'] as const) {
      if (values[name] !== undefined) throw new UsageError(`--${name} cannot change a resumed run (it was fixed when the run started); start a new run with --out to use another.`);
    }
    const manifest = await userFiles(() => readCheckpointManifest(join(runDir, 'checkpoint')), CHECKPOINT_ERRORS);
    const saved = manifest.training.run as RunOptions | undefined;
    if (!saved) throw new UsageError(`${runDir} has a checkpoint without run options; it was not written by \`mann train\`.`);
    if (values.model || values.controller || values.addressing || values['write-vector'] || values.labels || values.ways || values.units || values.slots || values.width || values.heads) {
      throw new UsageError('--resume continues a run with its own model; model options cannot change. Start a new run with --out instead.');
    }
    checkContradictions(values, manifest.config);
    options = runOptionsFromArgs(values, saved);
    resumeStep = manifest.training.step;
  } else {
    options = runOptionsFromArgs(values);
    const config = checkedConfig(options.model);
    checkContradictions(values, config);
    runDir = resolve(values.out ? String(values.out) : join('runs', `${config.kind}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  }
  if (options.workers) {
    const cap = Math.min(availableParallelism(), options.batch);
    if (options.workers > cap) {
      log(`--workers ${options.workers}: more than ${cap === options.batch ? `the batch's ${cap} episodes` : `this machine's ${cap} cores`}; using ${cap}.`);
      options.workers = cap;
    }
  }

  // One process trains into a run folder at a time: the lock is taken before anything in it is read or changed.
  await mkdir(runDir, { recursive: true });
  const release = await lockRunFolder(runDir, log);
  // Until training installs its own handlers (which save first), a signal just exits, releasing the lock.
  const early = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.on('SIGINT', early);
  process.on('SIGTERM', early);
  try {
    if (resumeStep === undefined && holdsRun(runDir)) {
      if (!values.overwrite) {
        throw new UsageError(
          `${runDir} already holds a run (checkpoint/ or metrics.jsonl): \`mann train --resume ${runDir}\` continues it; ` +
            'or name a new folder with --out, or add --overwrite to remove that run and start again.',
        );
      }
      await removeRun(runDir);
      log(`--overwrite: removed the run in ${runDir} (its checkpoint and metrics).`);
    }
    const temporaries = await removeCheckpointTemporaries(join(runDir, 'checkpoint'));
    if (temporaries > 0) log(`Removed ${temporaries} temporary files left by an interrupted checkpoint write in ${join(runDir, 'checkpoint')}.`);
    if (resumeStep !== undefined) for (const line of await repairMetrics(join(runDir, 'metrics.jsonl'), resumeStep)) log(line);
    await trainInFolder(options, runDir, resumeStep !== undefined, log, () => {
      process.off('SIGINT', early);
      process.off('SIGTERM', early);
    });
  } finally {
    process.off('SIGINT', early);
    process.off('SIGTERM', early);
    release();
  }
}

async function trainInFolder(
  options: RunOptions,
  runDir: string,
  resuming: boolean,
  log: (message: string) => void,
  onTrainingSignals: () => void,
): Promise<void> {
  const config = checkedConfig(options.model);
  const backend = await useBackend(options.backend);
  const task = await loadTask({
    dir: options.data,
    imageSize: config.imageSize,
    split: options.split,
    splitSeed: options.splitSeed,
    augment: options.augment,
    affine: options.affine,
    validation: options.validation,
    validationSeed: options.validationSeed,
    log,
  });
  log(task.describe);
  // The periodic evaluation scores the validation characters; a run without them (--validation 0, or older), the held-out.
  const evaluationSet = task.validation ? { name: 'validation', dataset: task.validation } : { name: 'test', dataset: task.test };
  // Episodes draw `ways` distinct classes from the training, the held-out and the validation classes alike.
  const classes = Math.min(task.train.numClasses, task.test.numClasses, task.validation?.numClasses ?? Infinity);
  if (config.ways > classes) {
    throw new UsageError(
      `--ways ${config.ways} is more than the ${classes} classes an episode can draw from (${task.train.numClasses} training, ` +
        `${task.test.numClasses} held out in the ${options.split} split${task.validation ? `, ${task.validation.numClasses} validation` : ''}); use at most ${classes}` +
        `${task.validation && task.validation.numClasses < Math.min(task.train.numClasses, task.test.numClasses) ? ', or more --validation characters' : ''}.`,
    );
  }

  // Restore after the backend is active, so the variables live on it.
  let trainer: Trainer;
  let random: Random;
  // Training episodes seen so far: counted, not step x batch, because --batch can change on --resume.
  let episodesSeen = 0;
  const trainerOptions = { optimizer: options.optimizer, learningRate: options.learningRate, clipNorm: options.clipNorm, fastPath: options.path === 'fast' };
  if (resuming) {
    const restored = await userFiles(() => loadCheckpoint(join(runDir, 'checkpoint')), CHECKPOINT_ERRORS);
    if (options.model?.clearing !== undefined && options.model.clearing !== restored.model.config.clearing) {
      // The same weights under another clearing rule (it has no weights of its own).
      const network = new MemoryAugmentedNetwork({ ...restored.model.config, clearing: options.model.clearing });
      for (const [name, variable] of Object.entries(network.variables)) variable.assign(restored.model.variables[name]);
      restored.model.dispose();
      restored.model = network;
      log(`From step ${restored.training.step} the memory clears ${options.model.clearing === 'least-used' ? 'only the least-used slot' : 'every least-used slot'} before writing.`);
    }
    trainer = options.workers
      ? ParallelTrainer.fromCheckpoint(restored, { ...trainerOptions, workers: options.workers })
      : Trainer.fromCheckpoint(restored, trainerOptions);
    random = restoreRandom(restored.training.random as number[]);
    // Checkpoints written before the count was saved ran one batch size throughout.
    const savedEpisodes = restored.training.episodes;
    episodesSeen = typeof savedEpisodes === 'number' ? savedEpisodes : restored.training.step * (restored.training.run as RunOptions).batch;
    tf.dispose(Object.values(restored.optimizerState));
    log(`Resuming ${runDir} at step ${trainer.step}.`);
  } else {
    const network = new MemoryAugmentedNetwork(config);
    trainer = options.workers ? new ParallelTrainer(network, { ...trainerOptions, workers: options.workers }) : new Trainer(network, trainerOptions);
    random = createRandom(options.seed);
  }
  const model = trainer.model;
  trainer.setLearningRate(learningRateAt(options, trainer.step)); // a resumed run continues its schedule
  await mkdir(runDir, { recursive: true });
  // Described from the model itself: a resumed run's saved options may predate a config field (such as
  // `clearing`) that its checkpoint fills in.
  const trained = model.config;
  const metricsPath = join(runDir, 'metrics.jsonl');
  const checkpointDir = join(runDir, 'checkpoint');
  log(
    `${trained.kind === 'mann' ? `MANN (${trained.controller} controller, ${trained.addressing}${trained.addressing === 'lrua' && trained.writeVector === 'add' ? ' writing add vectors' : ''}${trained.addressing === 'lrua' && trained.clearing === 'all-least-used' ? ', clearing all least-used slots' : ''}, memory ${trained.memorySlots}x${trained.memoryWidth}, ${trained.heads} heads)` : `${trained.kind} baseline`}` +
      `, ${model.parameterCount().toLocaleString('en')} parameters, ${trained.labels} labels; ${options.optimizer} lr ${options.learningRate}${options.learningRateSchedule?.length ? ` (then ${options.learningRateSchedule.map((c) => `${c.learningRate} from ${c.step}`).join(', ')})` : ''}, clip ${options.clipNorm}, batch ${options.batch}; backend ${backend}${options.workers ? `, ${options.workers} workers` : ''}; run folder ${runDir}`,
  );
  log(trainer.fastPath ? `Fast path: ${fastPathParts(model).description}; ${describeMatMul()}.` : 'Plain path (--path plain): every op of every step differentiated by tfjs.');

  const ways = options.curriculum ? curriculum({ start: config.ways, increment: 1, every: 10000 }) : () => config.ways;
  const labels = (n: number) => labelEncodingFor({ labels: config.labels, ways: n });
  const save = async () => {
    await saveCheckpoint(checkpointDir, model, trainer.trainingState({ random: random.state(), run: options, episodes: episodesSeen }), trainer.optimizer);
  };

  let interrupted: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(signal === 'SIGINT' ? 130 : 143);
    interrupted = signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
    process.stderr.write(`\nInterrupted (${signal}): saving a checkpoint after this batch (Ctrl-C again to quit without saving)...\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  onTrainingSignals();

  const progress = new Progress(options.steps, trainer.step);
  let window = new InstanceAccuracy();
  let windowLoss = 0;
  let windowSteps = 0;
  let windowStart = performance.now();
  try {
    while (trainer.step < options.steps && !interrupted) {
      const rate = learningRateAt(options, trainer.step);
      if (rate !== trainer.learningRate) {
        trainer.setLearningRate(rate);
        progress.done();
        log(`learning rate ${rate} from batch ${trainer.step + 1}`);
      }
      const n = config.labels === 'one-hot' ? config.ways : ways(episodesSeen);
      const batch = sampleEpisodes(task.train, { ways: n, shots: options.shots, batchSize: options.batch, labels: labels(n), random });
      let report;
      try {
        report = trainer.trainStep(batch);
      } catch (error) {
        if (error instanceof DivergenceError) {
          throw new UsageError(`${error.message} The last checkpoint in ${checkpointDir} is intact.`, { cause: error });
        }
        throw error;
      }
      episodesSeen += options.batch;
      window.add(batch, report.predictions);
      windowLoss += report.loss;
      windowSteps++;
      const step = trainer.step;
      if (step % options.logEvery === 0 || step === options.steps) {
        const seconds = (performance.now() - windowStart) / 1000;
        const record = {
          kind: 'train',
          step,
          episodes: episodesSeen,
          loss: windowLoss / windowSteps,
          accuracy: accuracyRecord(window, options.shots),
          episodesPerSecond: (windowSteps * options.batch) / seconds,
          msPerBatch: (seconds * 1000) / windowSteps,
          learningRate: trainer.learningRate,
          ways: n,
          time: new Date().toISOString(),
        };
        await appendFile(metricsPath, `${JSON.stringify(record)}\n`);
        const acc = record.accuracy;
        progress.update(
          step,
          `loss ${record.loss.toFixed(3)}  acc 1st ${pct(acc[1])} 2nd ${pct(acc[2])} 5th ${pct(acc[5])}${acc[10] !== undefined ? ` 10th ${pct(acc[10])}` : ''}  ${record.episodesPerSecond.toFixed(1)} episodes/s`,
        );
        window = new InstanceAccuracy();
        windowLoss = 0;
        windowSteps = 0;
        windowStart = performance.now();
      }
      if (options.evalEvery > 0 && step % options.evalEvery === 0) {
        const result = evaluateModel(model, { dataset: evaluationSet.dataset, episodes: options.evalEpisodes, shots: options.shots, batchSize: options.batch, seed: 1 });
        const record = {
          kind: 'eval',
          step,
          episodes: episodesSeen,
          set: evaluationSet.name,
          loss: result.loss,
          accuracy: accuracyRecord(result.accuracy, options.shots),
          evalEpisodes: options.evalEpisodes,
          time: new Date().toISOString(),
        };
        await appendFile(metricsPath, `${JSON.stringify(record)}\n`);
        progress.done();
        log(`${evaluationSet.name === 'validation' ? 'validation' : 'held-out'} classes after ${step} batches (${options.evalEpisodes} episodes):\n${formatAccuracyTable(result.accuracy.summary())}`);
        windowStart = performance.now();
      }
      if (step % options.checkpointEvery === 0) await save();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  progress.done();
  await save();
  log(
    interrupted
      ? `Stopped at step ${trainer.step}; checkpoint saved to ${checkpointDir}. Resume with: mann train --resume ${runDir}`
      : `Done: ${trainer.step} batches. Checkpoint: ${checkpointDir}; metrics: ${metricsPath}.\n` +
          `Evaluate with: mann eval --checkpoint ${checkpointDir}; plot with: mann plot --metrics ${metricsPath}`,
  );
  model.dispose();
  trainer.dispose();
  if (interrupted) throw new Interrupted(interrupted);
}

function pct(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? '  - ' : `${(100 * x).toFixed(1)}%`;
}

export { formatDuration };
