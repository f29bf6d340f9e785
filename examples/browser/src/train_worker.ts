/// <reference lib="webworker" />
// The Train mode's worker: trains a small MANN from scratch on the tfjs wasm backend, off the page's thread, on the
// fast path of @mann/model (its LRUA step compiles to WebAssembly SIMD here: a worker may compile a module
// synchronously, a page's main thread may not). It fetches the training characters itself, sets the validation
// characters aside as `mann train` does, and reports progress and evaluations to the page (train_settings.ts has the
// messages). One thing at a time: batches, evaluations and snapshots run in turn, never interleaved.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@mann/backend';
import { createRandom, restoreRandom, sampleEpisodes, type Random } from '@mann/episodes';
import {
  MemoryAugmentedNetwork,
  Trainer,
  evaluateModel,
  fastPathParts,
  labelEncodingFor,
  restoreCheckpoint,
  serializeCheckpoint,
} from '@mann/model';
import { OmniglotDataset, validationSplit, withRandomAffine, withRotatedClasses } from '@mann/omniglot';
import type { ClassDataset } from '@mann/episodes';
import { fetchAllCharacters } from './held_out';
import { TRAINING_DIR } from './held_out_files';
import type { CurvePoint } from './learning_curve';
import { modelConfig, runRecord, type FromWorker, type ToWorker, type TrainingData, type TrainSettings } from './train_settings';

declare const self: DedicatedWorkerGlobalScope;

/** Progress is reported at most this often (each message costs the page a repaint). */
const PROGRESS_EVERY_MS = 400;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

interface Run {
  settings: TrainSettings;
  data: TrainingData;
  trainer: Trainer;
  random: Random;
  train: ClassDataset;
  validation: ClassDataset;
  curve: CurvePoint[];
  episodes: number;
}

let run: Run | null = null;
let running = false;
/** The loop now running, if any: Resume waits for a paused loop to finish before starting another. */
let loop: Promise<void> | null = null;
let tail: Promise<unknown> = Promise.resolve();

/** Runs `action` after everything queued before it (batches, evaluations, snapshots never overlap). */
function queued<T>(action: () => T | Promise<T>): Promise<T> {
  const result = tail.then(action);
  tail = result.catch(() => undefined);
  return result;
}

/** Lets queued messages (Pause, a snapshot) in between batches, without the 4 ms clamp of nested timers. */
const channel = new MessageChannel();
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

function fail(error: unknown, id?: number): void {
  running = false;
  const message = error instanceof Error ? error.message : String(error);
  post({ type: 'error', message: `Training stopped: ${message}`, id });
}

async function start(message: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const { data, wasmPaths } = message;
  post({ type: 'loading', text: 'Starting the wasm backend in the training worker…' });
  await useBackend('wasm', { wasmPaths });
  post({ type: 'loading', text: 'Fetching the training characters…' });
  const started = performance.now();
  const { characters } = await fetchAllCharacters(
    { indexUrl: data.indexUrl, indexSha256: data.indexSha256, imageSize: data.imageSize },
    {
      folder: TRAINING_DIR,
      onProgress: (done, total, bytes) => {
        if (done % 50 === 0 || done === total) post({ type: 'loading', text: `Fetching the training characters: ${done} of ${total} (${(bytes / 1e6).toFixed(2)} MB)…` });
      },
    },
  );
  const seconds = (performance.now() - started) / 1000;

  const settings = message.settings;
  let trainer: Trainer;
  let random: Random;
  let curve: CurvePoint[] = [];
  let episodes = 0;
  if (message.resume) {
    const restored = restoreCheckpoint(message.resume.manifest, message.resume.weights, 'the saved model');
    trainer = Trainer.fromCheckpoint(restored);
    random = restoreRandom(restored.training.random as number[]);
    curve = (restored.training.curve as CurvePoint[] | undefined) ?? [];
    episodes = (restored.training.episodes as number | undefined) ?? trainer.step * settings.batchSize;
  } else {
    const model = new MemoryAugmentedNetwork(modelConfig(settings, data.imageSize));
    trainer = new Trainer(model, { optimizer: 'adam', learningRate: settings.learningRate, clipNorm: settings.clipNorm });
    random = createRandom(settings.seed);
  }
  // As `mann train`: validation characters set aside before the rotations and distortions of the training ones.
  const kept = validationSplit(characters, { count: settings.validation, seed: settings.validationSeed });
  const train = withRandomAffine(withRotatedClasses(new OmniglotDataset(kept.train)));
  const validation = new OmniglotDataset(kept.validation);
  run = { settings, data, trainer, random, train, validation, curve, episodes };
  if (curve.length === 0) curve.push(evaluate(run)); // where it starts: chance at every instance
  post({
    type: 'ready',
    step: trainer.step,
    parameters: trainer.model.parameterCount(),
    fastPath: fastPathParts(trainer.model).description,
    backend: `${tf.getBackend()}${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? ' (SIMD)' : ''}`,
    data:
      `${kept.train.length} training characters (x4 rotations = ${train.numClasses} classes, randomly distorted drawings; ` +
      `${characters.length} fetched in ${seconds.toFixed(1)} s), ${kept.validation.length} set aside for the curve`,
    curve,
  });
}

/** Accuracy by instance on the validation characters: the same episodes (seed 1) every time, as `mann train`. */
function evaluate(current: Run): CurvePoint {
  const { settings, trainer } = current;
  const result = evaluateModel(trainer.model, { dataset: current.validation, episodes: settings.evalEpisodes, shots: settings.shots, batchSize: 16, seed: 1 });
  const summary = result.accuracy.summary(Array.from({ length: settings.shots }, (_, k) => k + 1));
  return { step: trainer.step, accuracy: summary.map((row) => row.accuracy), episodes: settings.evalEpisodes };
}

async function trainLoop(current: Run): Promise<void> {
  const { settings, trainer } = current;
  const labels = labelEncodingFor(trainer.model.config);
  let batches = 0;
  let milliseconds = 0;
  let loss = 0;
  let reported = performance.now();
  while (running) {
    await queued(() => {
      if (!running) return;
      const started = performance.now();
      const batch = sampleEpisodes(current.train, { ways: settings.ways, shots: settings.shots, batchSize: settings.batchSize, labels, random: current.random });
      const report = trainer.trainStep(batch);
      current.episodes += settings.batchSize;
      milliseconds += performance.now() - started;
      loss += report.loss;
      batches++;
      if (performance.now() - reported >= PROGRESS_EVERY_MS) {
        post({ type: 'progress', step: trainer.step, msPerBatch: milliseconds / batches, loss: loss / batches });
        reported = performance.now();
        batches = milliseconds = loss = 0;
      }
      if (trainer.step % settings.evalEvery === 0) {
        const point = evaluate(current);
        current.curve.push(point);
        post({ type: 'evaluation', point });
        reported = performance.now();
      }
    });
    await nextTask();
  }
  post({ type: 'paused', step: trainer.step });
}

function resume(): void {
  const current = run;
  if (!current || running) return;
  running = true;
  const previous = loop ?? Promise.resolve();
  loop = previous.then(() => (running ? trainLoop(current) : post({ type: 'paused', step: current.trainer.step }))).catch((error) => fail(error));
}

async function snapshot(id: number, withOptimizer: boolean): Promise<void> {
  const current = run;
  if (!current) throw new Error('nothing has been trained yet');
  const { trainer, settings, data } = current;
  const training = trainer.trainingState({
    random: current.random.state(),
    run: runRecord(settings, data.split, data.imageSize, trainer.step),
    episodes: current.episodes,
    curve: current.curve,
  });
  const { manifest, weights } = await serializeCheckpoint(trainer.model, training, withOptimizer ? trainer.optimizer : undefined);
  post({ type: 'checkpoint', id, checkpoint: { manifest, weights } }, [weights.buffer]);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'start':
      queued(() => start(message))
        .then(resume)
        .catch((error) => fail(error));
      break;
    case 'pause':
      running = false;
      break;
    case 'resume':
      resume();
      break;
    case 'checkpoint':
      // A snapshot that fails is reported; training goes on.
      queued(() => snapshot(message.id, message.optimizer)).catch((error: Error) =>
        post({ type: 'error', message: `The model could not be copied out of the training worker: ${error.message}`, id: message.id }),
      );
      break;
  }
};

// Anything thrown outside the handlers above still reaches the page as one line.
self.addEventListener('unhandledrejection', (event) => fail(event.reason));
