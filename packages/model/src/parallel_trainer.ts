import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '@mann/backend';
import type { EpisodeBatch } from '@mann/episodes';
import type { RestoredCheckpoint } from './checkpoint';
import type { MemoryAugmentedNetwork } from './model';
import { ANSWERS, EXITED, variableLayout, type StepRequest, type VariableSlot, type WorkerAnswer, type WorkerSetup } from './parallel_protocol';
import { sliceEpisodes, splitEpisodes } from './shard_episodes';
import { checkEpisodeBatch } from './batch_checks';
import { Trainer, checkpointOptions, type StepReport, type TrainerOptions } from './trainer';

/** Options of a {@link ParallelTrainer}: a {@link Trainer}'s, plus its worker threads. */
export interface ParallelTrainerOptions extends TrainerOptions {
  /** Worker threads, each with its own tfjs and a copy of the model (default 2). */
  workers?: number;
  /** The workers' tfjs backend (default: the main thread's, `tf.getBackend()`). */
  backend?: BackendName;
  /**
   * How long a step (or the workers' start-up) may take before the trainer gives up (default 10 minutes). The
   * main thread blocks while it waits, so this bounds the wait when a worker hangs or dies without answering.
   */
  timeoutMs?: number;
  /** The compiled worker file (default: `parallel_worker.js` beside this module in `dist/`). */
  workerScript?: string | URL;
}

interface WorkerHandle {
  thread: Worker;
  port: MessagePort;
  control: Int32Array;
  gradients: Float32Array;
  /** Answers this worker owes the main thread so far (its ANSWERS counter reaches this when it has answered). */
  expected: number;
  /** tf.memory().numTensors in the worker after its last step (-1 before the first). */
  tensors: number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

// Each worker thread starts with this bootstrap, which reports whatever kills the worker before it can answer
// (a worker file that does not load, an uncaught error): the main thread blocks in Atomics.wait and cannot
// receive the Worker's 'error' or 'exit' events, so the worker says so through shared memory and its port.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const control = new Int32Array(workerData.control);
const report = (message, count) => {
  try { workerData.port.postMessage({ type: 'error', message }); } catch {}
  if (count) Atomics.add(control, ${ANSWERS}, 1);
  Atomics.notify(control, ${ANSWERS});
};
process.on('exit', () => { Atomics.store(control, ${EXITED}, 1); Atomics.notify(control, ${ANSWERS}); });
process.on('uncaughtException', (error) => { report('uncaught error in the worker: ' + (error && error.stack || error), false); process.exit(1); });
import(workerData.script).catch((error) => report('cannot load the worker ' + workerData.script + ': ' + error.message, true));
`;

/**
 * A `Trainer` that spreads each batch's episodes over worker threads (Node only), so one update uses several
 * cores. The maths are the single-thread trainer's: each worker returns the gradient of its shard's mean loss,
 * the main thread averages them weighted by the shard sizes (the batch's mean loss is the episode-weighted mean
 * of the shards' means, as T and G are the same for every episode), then clips and applies the optimiser once,
 * with the same code as `Trainer` (`applyGradients`). The weights go to the workers through shared memory
 * before every step; optimiser state stays in the main thread.
 *
 * `trainStep` is synchronous like `Trainer`'s: the main thread blocks (Atomics.wait) until the workers answer.
 * Workers start in the constructor; the first `trainStep` waits for them. Call `dispose()` to stop them (they
 * never keep the process alive, and they are terminated when it exits). `evaluateBatch` and `gradients` run in
 * the main thread, unchanged.
 *
 * ```js
 * import { useBackend } from '@mann/backend';
 * import { MemoryAugmentedNetwork } from '@mann/model';
 * import { ParallelTrainer } from '@mann/model/node';
 * await useBackend('wasm');
 * const trainer = new ParallelTrainer(new MemoryAugmentedNetwork(), { optimizer: 'rmsprop', fastPath: true, workers: 2 });
 * const { loss } = trainer.trainStep(batch); // batch: an EpisodeBatch from @mann/episodes' sampleEpisodes
 * trainer.dispose();
 * ```
 */
export class ParallelTrainer extends Trainer {
  /** Number of worker threads. */
  readonly workers: number;
  /** The workers' backend. */
  readonly backend: BackendName;
  /** How long a step (or the workers' start-up) may take before the trainer gives up, in milliseconds. */
  readonly timeoutMs: number;
  /** Milliseconds spent in the last step publishing the weights and combining the gradients (main thread). */
  lastOverheadMs = 0;
  /** Milliseconds each worker spent on its shard in the last step (weights in, forward, backward, gradients out). */
  lastWorkerMs: number[] = [];
  /** The batch's averaged gradients, all variables end to end (reused: see trainStep). */
  private combined: Float32Array | null = null;
  private readonly handles: WorkerHandle[];
  private readonly slots: VariableSlot[];
  private readonly weights: Float32Array;
  private readonly parameterTotal: number;
  private ready = false;
  /** Why the trainer cannot continue (a worker failed to start, died or timed out), once it cannot. */
  private broken: string | null = null;
  private disposed = false;
  private readonly onExit = () => this.terminate();
  /** Resolves when every worker thread has exited (after `dispose()`). */
  readonly exited: Promise<void>;

  constructor(model: MemoryAugmentedNetwork, options: ParallelTrainerOptions = {}) {
    super(model, options);
    const workers = options.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`ParallelTrainer: workers must be an integer >= 1, got ${workers}.`);
    const custom = (['controller', 'addressing'] as const).filter((key) => typeof model.config[key] === 'function');
    if (custom.length > 0) {
      throw new Error(
        `ParallelTrainer: this model's ${custom.join(' and ')} ${custom.length > 1 ? 'are' : 'is'} built by a factory function, which cannot be sent ` +
          `to a worker thread; train it with Trainer (one thread).`,
      );
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new Error(`ParallelTrainer: timeoutMs must be > 0, got ${this.timeoutMs}.`);
    this.workers = workers;
    this.backend = options.backend ?? (tf.getBackend() as BackendName);
    const script = resolveWorkerScript(options.workerScript);
    const { slots, total } = variableLayout(model);
    this.slots = slots;
    this.parameterTotal = total;
    const weightBuffer = new SharedArrayBuffer(total * 4);
    this.weights = new Float32Array(weightBuffer);
    this.handles = [];
    const exits: Promise<void>[] = [];
    for (let index = 0; index < workers; index++) {
      const channel = new MessageChannel();
      const control = new SharedArrayBuffer(2 * 4);
      const gradients = new SharedArrayBuffer(total * 4);
      const setup: WorkerSetup = {
        index,
        backend: this.backend,
        config: model.config,
        fastPath: this.fastPath,
        slots,
        weights: weightBuffer,
        gradients,
        control,
        port: channel.port2,
        script: script.href,
      };
      const thread = new Worker(BOOTSTRAP, { eval: true, workerData: setup, transferList: [channel.port2] });
      // A worker's errors come back as answers (see BOOTSTRAP); this only keeps the 'error' event from crashing
      // the process.
      thread.on('error', () => {});
      exits.push(new Promise((resolve) => thread.once('exit', () => resolve())));
      thread.unref();
      this.handles.push({ thread, port: channel.port1, control: new Int32Array(control), gradients: new Float32Array(gradients), expected: 1, tensors: -1 });
    }
    this.exited = Promise.all(exits).then(() => {});
    process.once('exit', this.onExit);
  }

  /** A parallel trainer that continues a restored checkpoint: same optimiser, learning rate, clipping, state and step. */
  static override fromCheckpoint(restored: RestoredCheckpoint, overrides: ParallelTrainerOptions = {}): ParallelTrainer {
    const trainer = new ParallelTrainer(restored.model, { ...overrides, ...checkpointOptions(restored, overrides) });
    trainer.restoreProgress(restored, overrides);
    return trainer;
  }

  /** tf.memory().numTensors in each worker after its last step (-1 before its first): for leak checks. */
  get workerTensorCounts(): number[] {
    return this.handles.map((h) => h.tensors);
  }

  /**
   * One update from one batch: its episodes split over the workers (sizes differing by at most one), the
   * gradients averaged by episode count, then clipping and the optimiser step here. Throws `DivergenceError`
   * (without updating) on NaN or Infinity, and an error naming the worker when a worker fails; after a failed
   * step the weights are unchanged and the trainer can go on, unless a worker died or timed out.
   */
  override trainStep(batch: EpisodeBatch): StepReport {
    this.assertUsable();
    // Checked here, before the workers see it: one clear line instead of a worker's error.
    checkEpisodeBatch('ParallelTrainer.trainStep', this.model, batch);
    this.waitUntilReady();
    const ranges = splitEpisodes(batch.batchSize, this.handles.length);
    const shards = ranges.map(([start, end]) => sliceEpisodes(batch, start, end));
    let started = performance.now();
    for (const slot of this.slots) this.weights.set(this.model.variables[slot.name].dataSync() as Float32Array, slot.offset);
    let overhead = performance.now() - started;
    shards.forEach((shard, k) => {
      const request: StepRequest = { type: 'step', shard };
      this.handles[k].port.postMessage(request, [shard.inputs.buffer, shard.previousLabels.buffer, shard.targets.buffer] as ArrayBuffer[]);
      this.handles[k].expected++;
    });
    const answers = shards.map((_, k) => this.receive(k, 'a training step'));
    const failed = answers.findIndex((a) => a.type === 'error');
    if (failed >= 0) {
      const error = answers[failed] as Extract<WorkerAnswer, { type: 'error' }>;
      throw new Error(`ParallelTrainer: worker ${failed} failed at step ${this.step + 1}: ${error.message} (the weights were not updated)`, {
        cause: Object.assign(new Error(error.message), { stack: error.stack }),
      });
    }
    started = performance.now();
    const { steps, batchSize, groups } = batch;
    // Kept between batches: with a new 2.8 MB array each batch, averaging took several times longer in a
    // micro-benchmark here (its allocation and zeroing; page faults were not the cause, `time` counted ~100 a batch).
    this.combined ??= new Float32Array(this.parameterTotal);
    const combined = this.combined;
    const predictions = new Int32Array(steps * batchSize * groups);
    let loss = 0;
    this.lastWorkerMs = [];
    answers.forEach((answer, k) => {
      if (answer.type !== 'done') throw new Error(`ParallelTrainer: worker ${k} sent '${answer.type}' where a step result was expected.`);
      const [start, end] = ranges[k];
      const weight = (end - start) / batchSize;
      loss += weight * answer.loss;
      addScaled(combined, this.handles[k].gradients, weight, k === 0);
      // The shard's [T, b, G] predictions go back to episodes start..end-1 of the [T, B, G] batch.
      const rowLength = (end - start) * groups;
      for (let t = 0; t < steps; t++) predictions.set(answer.predictions.subarray(t * rowLength, (t + 1) * rowLength), (t * batchSize + start) * groups);
      this.handles[k].tensors = answer.tensors;
      this.lastWorkerMs.push(answer.ms);
    });
    const gradients = tf.tidy(() => {
      const named: Record<string, tf.Tensor> = {};
      for (const slot of this.slots) named[slot.name] = tf.tensor(combined.subarray(slot.offset, slot.offset + slot.size), slot.shape);
      return named;
    });
    overhead += performance.now() - started;
    this.lastOverheadMs = overhead;
    try {
      const gradientNorm = this.applyGradients(loss, gradients);
      return { loss, gradientNorm, predictions };
    } finally {
      tf.dispose(gradients);
    }
  }

  /** Stops the workers and frees the optimiser's state (the model stays the caller's). Safe to call twice. */
  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.terminate();
    process.removeListener('exit', this.onExit);
    super.dispose();
  }

  private terminate(): void {
    for (const handle of this.handles) {
      handle.port.close();
      void handle.thread.terminate();
    }
  }

  private assertUsable(): void {
    if (this.disposed) throw new Error('ParallelTrainer: this trainer was disposed.');
    if (this.broken) throw new Error(`ParallelTrainer cannot continue: ${this.broken}. Dispose it and resume from the last checkpoint.`);
  }

  /** Blocks until every worker has started (once), or throws why one could not. */
  private waitUntilReady(): void {
    if (this.ready) return;
    const answers = this.handles.map((_, k) => this.receive(k, 'start-up'));
    const failed = answers.findIndex((a) => a.type !== 'ready' || a.fastPath !== this.fastPath);
    if (failed >= 0) {
      const answer = answers[failed];
      const why = answer.type === 'error' ? answer.message : answer.type === 'ready' ? `it chose the ${answer.fastPath ? 'fast' : 'plain'} path, the main thread the other` : `unexpected '${answer.type}'`;
      this.broken = `worker ${failed} failed to start on backend '${this.backend}': ${why}`;
      throw new Error(`ParallelTrainer: ${this.broken}`);
    }
    this.ready = true;
  }

  /** Blocks until worker `k` has posted the answer it owes, and returns it. */
  private receive(k: number, what: string): WorkerAnswer {
    const handle = this.handles[k];
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const answered = Atomics.load(handle.control, ANSWERS);
      if (answered >= handle.expected) break;
      if (Atomics.load(handle.control, EXITED) === 1) {
        const last = receiveMessageOnPort(handle.port)?.message as WorkerAnswer | undefined;
        this.broken = `worker ${k} exited during ${what}${last?.type === 'error' ? ` (${last.message})` : ''}`;
        throw new Error(`ParallelTrainer: ${this.broken}.`);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        this.broken = `worker ${k} did not answer within ${this.timeoutMs} ms during ${what}`;
        throw new Error(`ParallelTrainer: ${this.broken}.`);
      }
      Atomics.wait(handle.control, ANSWERS, answered, Math.min(left, 1000));
    }
    const received = receiveMessageOnPort(handle.port);
    if (!received) {
      this.broken = `worker ${k} signalled an answer during ${what} but none arrived`;
      throw new Error(`ParallelTrainer: ${this.broken}.`);
    }
    return received.message as WorkerAnswer;
  }
}

/** The compiled worker: `parallel_worker.js` beside this module (dist/), or in ../dist/ when running from src/. */
function resolveWorkerScript(given?: string | URL): URL {
  if (given !== undefined) return given instanceof URL ? given : pathToFileURL(resolve(given));
  const candidates = [new URL('./parallel_worker.js', import.meta.url), new URL('../dist/parallel_worker.js', import.meta.url)];
  for (const candidate of candidates) if (existsSync(fileURLToPath(candidate))) return candidate;
  throw new Error(
    `ParallelTrainer: cannot find the compiled worker (looked for ${candidates.map((c) => fileURLToPath(c)).join(' and ')}). ` +
      'Build @mann/model (npx tsup) or pass the workerScript option.',
  );
}

/** out = weight * values (`first`) or out += weight * values. */
function addScaled(out: Float32Array, values: Float32Array, weight: number, first: boolean): void {
  const length = out.length;
  if (first) {
    for (let i = 0; i < length; i++) out[i] = weight * values[i];
  } else {
    for (let i = 0; i < length; i++) out[i] += weight * values[i];
  }
}
