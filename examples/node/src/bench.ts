import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type BackendName } from '@mann/backend';
import { createRandom, sampleEpisodes, syntheticPatterns, type EpisodeBatch } from '@mann/episodes';
import { lruaImplementation, setLruaImplementation, type LruaImplementation } from '@mann/addressing';
import { MemoryAugmentedNetwork, Trainer, episodeTensors, fastPathParts, labelEncodingFor, type ModelConfig } from '@mann/model';
import { ParallelTrainer } from '@mann/model/node';
import { contentScheme } from './custom_scheme';
import { UsageError } from './args';
import { matMul, residentMatrix } from '@mann/kernels';
import { describeMatMul, matMulRunsOn } from './relaxed_simd';

export const BENCH_HELP = `mann bench [options]: time a paper-size MANN training batch and inference step in Node

Batch: 16 episodes x 50 steps (5-way, 10 shots), 20x20 inputs, one-hot labels, RMSProp (the PyTorch reference's
optimiser); the paper's sizes: controller 200 units, memory 128 x 40, 4 heads. Inputs are synthetic patterns, so no
data is needed.

  --models LIST        comma-separated (mann): mann = LSTM + LRUA (the paper's, and the reference's model),
                       mann-ntm = LSTM + NTM addressing, mann-ff = feed-forward controller + LRUA, mann-ff-ntm =
                       feed-forward + NTM, lstm and feed-forward = the memoryless baselines, mann-custom = LSTM + the
                       README's own addressing scheme (no fast implementation: differentiated by tfjs)
  --backends LIST      comma-separated: wasm,cpu (wasm,cpu)
  --paths LIST         comma-separated: fast,plain (fast,plain); fast = fastForward, plain = model.forward
  --workers LIST       comma-separated worker-thread counts (0): 0 = Trainer in the main thread; N >= 1 =
                       ParallelTrainer (@mann/model/node) splitting each batch's episodes over N workers
  --lrua LIST          comma-separated: auto,js,wasm (what $MANN_LRUA, else auto, runs here): the LRUA memory
                       step in JavaScript or WebAssembly SIMD (auto = wasm where it runs); workers get it too
  --batches N          timed training batches per backend and path, after warm-up (5); the median is reported
  --warmup N           untimed training batches first (1)
  --steps N            timed inference steps (model.step on the batch of 16) (20)
  --batch B            episodes per batch (16)   --shots K  instances per class (10): T = 5 x K steps
  --quick              a quick variant for CI: --batches 2 --warmup 1 --steps 5 --paths fast --backends wasm
  --ref                also run the PyTorch reference and print the ratio (reference ms / our ms)
  --ref-iters N        training batches the reference times (10); it runs with OPENBLAS_NUM_THREADS=1 and 2 threads
  --json               print the figures as one JSON object instead of a table

The reference script is $MANN_TORCH_REF, else ../shared/bench/torch_mann_ref.py beside the repository; the Python is
$MANN_PYTHON, else /usr/bin/python3. Without python3 or torch, --ref is skipped with a message.`;

/** The models `--models` names. */
export const BENCH_MODELS = ['mann', 'mann-ntm', 'mann-ff', 'mann-ff-ntm', 'lstm', 'feed-forward', 'mann-custom'] as const;
export type BenchModel = (typeof BENCH_MODELS)[number];

/** Each bench model's config (the defaults are the paper's sizes). */
const MODEL_CONFIGS: Record<BenchModel, Partial<ModelConfig>> = {
  mann: {},
  'mann-ntm': { addressing: 'ntm' },
  'mann-ff': { controller: 'feed-forward' },
  'mann-ff-ntm': { controller: 'feed-forward', addressing: 'ntm' },
  lstm: { kind: 'lstm' },
  'feed-forward': { kind: 'feed-forward' },
  'mann-custom': { addressing: contentScheme },
};

/** One measured configuration: a model, a backend and a path. */
export interface BenchResult {
  model: BenchModel;
  backend: BackendName;
  path: 'fast' | 'plain';
  /** 0: Trainer in the main thread; N: ParallelTrainer with N worker threads. */
  workers: number;
  /** What the fast path's LRUA memory step ran on (the plain path does not use it). */
  lrua: 'js' | 'wasm';
  /** How the fast path ran the model's parts (fastPathParts); absent on the plain path. */
  fastParts?: string;
  /** ParallelTrainer only: median ms per batch the main thread spends publishing weights and averaging gradients. */
  overheadMs?: number;
  /** Median ms per training batch (forward, backward, clipping, RMSProp update), and every timed batch. */
  trainMs: number;
  trainSamplesMs: number[];
  /** Median ms per inference step (model.step for the whole batch, logits read back). */
  inferenceStepMs: number;
  /** Kernel calls in one training batch (tf.profile). */
  kernelsPerBatch: number;
  /** tf.memory() peak bytes during one training batch (tf.profile), and process RSS peak so far (MB). */
  peakTensorBytes: number;
  peakRssMb: number;
  loss: number;
  /** Floating-point operations of one training batch's matrix products and memory step, counted from the sizes. */
  flopsPerBatch: number;
}

export interface BenchReport {
  machine: { cpus: number; model: string; node: string; load: number[]; tfjs: string };
  config: { batchSize: number; steps: number; batches: number; warmup: number; inferenceSteps: number };
  results: BenchResult[];
  reference?: { ms: number; minMs: number; line: string } | { skipped: string };
  /** reference ms / our ms, per backend and path, when the reference ran. */
  ratios?: Record<string, number>;
  /** plain ms / fast ms, per model, backend and worker count, where both paths ran. */
  speedups?: Record<string, number>;
  /** What @mann/kernels' matMul reaches on this machine in this run, one thread (GFLOP/s by shape). */
  matMulPeak?: Record<string, number>;
}

interface BenchOptions {
  models: BenchModel[];
  backends: BackendName[];
  paths: Array<'fast' | 'plain'>;
  lrua: LruaImplementation[];
  workers: number[];
  batches: number;
  warmup: number;
  inferenceSteps: number;
  batchSize: number;
  shots: number;
  ref: boolean;
  refIters: number;
  json: boolean;
}

/** `mann bench`: see BENCH_HELP. */
export async function bench(argv: string[]): Promise<void> {
  const options = parseBenchArgs(argv);
  if (!options) {
    console.log(BENCH_HELP);
    return;
  }
  const log = options.json ? () => {} : (line: string) => console.log(line);
  const report: BenchReport = {
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      load: loadAverage(),
      tfjs: tf.version_core,
    },
    config: {
      batchSize: options.batchSize,
      steps: 5 * options.shots,
      batches: options.batches,
      warmup: options.warmup,
      inferenceSteps: options.inferenceSteps,
    },
    results: [],
  };
  log(`mann bench: ${options.batchSize} episodes x ${5 * options.shots} steps, controller 200 units, memory 128 x 40, 4 heads; models ${options.models.join(', ')}`);
  log(`machine: ${report.machine.cpus} cpus (${report.machine.model}), node ${report.machine.node}, load ${report.machine.load.join(' ')}`);
  const batch = benchBatch(options.batchSize, options.shots);
  // Every combination, as a flat list, so the loop body stays shallow.
  const runs = options.backends.flatMap((backend) =>
    options.models.flatMap((model) => options.paths.flatMap((path) => options.workers.flatMap((workers) => options.lrua.map((lrua) => ({ backend, model, path, workers, lrua }))))),
  );
  for (const { backend, model, path, workers, lrua } of runs) {
    if (tf.getBackend() !== backend) await useBackend(backend);
    if (workers > 0 && model === 'mann-custom') {
      log(`${model}: skipped with ${workers} workers (a part built by a factory cannot be sent to a worker thread)`);
      continue;
    }
    chooseLrua(lrua);
    const result = await measure(model, backend, path, workers, batch, options);
    report.results.push(result);
    log(
      `${model.padEnd(12)} ${backend.padEnd(5)} ${path.padEnd(5)} ${label(result).padEnd(10)} lrua ${result.lrua.padEnd(4)} train ${result.trainMs.toFixed(1)} ms/batch (runs ${result.trainSamplesMs.map((x) => x.toFixed(0)).join(' ')}), ` +
        `inference ${result.inferenceStepMs.toFixed(2)} ms/step, ${result.kernelsPerBatch} kernels/batch, ` +
        `peak tensors ${(result.peakTensorBytes / 1e6).toFixed(1)} MB, peak RSS ${result.peakRssMb.toFixed(0)} MB, loss ${result.loss.toFixed(4)}, ` +
        `${(result.flopsPerBatch / 1e9).toFixed(2)} GFLOP/batch counted = ${(result.flopsPerBatch / 1e6 / result.trainMs).toFixed(1)} GFLOP/s` +
        (result.overheadMs !== undefined ? `, main-thread overhead ${result.overheadMs.toFixed(1)} ms/batch` : '') +
        (result.fastParts ? `; ${result.fastParts}` : ''),
    );
  }
  report.matMulPeak = measureMatMul();
  log(
    `@mann/kernels matMul here (${matMulRunsOn()}, one thread): ` +
      Object.entries(report.matMulPeak).map(([shape, gflops]) => `${gflops.toFixed(1)} GFLOP/s on ${shape}`).join(', '),
  );
  report.speedups = speedups(report.results, options.lrua.length > 1);
  for (const [key, speedup] of Object.entries(report.speedups)) log(`fast path speed-up ${key}: ${speedup.toFixed(1)}x (plain ms / fast ms)`);
  if (options.ref) {
    log(`reference: running the PyTorch reference (${options.refIters} batches)...`);
    report.reference = runReference(options.refIters);
    if ('skipped' in report.reference) {
      log(`reference skipped: ${report.reference.skipped}`);
    } else {
      log(`reference: ${report.reference.line}`);
      report.ratios = {};
      for (const r of report.results) {
        const ratio = report.reference.ms / r.trainMs;
        const key = (options.models.length > 1 ? `${r.model}/` : '') + (r.workers === 0 ? `${r.backend}/${r.path}` : `${r.backend}/${r.path}/${r.workers}w`) + (options.lrua.length > 1 ? `/${r.lrua}` : '');
        report.ratios[key] = ratio;
        log(`ratio ${key}: ${ratio.toFixed(2)} (reference ${report.reference.ms.toFixed(1)} ms / ours ${r.trainMs.toFixed(1)} ms; >= 1 means as fast or faster)`);
      }
    }
  }
  report.machine.load = loadAverage();
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else log(`load average at the end: ${report.machine.load.join(' ')}`);
}

/** The LRUA step for this thread and, through MANN_LRUA, for worker threads started after this call. */
function chooseLrua(lrua: LruaImplementation): void {
  setLruaImplementation(lrua);
  process.env.MANN_LRUA = lrua;
}

/** plain ms / fast ms for every model, backend, worker count (and LRUA step) measured on both paths. */
function speedups(results: BenchResult[], byLrua: boolean): Record<string, number> {
  const out: Record<string, number> = {};
  const key = (r: BenchResult) => `${r.model}/${r.backend}${r.workers ? `/${r.workers}w` : ''}${byLrua ? `/${r.lrua}` : ''}`;
  for (const fast of results.filter((r) => r.path === 'fast')) {
    const plain = results.find((r) => r.path === 'plain' && key(r) === key(fast));
    if (plain) out[key(fast)] = plain.trainMs / fast.trainMs;
  }
  return out;
}

/** How a result is labelled: `1 thread` for Trainer, `N workers` for ParallelTrainer. */
function label(result: BenchResult): string {
  return result.workers === 0 ? '1 thread' : `${result.workers} worker${result.workers > 1 ? 's' : ''}`;
}

async function measure(
  name: BenchModel,
  backend: BackendName,
  path: 'fast' | 'plain',
  workers: number,
  batch: EpisodeBatch,
  options: BenchOptions,
): Promise<BenchResult> {
  const model = new MemoryAugmentedNetwork(MODEL_CONFIGS[name]);
  const trainerOptions = { optimizer: 'rmsprop' as const, fastPath: path === 'fast' };
  const trainer = workers === 0 ? new Trainer(model, trainerOptions) : new ParallelTrainer(model, { ...trainerOptions, workers });
  let peakRss = process.memoryUsage().rss;
  let loss = NaN;
  for (let i = 0; i < options.warmup; i++) loss = trainer.trainStep(batch).loss;
  const samples: number[] = [];
  const overheads: number[] = [];
  for (let i = 0; i < options.batches; i++) {
    const start = performance.now();
    loss = trainer.trainStep(batch).loss; // reads the loss back, so the work is done when the clock stops
    samples.push(performance.now() - start);
    if (trainer instanceof ParallelTrainer) overheads.push(trainer.lastOverheadMs);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  // One more batch under tf.profile, for kernel counts and peak tensor bytes (untimed: profiling slows kernels;
  // for ParallelTrainer it sees only the main thread's kernels: the update, not the workers' forward and backward).
  const profile = await tf.profile(() => {
    trainer.trainStep(batch);
  });
  const inferenceStepMs = inferenceStep(model, batch, options.inferenceSteps);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const result: BenchResult = {
    model: name,
    backend,
    path,
    workers,
    lrua: lruaImplementation(),
    ...(path === 'fast' ? { fastParts: `${fastPathParts(model).description}; ${describeMatMul()}` } : {}),
    ...(overheads.length > 0 ? { overheadMs: median(overheads) } : {}),
    trainMs: median(samples),
    trainSamplesMs: samples,
    inferenceStepMs,
    kernelsPerBatch: profile.kernels.length,
    peakTensorBytes: profile.peakBytes,
    peakRssMb: peakRss / 2 ** 20,
    loss,
    flopsPerBatch: countFlops(model, 5 * options.shots, options.batchSize),
  };
  trainer.dispose();
  model.dispose();
  return result;
}

/** Median ms of `count` inference steps of the batch (after 2 untimed), carrying the state as a user would. */
function inferenceStep(model: MemoryAugmentedNetwork, batch: EpisodeBatch, count: number): number {
  const input = episodeTensors(batch);
  const images = tf.unstack(input.images) as tf.Tensor2D[];
  const labels = tf.unstack(input.previousLabels) as tf.Tensor2D[];
  let state = model.initialState(batch.batchSize);
  const samples: number[] = [];
  for (let i = 0; i < count + 2; i++) {
    const t = i % batch.steps;
    const start = performance.now();
    const next = tf.tidy(() => {
      const result = model.step(images[t], labels[t], state);
      return result as unknown as tf.TensorContainer;
    }) as unknown as ReturnType<MemoryAugmentedNetwork['step']>;
    next.logits.dataSync();
    if (i >= 2) samples.push(performance.now() - start);
    tf.dispose([state as unknown as tf.TensorContainer, next.logits]);
    state = next.state;
  }
  tf.dispose([state as unknown as tf.TensorContainer, images, labels, input as unknown as tf.TensorContainer]);
  return median(samples);
}

/** A fixed batch of synthetic 20x20 episodes (5-way, `shots` each), the same on every run. */
function benchBatch(batchSize: number, shots: number): EpisodeBatch {
  const patterns = syntheticPatterns({ classes: 50, samplesPerClass: shots, sampleShape: [20, 20], noise: 0.05, seed: 1 });
  const labels = labelEncodingFor({ labels: 'one-hot', ways: 5 });
  return sampleEpisodes(patterns, { ways: 5, shots, batchSize, labels, random: createRandom(2) });
}

/**
 * Floating-point operations (2 per multiply-add) of one training batch, counted from the model's sizes: the
 * controller's products forward, its weight gradient and its input gradient (the fed part: reads and h), the memory
 * projection and the output layer (forward and both gradients), and the memory step's three products per head
 * (similarity, read, write; its backward counted as twice its forward). Elementwise work (gates, softmaxes, the
 * optimiser) is left out: it is small next to these.
 */
export function countFlops(model: MemoryAugmentedNetwork, steps: number, batch: number): number {
  const rows = steps * batch;
  const { controller, readSize, outputSize, addressing } = model;
  const units = controller.outputSize;
  const input = controller.inputSize;
  const recurrent = controller.name === 'lstm';
  const width = recurrent ? 4 * units : units; // the first layer's output
  const fed = readSize + (recurrent ? units : 0); // what flows back to the previous step
  let macs = rows * ((input + (recurrent ? units : 0)) * width * 2 + fed * width);
  const layers = Object.keys(controller.variables).filter((name) => name.startsWith('kernel')).length;
  if (!recurrent) macs += rows * (layers - 1) * units * units * 3;
  if (addressing) {
    const { memorySlots, memoryWidth, heads } = model.config;
    macs += rows * units * addressing.parameterSize * 3;
    macs += rows * 3 * heads * memorySlots * memoryWidth * 3;
  }
  macs += rows * (units + readSize) * outputSize * 3;
  return 2 * macs;
}

/** GFLOP/s of @mann/kernels' matMul in this thread on two of the model's shapes (resident right-hand side, as the fast path uses it). */
function measureMatMul(): Record<string, number> {
  const shapes: Array<[number, number, number]> = [
    [800, 405, 800],
    [16, 360, 800],
  ];
  const out: Record<string, number> = {};
  for (const [m, k, n] of shapes) {
    const a = { values: Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)), rows: m, cols: k };
    const b = residentMatrix({ values: Float32Array.from({ length: k * n }, (_, i) => Math.cos(i)), rows: k, cols: n });
    const result = new Float32Array(m * n);
    const repeats = Math.max(3, Math.round(2e8 / (m * k * n)));
    const times: number[] = [];
    for (let r = 0; r < 5; r++) {
      const start = performance.now();
      for (let i = 0; i < repeats; i++) matMul(a, b, { out: result });
      times.push((performance.now() - start) / repeats);
    }
    b.dispose();
    out[`[${m},${k}]x[${k},${n}]`] = (2 * m * k * n) / 1e6 / median(times);
  }
  return out;
}

/** Runs the PyTorch reference and parses its `ms/batch median=X min=Y`, or says why it could not. */
function runReference(iterations: number): NonNullable<BenchReport['reference']> {
  const script = referenceScript();
  if (!script) {
    return { skipped: 'reference script not found: set MANN_TORCH_REF or put it at ../shared/bench/torch_mann_ref.py beside the repository' };
  }
  const python = process.env.MANN_PYTHON ?? '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? `${python} not found (${probe.error.message})` : `torch is not installed for ${python}`;
    return { skipped: `${why}; install it with: apt-get install -y python3-torch libopenblas0-pthread` };
  }
  const run = spawnSync(python, [script, String(iterations), '2'], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    maxBuffer: 1 << 20,
  });
  const line = (run.stdout ?? '').trim().split('\n').pop() ?? '';
  const match = /median=([\d.]+)\s+min=([\d.]+)/.exec(line);
  if (run.status !== 0 || !match) {
    return { skipped: `the reference failed (exit ${run.status}): ${(run.stderr ?? '').trim().split('\n').pop() ?? line}` };
  }
  return { ms: Number(match[1]), minMs: Number(match[2]), line };
}

function referenceScript(): string | null {
  if (process.env.MANN_TORCH_REF) return existsSync(process.env.MANN_TORCH_REF) ? resolve(process.env.MANN_TORCH_REF) : null;
  const starts = [process.cwd()];
  try {
    starts.push(dirname(fileURLToPath(import.meta.url)));
  } catch {
    // not an ES module file URL (bundled differently): the working directory is enough
  }
  for (const start of starts) {
    const root = repositoryRoot(start);
    if (root) {
      const script = resolve(root, '../shared/bench/torch_mann_ref.py');
      if (existsSync(script)) return script;
    }
  }
  return null;
}

/** The nearest folder at or above `start` whose package.json declares workspaces (the monorepo root). */
function repositoryRoot(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if (JSON.parse(readFileSync(file, 'utf8')).workspaces) return dir;
      } catch {
        // unreadable package.json: keep looking upwards
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function parseBenchArgs(argv: string[]): BenchOptions | null {
  const options: BenchOptions = {
    models: ['mann'],
    backends: ['wasm', 'cpu'],
    paths: ['fast', 'plain'],
    lrua: [lruaImplementation()], // what the library runs now (it reads $MANN_LRUA itself)
    workers: [0],
    batches: 5,
    warmup: 1,
    inferenceSteps: 20,
    batchSize: 16,
    shots: 10,
    ref: false,
    refIters: 10,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`mann bench: ${arg} needs a value. See \`mann bench --help\`.`);
      return next;
    };
    const count = (min: number): number => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min) throw new UsageError(`mann bench: ${arg} must be an integer >= ${min}, got '${raw}'.`);
      return n;
    };
    switch (arg) {
      case '--help':
      case '-h':
        return null;
      case '--models':
        options.models = list(arg, value(), BENCH_MODELS);
        break;
      case '--backends':
        options.backends = list(arg, value(), ['wasm', 'cpu'] as const);
        break;
      case '--paths':
        options.paths = list(arg, value(), ['fast', 'plain'] as const);
        break;
      case '--lrua':
        options.lrua = list(arg, value(), ['auto', 'js', 'wasm'] as const);
        break;
      case '--workers':
        options.workers = counts(arg, value());
        break;
      case '--batches':
        options.batches = count(1);
        break;
      case '--warmup':
        options.warmup = count(0);
        break;
      case '--steps':
        options.inferenceSteps = count(1);
        break;
      case '--batch':
        options.batchSize = count(1);
        break;
      case '--shots':
        options.shots = count(1);
        break;
      case '--quick':
        Object.assign(options, { batches: 2, warmup: 1, inferenceSteps: 5, paths: ['fast'], backends: ['wasm'] });
        break;
      case '--ref':
        options.ref = true;
        break;
      case '--ref-iters':
        options.refIters = count(1);
        break;
      case '--json':
        options.json = true;
        break;
      default:
        throw new UsageError(`mann bench: unknown option '${arg}'. See \`mann bench --help\`.`);
    }
  }
  return options;
}

function list<T extends string>(name: string, raw: string, choices: readonly T[]): T[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((s) => !choices.includes(s as T));
  if (items.length === 0 || bad.length > 0) {
    throw new UsageError(`mann bench: ${name} takes a comma-separated list of ${choices.join(', ')}, got '${raw}'.`);
  }
  return items as T[];
}

function counts(name: string, raw: string): number[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const numbers = items.map(Number);
  if (items.length === 0 || numbers.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new UsageError(`mann bench: ${name} takes a comma-separated list of integers >= 0 (0 = main thread only), got '${raw}'.`);
  }
  return numbers;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function loadAverage(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}
