import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '@mann/backend';
import { InstanceAccuracy, createRandom, sampleEpisodes, type EpisodeBatch, type LabelEncoding } from '@mann/episodes';
import { MemoryAugmentedNetwork, labelEncodingFor, restoreCheckpoint } from '@mann/model';
import { chooseBackend, describeBackend } from './backends';
import { assets, fetchCheckpoint, loadHeldOut, type CheckpointFiles, type HeldOut } from './data';
import { drawHeatMap, drawInk, transpose } from './heat_map';
import { StepRunner, type MemoryView, type StepOutcome } from './step_runner';
import { DrawingPad } from './drawing_pad';

/** Presentations of each class per episode: the paper's 10. */
const SHOTS = 10;
/** Class counts offered for a fresh model (its output layer is built for the count chosen). */
const FRESH_WAYS = [2, 3, 4, 5, 6, 8, 10];

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** One finished (or running) episode, kept for the accuracy table and for tests comparing backends. */
interface EpisodeRecord {
  backend: BackendName;
  seed: number;
  ways: number;
  labels: number[];
  guesses: number[];
  instances: number[];
  /** Softmax probabilities per step (G * C numbers each). */
  probabilities: number[][];
}

/** What the page exposes on `window.mannApp`, for the curious (and the end-to-end test). */
interface AppHandle {
  status: string;
  backend: BackendName | null;
  episodes: EpisodeRecord[];
  error?: string;
}

const app: AppHandle = { status: 'loading', backend: null, episodes: [] };
(window as unknown as { mannApp: AppHandle }).mannApp = app;

let checkpoint: CheckpointFiles | null = null;
let heldOut: HeldOut | null = null;
let model: MemoryAugmentedNetwork | null = null;
let labels: LabelEncoding;
let allEpisodes = new InstanceAccuracy();
let stepTimes: number[] = [];

interface Episode {
  batch: EpisodeBatch;
  runner: StepRunner;
  t: number;
  record: EpisodeRecord;
  /** Chosen choice index per group per step, [T, 1, G], for `InstanceAccuracy`. */
  predictions: Int32Array;
}
let episode: Episode | null = null;
let playing = false;
/** Bumped whenever the model or episode is replaced, so a running play loop notices and stops. */
let generation = 0;

// ---------------------------------------------------------------- status and notices

function setStatus(status: string, text: string): void {
  app.status = status;
  document.body.dataset.status = status;
  $('status-text').textContent = text;
}

function notice(text: string, kind: 'info' | 'error' = 'info', key?: string): void {
  if (key) document.querySelector(`[data-key="${key}"]`)?.remove();
  const div = document.createElement('div');
  div.className = `notice ${kind === 'error' ? 'error' : ''}`;
  if (key) div.dataset.key = key;
  div.textContent = text;
  $('notices').append(div);
}

function showSpeed(milliseconds: number): void {
  stepTimes.push(milliseconds);
  if (stepTimes.length > 20) stepTimes.shift();
  const mean = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length;
  $('status-speed').textContent = (1000 / mean).toFixed(mean < 10 ? 0 : 1);
}

// ---------------------------------------------------------------- model and backend

function selectedWays(): number {
  return Number(($('ways') as HTMLSelectElement).value);
}

function useCheckpoint(): boolean {
  return checkpoint !== null && ($('model-source') as HTMLSelectElement).value === 'checkpoint';
}

/** The class counts this model can play: up to its output size for one-hot labels. */
function waysChoices(): number[] {
  if (!useCheckpoint()) return FRESH_WAYS;
  const config = checkpoint!.manifest.config;
  const most = config.labels === 'one-hot' ? config.ways : 15;
  return Array.from({ length: most - 1 }, (_, i) => i + 2);
}

function fillWays(): void {
  const select = $('ways') as HTMLSelectElement;
  const previous = Number(select.value) || 5;
  const choices = waysChoices();
  select.replaceChildren(...choices.map((n) => new Option(String(n), String(n))));
  select.value = String(choices.includes(previous) ? previous : choices.includes(5) ? 5 : choices[choices.length - 1]);
}

/** Builds the model on the active backend: the checkpoint's weights, or fresh ones (seed 0) of the same shape. */
function buildModel(): void {
  stopEpisode();
  teachRunner?.dispose();
  teachRunner = null;
  model?.dispose();
  if (useCheckpoint()) {
    model = restoreCheckpoint(checkpoint!.manifest, checkpoint!.weights).model;
    const step = checkpoint!.manifest.training.step;
    $('status-model').textContent = `checkpoint, ${step.toLocaleString('en')} training steps`;
  } else {
    const base = checkpoint?.manifest.config ?? {};
    const ways = selectedWays();
    model = new MemoryAugmentedNetwork({ ...base, labels: 'one-hot', ways, seed: 0 });
    $('status-model').textContent = 'untrained (fresh weights)';
  }
  labels = labelEncodingFor(model.config);
  allEpisodes = new InstanceAccuracy();
  renderAccuracy(null);
  const c = model.config;
  $('memory-caption').textContent = `${c.memorySlots} slots x ${c.memoryWidth} numbers, ${c.heads} heads, ${model.addressing?.name.toUpperCase() ?? 'no memory'}`;
  clearMemoryMaps();
  resetTeach();
}

/** Starts `wanted` (or the first fallback that works), says why any failed, and shows which one runs. */
async function activateBackend(wanted: BackendName): Promise<void> {
  const { active, failures } = await chooseBackend(wanted);
  for (const failure of failures) {
    notice(
      failure.name === 'webgl'
        ? `WebGL is not available in this browser, so the model runs on ${active} instead (slower, same results). (${failure.reason})`
        : `${failure.reason} Using ${active}.`,
      'info',
      `backend-${failure.name}`,
    );
    if (failure.name === 'webgl') (document.querySelector('#backend option[value="webgl"]') as HTMLOptionElement).disabled = true;
  }
  ($('backend') as HTMLSelectElement).value = active;
  app.backend = active;
  $('status-backend').textContent = describeBackend(active);
  stepTimes = [];
  $('status-speed').textContent = '–';
}

async function switchBackend(wanted: BackendName): Promise<void> {
  setStatus('switching', `Starting ${wanted}…`);
  await activateBackend(wanted);
  // Tensors belong to the backend that made them: rebuild the model on the new one (and start a new episode).
  buildModel();
  if (heldOut) newEpisode();
}

// ---------------------------------------------------------------- episodes

function stopEpisode(): void {
  generation++;
  playing = false;
  $('play').textContent = 'Play';
  episode?.runner.dispose();
  episode = null;
}

function newEpisode(): void {
  if (!model || !heldOut) return;
  stopEpisode();
  const seedInput = $('seed') as HTMLInputElement;
  const seed = Math.max(0, Math.floor(Number(seedInput.value) || 0));
  const ways = selectedWays();
  const batch = sampleEpisodes(heldOut.dataset, { ways, shots: SHOTS, batchSize: 1, labels, random: createRandom(seed) });
  const record: EpisodeRecord = { backend: app.backend!, seed, ways, labels: [], guesses: [], instances: [], probabilities: [] };
  episode = { batch, runner: new StepRunner(model, labels), t: 0, record, predictions: new Int32Array(batch.steps * batch.groups) };
  app.episodes.push(record);
  document.body.dataset.episode = 'ready';
  $('history').replaceChildren();
  for (const id of ['guess', 'confidence', 'truth', 'right-wrong', 'current-caption']) $(id).textContent = '–';
  $('probabilities').replaceChildren();
  clearMemoryMaps();
  drawInk($('current-image') as HTMLCanvasElement, new Float32Array(model.imageSize));
  renderAccuracy(episode);
  seedInput.value = String(seed + 1);
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function stepInterval(): number {
  const speed = ($('speed') as HTMLSelectElement).value;
  return speed === 'max' ? 0 : 1000 / Number(speed);
}

/** Plays one step: shows the image and the model's guess, then reveals the true label. */
async function playStep(): Promise<boolean> {
  const current = episode;
  if (!current || current.t >= current.batch.steps) return false;
  const mine = generation;
  const { batch, runner, t, record } = current;
  const d = batch.sampleSize;
  const l = labels.size;
  const image = batch.inputs.slice(t * d, (t + 1) * d);
  const outcome = await runner.propose(image, batch.previousLabels.slice(t * l, (t + 1) * l));
  if (mine !== generation) return false;
  runner.accept();
  current.t++;
  showSpeed(outcome.milliseconds);
  const label = batch.labels[t];
  const instance = batch.instances[t];
  labels.targets(outcome.guess, current.predictions, t * batch.groups);
  record.labels.push(label);
  record.guesses.push(outcome.guess);
  record.instances.push(instance);
  record.probabilities.push(Array.from(outcome.probabilities));

  drawInk($('current-image') as HTMLCanvasElement, image);
  $('current-caption').textContent = `step ${t + 1} of ${batch.steps} · ${ordinal(instance)} time this character is shown`;
  $('guess').textContent = labels.describe(outcome.guess);
  $('confidence').textContent = `(${(100 * outcome.confidence).toFixed(0)}% sure)`;
  $('truth').textContent = '?';
  $('right-wrong').textContent = '';
  drawBars(outcome, null);
  drawMemory(outcome.memory);
  const interval = stepInterval();
  if (interval > 0) await delay(interval / 2);
  if (mine !== generation) return false;

  const right = outcome.guess === label;
  $('truth').textContent = labels.describe(label);
  const verdict = $('right-wrong');
  verdict.textContent = right ? 'right' : instance === 1 ? 'wrong (first sight: it could only guess)' : 'wrong';
  verdict.className = right ? 'right' : 'wrong';
  drawBars(outcome, label);
  appendHistory($('history'), image, `${labels.describe(outcome.guess)}·${instance}`, right, `step ${t + 1}: guessed ${labels.describe(outcome.guess)}, was ${labels.describe(label)}`);
  if (current.t === batch.steps) {
    allEpisodes.add(batch, current.predictions);
    document.body.dataset.episode = 'done';
  }
  renderAccuracy(current);
  if (interval > 0) await delay(interval / 2);
  return current.t < batch.steps;
}

async function play(): Promise<void> {
  if (playing) {
    playing = false;
    $('play').textContent = 'Play';
    return;
  }
  if (!episode || episode.t >= episode.batch.steps) newEpisode();
  if (!episode) return;
  playing = true;
  $('play').textContent = 'Pause';
  const mine = generation;
  document.body.dataset.episode = 'playing';
  try {
    while (playing && mine === generation && (await playStep())) {
      // At full speed, let the page paint between steps.
      if (stepInterval() === 0) await delay(0);
    }
  } catch (error) {
    fail(error);
  }
  if (mine === generation) {
    playing = false;
    $('play').textContent = episode && episode.t >= episode.batch.steps ? 'Play next episode' : 'Play';
    if (document.body.dataset.episode === 'playing') document.body.dataset.episode = 'paused';
  }
}

// ---------------------------------------------------------------- rendering

function ordinal(k: number): string {
  const suffix = k % 10 === 1 && k % 100 !== 11 ? 'st' : k % 10 === 2 && k % 100 !== 12 ? 'nd' : k % 10 === 3 && k % 100 !== 13 ? 'rd' : 'th';
  return `${k}${suffix}`;
}

function drawBars(outcome: StepOutcome, truth: number | null): void {
  const bars = $('probabilities');
  if (labels.groups !== 1) {
    bars.textContent = '';
    return;
  }
  bars.replaceChildren(
    ...Array.from(outcome.probabilities, (p, choice) => {
      const bar = document.createElement('div');
      bar.style.height = `${Math.max(1, 60 * p)}px`;
      bar.title = `${labels.describe(choice)}: ${(100 * p).toFixed(1)}%`;
      if (choice === truth) bar.className = 'true';
      const letter = document.createElement('span');
      letter.textContent = labels.describe(choice);
      bar.append(letter);
      return bar;
    }),
  );
}

function appendHistory(list: HTMLElement, image: Float32Array, text: string, right: boolean | null, title: string): void {
  const item = document.createElement('li');
  item.className = right === null ? '' : right ? 'right' : 'wrong';
  item.title = title;
  const canvas = document.createElement('canvas');
  drawInk(canvas, image);
  const caption = document.createElement('span');
  caption.textContent = text;
  item.append(canvas, caption);
  list.append(item);
}

/** Accuracy by instance: this episode so far (right / shown) and the mean over all episodes finished. */
function renderAccuracy(current: Episode | null): void {
  const table = $('accuracy') as HTMLTableElement;
  const header = ['', ...Array.from({ length: SHOTS }, (_, k) => ordinal(k + 1))];
  const rows: string[][] = [];
  const shown = new Array<number>(SHOTS).fill(0);
  const right = new Array<number>(SHOTS).fill(0);
  if (current) {
    current.record.instances.forEach((instance, t) => {
      shown[instance - 1]++;
      if (current.record.guesses[t] === current.record.labels[t]) right[instance - 1]++;
    });
  }
  rows.push(['this episode', ...shown.map((n, k) => (n === 0 ? '–' : `${right[k]}/${n}`))]);
  const summary = allEpisodes.summary(Array.from({ length: SHOTS }, (_, k) => k + 1));
  rows.push([
    `all ${allEpisodes.episodes} episodes`,
    ...summary.map((s) => (Number.isNaN(s.accuracy) ? '–' : `${(100 * s.accuracy).toFixed(0)}%`)),
  ]);
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const text of header) {
    const th = document.createElement('th');
    th.textContent = text;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const text of row) tr.insertCell().textContent = text;
  }
}

function sizeMap(id: string, rows: number): HTMLCanvasElement {
  const canvas = $(id) as HTMLCanvasElement;
  if (!canvas.classList.contains('tall')) canvas.style.height = `${Math.max(12, rows * 12)}px`;
  return canvas;
}

function drawMemory(view: MemoryView | null): void {
  if (!view) return;
  const { slots, width, heads } = view;
  if (view.usage) drawHeatMap(sizeMap('map-usage', 1), view.usage, 1, slots, { scale: 'sequential' });
  if (view.readWeights) drawHeatMap(sizeMap('map-read', heads), view.readWeights, heads, slots, { scale: 'sequential' });
  if (view.writeWeights) drawHeatMap(sizeMap('map-write', heads), view.writeWeights, heads, slots, { scale: 'sequential' });
  drawHeatMap(sizeMap('map-memory', width), transpose(view.memory, slots, width), width, slots, { scale: 'diverging' });
}

function clearMemoryMaps(): void {
  if (!model) return;
  const c = model.config;
  drawHeatMap(sizeMap('map-usage', 1), new Float32Array(c.memorySlots), 1, c.memorySlots, { scale: 'sequential' });
  drawHeatMap(sizeMap('map-read', c.heads), new Float32Array(c.heads * c.memorySlots), c.heads, c.memorySlots, { scale: 'sequential' });
  drawHeatMap(sizeMap('map-write', c.heads), new Float32Array(c.heads * c.memorySlots), c.heads, c.memorySlots, { scale: 'sequential' });
  drawHeatMap(sizeMap('map-memory', c.memoryWidth), new Float32Array(c.memoryWidth * c.memorySlots), c.memoryWidth, c.memorySlots, { scale: 'diverging' });
}

// ---------------------------------------------------------------- teach it

let teachRunner: StepRunner | null = null;
let teachPrevious: Float32Array | null = null;
let teachInput: Float32Array | null = null;
let teachOutcome: StepOutcome | null = null;
let teachLabels: number[] = [];
const pad = new DrawingPad($('pad') as HTMLCanvasElement);

function resetTeach(): void {
  if (!model) return;
  teachRunner?.dispose();
  teachRunner = new StepRunner(model, labels);
  teachPrevious = new Float32Array(labels.size);
  teachInput = null;
  teachOutcome = null;
  pad.clear();
  drawInk($('pad-preview') as HTMLCanvasElement, new Float32Array(model.imageSize));
  $('teach-guess').textContent = '–';
  $('teach-confidence').textContent = '';
  $('teach-history').replaceChildren();
  // The labels the user can give: the model's first `ways` labels (for strings, a fixed random set of them).
  const ways = selectedWays();
  teachLabels = labels.groups === 1 ? Array.from({ length: ways }, (_, i) => i) : Array.from(labels.assign(ways, createRandom(1)));
  $('teach-labels').replaceChildren(
    ...teachLabels.map((label) => {
      const button = document.createElement('button');
      button.textContent = labels.describe(label);
      button.dataset.label = String(label);
      button.disabled = true;
      button.addEventListener('click', () => void teachLabel(label).catch(fail));
      return button;
    }),
  );
}

/** The user lifted the pen: show what the model makes of the drawing (nothing enters memory yet). */
async function teachGuess(): Promise<void> {
  if (!teachRunner || !model) return;
  teachInput = pad.toInput(model.config.imageSize);
  drawInk($('pad-preview') as HTMLCanvasElement, teachInput);
  teachOutcome = await teachRunner.propose(teachInput, teachPrevious!);
  showSpeed(teachOutcome.milliseconds);
  $('teach-guess').textContent = labels.describe(teachOutcome.guess);
  $('teach-confidence').textContent = `(${(100 * teachOutcome.confidence).toFixed(0)}% sure)`;
  drawMemory(teachOutcome.memory);
  for (const button of $('teach-labels').querySelectorAll('button')) button.disabled = false;
}

/**
 * The user says what the drawing is: the step is kept (its image is now in memory) and the label is fed to the
 * model with the next drawing, exactly as y_{t-1} in an episode.
 */
async function teachLabel(label: number): Promise<void> {
  if (!teachRunner || !teachOutcome || !teachInput) return;
  teachRunner.accept();
  labels.encode(label, teachPrevious!, 0);
  const right = teachOutcome.guess === label;
  appendHistory($('teach-history'), teachInput, `${labels.describe(teachOutcome.guess)}→${labels.describe(label)}`, right, `guessed ${labels.describe(teachOutcome.guess)}, you said ${labels.describe(label)}`);
  teachOutcome = null;
  teachInput = null;
  pad.clear();
  $('teach-guess').textContent = '–';
  $('teach-confidence').textContent = '';
  for (const button of $('teach-labels').querySelectorAll('button')) button.disabled = true;
}

// ---------------------------------------------------------------- wiring

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  app.error = message;
  setStatus('error', 'Something went wrong.');
  notice(message, 'error');
  console.error(error);
}

function showTab(name: 'watch' | 'teach'): void {
  $('watch').hidden = name !== 'watch';
  $('teach').hidden = name !== 'teach';
  $('tab-watch').setAttribute('aria-selected', String(name === 'watch'));
  $('tab-teach').setAttribute('aria-selected', String(name === 'teach'));
  if (name === 'teach') playing = false;
}

function wire(): void {
  $('new-episode').addEventListener('click', newEpisode);
  $('play').addEventListener('click', () => void play());
  $('step').addEventListener('click', () => {
    if (!episode || episode.t >= episode.batch.steps) newEpisode();
    playing = false;
    void playStep().catch(fail);
  });
  $('backend').addEventListener('change', () => {
    void switchBackend(($('backend') as HTMLSelectElement).value as BackendName)
      .then(() => setStatus('ready', readyText()))
      .catch(fail);
  });
  $('model-source').addEventListener('change', () => {
    fillWays();
    buildModel();
  });
  $('ways').addEventListener('change', () => {
    // A fresh model's output layer has one unit per class, so it is rebuilt; a checkpoint plays fewer classes.
    if (!useCheckpoint()) buildModel();
    else {
      stopEpisode();
      allEpisodes = new InstanceAccuracy();
      renderAccuracy(null);
      resetTeach();
    }
  });
  $('tab-watch').addEventListener('click', () => showTab('watch'));
  $('tab-teach').addEventListener('click', () => showTab('teach'));
  $('pad-clear').addEventListener('click', () => {
    pad.clear();
    for (const button of $('teach-labels').querySelectorAll('button')) button.disabled = true;
  });
  $('teach-reset').addEventListener('click', resetTeach);
  pad.onStroke = () => void teachGuess().catch(fail);
}

function readyText(): string {
  return heldOut ? `Ready: episodes are drawn from ${heldOut.description}.` : 'Ready (teach-it mode only: this build has no Omniglot characters).';
}

async function start(): Promise<void> {
  wire();
  // The backend must be ready before the checkpoint is validated: that makes tensors, and tensors made while
  // tfjs is still initialising webgl fail (a race that a slow network or a busy machine wins).
  setStatus('loading', 'Starting the backend…');
  await activateBackend(requestedBackend());
  setStatus('loading', 'Loading the checkpoint…');
  try {
    checkpoint = await fetchCheckpoint();
  } catch (error) {
    notice(`The checkpoint could not be loaded, so an untrained model is used: ${(error as Error).message}`, 'error');
  }
  if (!checkpoint) {
    ($('model-source') as HTMLSelectElement).value = 'fresh';
    (document.querySelector('#model-source option[value="checkpoint"]') as HTMLOptionElement).disabled = true;
    notice(
      'No trained checkpoint was built into this page, so the model is freshly initialised and has learnt nothing: ' +
        'expect chance accuracy. Build with MANN_CHECKPOINT=<folder written by `mann train`> to watch a trained one.',
      'info',
      'checkpoint',
    );
  }
  for (const problem of assets.problems.filter((p) => p.includes('OMNIGLOT_DIR'))) notice(problem, 'error');
  fillWays();
  buildModel();
  if (model && assets.omniglot['images_evaluation.zip']) {
    try {
      const started = performance.now();
      heldOut = await loadHeldOut(model.config.imageSize, checkpoint, (text) => setStatus('loading', text));
      console.info(`Omniglot loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      notice(`The Omniglot characters could not be loaded: ${(error as Error).message}`, 'error');
    }
  }
  for (const id of ['new-episode', 'play', 'step']) ($(id) as HTMLButtonElement).disabled = !heldOut;
  if (!heldOut) showTab('teach');
  else newEpisode();
  setStatus('ready', readyText());
}

/** The backend asked for in the URL (`?backend=wasm`), default webgl. */
function requestedBackend(): BackendName {
  const requested = new URLSearchParams(location.search).get('backend');
  return requested === 'wasm' || requested === 'cpu' ? requested : 'webgl';
}

for (const id of ['new-episode', 'play', 'step']) ($(id) as HTMLButtonElement).disabled = true;
start().catch(fail);
// For the console: `tf.memory()` shows that tensors do not leak from step to step.
(window as unknown as { tf: typeof tf }).tf = tf;
