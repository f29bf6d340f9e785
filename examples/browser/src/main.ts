import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '@mann/backend';
import { InstanceAccuracy, createRandom, type EpisodeBatch, type LabelEncoding } from '@mann/episodes';
import { MemoryAugmentedNetwork, labelEncodingFor, restoreCheckpoint } from '@mann/model';
import { WASM_PATHS, chooseBackend, describeBackend } from './backends';
import { assets, fetchCheckpoint, loadHeldOut, type CheckpointFiles, type HeldOut } from './data';
import { drawHeatMap, drawInk, transpose } from './heat_map';
import { StepRunner, type MemoryView, type StepOutcome } from './step_runner';
import { DrawingPad } from './drawing_pad';
import { TrainMode, type TrainState } from './train_mode';

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
  /** The image fed to the model at each step (D numbers each, ink = 1). */
  images: number[][];
}

/** What the page exposes on `window.mannApp`, for the curious (and the end-to-end test). */
interface AppHandle {
  status: string;
  backend: BackendName | null;
  episodes: EpisodeRecord[];
  /** The error the page shows now (cleared when the next action succeeds). */
  error?: string;
  /** Every error shown since the page loaded. */
  errors: string[];
  /** The Train mode: status, batches, learning curve (see train_mode.ts). */
  train?: TrainState;
}

const app: AppHandle = { status: 'loading', backend: null, episodes: [], errors: [] };
(window as unknown as { mannApp: AppHandle }).mannApp = app;

let checkpoint: CheckpointFiles | null = null;
/** The model trained in the Train mode (or saved in this browser), once offered; `label` says which. */
let trainedHere: { files: CheckpointFiles; label: string } | null = null;
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
  /** The labels of the episode's classes, ascending: the only answers the model may give. */
  labels: number[];
}
let episode: Episode | null = null;
/** True while Play runs; `playToken` tells the current play loop from one a quick Pause + Play left behind. */
let playing = false;
let playToken = 0;

/**
 * Runs the actions that use the model one at a time, in the order asked: a step, a new episode, a backend switch,
 * a rebuilt model, a teach-it guess. A step awaits its results from the backend, so without this a second click (or
 * a backend switch) would start while the first is still running, on state the first is about to replace.
 */
class ActionQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(action: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(action);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
const actions = new ActionQueue();

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

/** Says `text` to screen readers (a polite live region of its own: the status line's counters are not read out). */
function announce(text: string): void {
  $('announce').textContent = text;
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

/** The checkpoint the Model menu picks: the shipped one, the one trained here, or none (fresh weights). */
function activeCheckpoint(): CheckpointFiles | null {
  const source = ($('model-source') as HTMLSelectElement).value;
  return source === 'checkpoint' ? checkpoint : source === 'trained' ? (trainedHere?.files ?? null) : null;
}

function useCheckpoint(): boolean {
  return activeCheckpoint() !== null;
}

/** The class counts this model can play: up to its output size for one-hot labels. */
function waysChoices(): number[] {
  if (!useCheckpoint()) return FRESH_WAYS;
  const config = activeCheckpoint()!.manifest.config;
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
  const files = activeCheckpoint();
  if (files) {
    const restored = restoreCheckpoint(files.manifest, files.weights);
    // A checkpoint saved to continue training carries Adam's state, which playing does not need.
    tf.dispose(Object.values(restored.optimizerState));
    model = restored.model;
    const step = files.manifest.training.step;
    $('status-model').textContent = files === checkpoint ? `checkpoint, ${step.toLocaleString('en')} training steps` : trainedHere!.label;
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

/** The backend last picked in the menu; a switch that waited its turn goes to this one. */
let wantedBackend: BackendName | null = null;

async function switchBackend(): Promise<void> {
  const wanted = wantedBackend;
  if (!wanted || wanted === app.backend) return;
  setStatus('switching', `Starting ${wanted}…`);
  await activateBackend(wanted);
  // Tensors belong to the backend that made them: rebuild the model on the new one (and start a new episode).
  buildModel();
  if (heldOut) await newEpisode(currentSeed());
  setStatus('ready', readyText());
}

// ---------------------------------------------------------------- episodes

function stopEpisode(): void {
  pendingReveal = null;
  episode?.runner.dispose();
  episode = null;
}

/** The seed in the seed box (a whole number >= 0). */
function currentSeed(): number {
  return Math.max(0, Math.floor(Number(($('seed') as HTMLInputElement).value) || 0));
}

/** Set when a seed is typed, until an episode starts: the next episode is then that seed. */
let seedTyped = false;

/** The next episode's seed: the one typed in the box, else the current episode's plus one. */
function nextSeed(): number {
  return seedTyped || !episode ? currentSeed() : episode.record.seed + 1;
}

/** Play and Step start a new episode when there is none, the current one is over, or another seed was typed. */
function needsNewEpisode(): boolean {
  return !episode || episode.t >= episode.batch.steps || (seedTyped && currentSeed() !== episode.record.seed);
}

/** Starts episode `seed` (not played yet); the seed box shows the seed of the episode on the page. */
async function newEpisode(seed: number): Promise<void> {
  if (!model || !heldOut) return;
  stopEpisode();
  const ways = selectedWays();
  // Fetches the few characters this episode shows, if they are not here yet (a few kB each).
  const status = $('status-text').textContent;
  let batch: EpisodeBatch;
  try {
    batch = await heldOut.sampleEpisode({ ways, shots: SHOTS, seed, labels, onProgress: (text) => ($('status-text').textContent = text) });
  } finally {
    $('status-text').textContent = status;
  }
  const record: EpisodeRecord = { backend: app.backend!, seed, ways, labels: [], guesses: [], instances: [], probabilities: [], images: [] };
  // The labels of this episode's classes: with fewer classes than the model has outputs, it answers only these.
  const episodeLabels = [...new Set(batch.labels)].sort((a, b) => a - b);
  episode = {
    batch,
    runner: new StepRunner(model, labels),
    t: 0,
    record,
    predictions: new Int32Array(batch.steps * batch.groups),
    labels: episodeLabels,
  };
  app.episodes.push(record);
  document.body.dataset.episode = 'ready';
  $('history').replaceChildren();
  for (const id of ['guess', 'confidence', 'truth', 'right-wrong', 'current-caption']) $(id).textContent = '–';
  $('probabilities').replaceChildren();
  clearMemoryMaps();
  drawInk($('current-image') as HTMLCanvasElement, new Float32Array(model.imageSize));
  renderAccuracy(episode);
  ($('seed') as HTMLInputElement).value = String(seed);
  seedTyped = false;
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function stepInterval(): number {
  const speed = ($('speed') as HTMLSelectElement).value;
  return speed === 'max' ? 0 : 1000 / Number(speed);
}

/** Shows a step's true label; runs once, either after half the step interval or when the next step starts. */
interface Reveal {
  run(): void;
  /** Whether the episode has steps left after this one. */
  more: boolean;
}
let pendingReveal: Reveal | null = null;

/**
 * Runs the next step of the episode (call it through `actions`): the model's guess is shown at once; the returned
 * `Reveal` shows the true label. Returns null when the episode has no step left.
 */
async function playStep(): Promise<Reveal | null> {
  pendingReveal?.run();
  const current = episode;
  if (!current || current.t >= current.batch.steps) return null;
  const { batch, runner, t, record } = current;
  const d = batch.sampleSize;
  const l = labels.size;
  const image = batch.inputs.slice(t * d, (t + 1) * d);
  const outcome = await runner.propose(image, batch.previousLabels.slice(t * l, (t + 1) * l), current.labels);
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
  record.images.push(Array.from(image));

  const imageCanvas = $('current-image') as HTMLCanvasElement;
  drawInk(imageCanvas, image);
  const caption = `step ${t + 1} of ${batch.steps} · ${ordinal(instance)} time this character is shown`;
  $('current-caption').textContent = caption;
  imageCanvas.setAttribute('aria-label', `The drawing of ${caption}`);
  $('guess').textContent = labels.describe(outcome.guess);
  $('confidence').textContent = `(${(100 * outcome.confidence).toFixed(0)}% sure)`;
  $('truth').textContent = '?';
  $('right-wrong').textContent = '';
  drawBars(outcome, null, current.labels);
  drawMemory(outcome.memory);

  let revealed = false;
  const reveal: Reveal = {
    more: current.t < batch.steps,
    run() {
      if (revealed) return;
      revealed = true;
      if (pendingReveal === reveal) pendingReveal = null;
      if (episode !== current) return; // the episode was replaced meanwhile
      const right = outcome.guess === label;
      $('truth').textContent = labels.describe(label);
      const verdict = $('right-wrong');
      verdict.textContent = right ? 'right' : instance === 1 ? 'wrong (first sight: it could only guess)' : 'wrong';
      verdict.className = right ? 'right' : 'wrong';
      drawBars(outcome, label, current.labels);
      appendHistory($('history'), image, `${labels.describe(outcome.guess)}·${instance}`, right, `step ${t + 1}: guessed ${labels.describe(outcome.guess)}, was ${labels.describe(label)}`);
      if (t + 1 === batch.steps) {
        allEpisodes.add(batch, current.predictions);
        document.body.dataset.episode = 'done';
        // The episode is over: Play (clicked from now on) starts the next one, it does not pause this one.
        if (playing) {
          playing = false;
          playToken++;
        }
        renderPlayButton();
      }
      renderAccuracy(current);
      // Every step is read out when they come slowly (2 steps/s or slower, or one at a time); at speed, the result.
      if (!playing || stepInterval() >= 500) {
        announce(`Step ${t + 1}: guessed ${labels.describe(outcome.guess)}, ${Math.round(100 * outcome.confidence)}% sure; it was ${labels.describe(label)}: ${right ? 'right' : 'wrong'}.`);
      } else if (t + 1 === batch.steps) {
        const correct = record.guesses.filter((guess, i) => guess === record.labels[i]).length;
        announce(`Episode done: ${correct} of ${batch.steps} right.`);
      }
    },
  };
  pendingReveal = reveal;
  return reveal;
}

/** Waits half a step interval (none at full speed), then shows the true label. */
async function revealLater(reveal: Reveal): Promise<void> {
  const interval = stepInterval();
  if (interval > 0) await delay(interval / 2);
  reveal.run();
}

function renderPlayButton(): void {
  const button = $('play');
  const finished = !episode || episode.t >= episode.batch.steps;
  button.textContent = playing ? 'Pause' : finished && episode ? 'Play next episode' : 'Play';
  button.setAttribute('aria-pressed', String(playing));
}

function pause(): void {
  playing = false;
  playToken++;
  renderPlayButton();
  if (document.body.dataset.episode === 'playing') document.body.dataset.episode = 'paused';
}

/** Play / Pause. Play runs the episode's steps one after another (a finished episode: the next seed first). */
async function play(): Promise<void> {
  if (playing) return pause();
  playing = true;
  const token = ++playToken;
  const stillPlaying = () => playing && token === playToken;
  renderPlayButton();
  try {
    const current = await actions.run(async () => {
      if (stillPlaying() && needsNewEpisode()) await newEpisode(nextSeed());
      return episode;
    });
    if (!current || !stillPlaying()) return;
    document.body.dataset.episode = 'playing';
    bringStageIntoView();
    while (stillPlaying() && episode === current) {
      const reveal = await actions.run(() => (stillPlaying() && episode === current ? playStep() : null));
      if (!reveal) break;
      await revealLater(reveal);
      recover();
      if (!reveal.more) break;
      const interval = stepInterval();
      if (interval > 0) await delay(interval / 2);
      else await delay(0); // at full speed, let the page paint between steps
    }
  } catch (error) {
    fail(error);
  }
  if (token === playToken) {
    playing = false;
    renderPlayButton();
    if (document.body.dataset.episode === 'playing') document.body.dataset.episode = 'paused';
  }
}

/** Steps waiting in the queue from Step clicks (a few are kept; more clicks meanwhile are dropped). */
let queuedSteps = 0;

/** Step: pauses play and runs one step (a finished episode: the next seed's first). */
function stepOnce(): void {
  if (playing) pause();
  if (queuedSteps >= 2) return;
  queuedSteps++;
  actions
    .run(async () => {
      queuedSteps--;
      if (needsNewEpisode()) await newEpisode(nextSeed());
      return playStep();
    })
    .then(async (reveal) => {
      if (reveal) await revealLater(reveal);
      renderPlayButton();
      recover();
    })
    .catch(fail);
}

/** On a small screen, scrolls so the image and the guess are in view while an episode plays. */
function bringStageIntoView(): void {
  const stage = $('watch-stage');
  const box = stage.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) stage.scrollIntoView({ block: 'start', behavior: 'smooth' });
}

// ---------------------------------------------------------------- rendering

function ordinal(k: number): string {
  const suffix = k % 10 === 1 && k % 100 !== 11 ? 'st' : k % 10 === 2 && k % 100 !== 12 ? 'nd' : k % 10 === 3 && k % 100 !== 13 ? 'rd' : 'th';
  return `${k}${suffix}`;
}

/** A bar per label the model may answer (`allowed`): its probability; the true label's bar in green. */
function drawBars(outcome: StepOutcome, truth: number | null, allowed: readonly number[]): void {
  const bars = $('probabilities');
  if (labels.groups !== 1) {
    bars.textContent = '';
    return;
  }
  bars.replaceChildren(
    ...allowed.map((choice) => {
      const p = outcome.probabilities[choice];
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
  bars.setAttribute('aria-label', `Probabilities: ${allowed.map((c) => `${labels.describe(c)} ${(100 * outcome.probabilities[c]).toFixed(0)}%`).join(', ')}`);
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
  if (view.usage) legend('usage', drawHeatMap(sizeMap('map-usage', 1), view.usage, 1, slots, { scale: 'sequential' }), 'sequential');
  if (view.readWeights) legend('read', drawHeatMap(sizeMap('map-read', heads), view.readWeights, heads, slots, { scale: 'sequential' }), 'sequential');
  if (view.writeWeights) legend('write', drawHeatMap(sizeMap('map-write', heads), view.writeWeights, heads, slots, { scale: 'sequential' }), 'sequential');
  legend('memory', drawHeatMap(sizeMap('map-memory', width), transpose(view.memory, slots, width), width, slots, { scale: 'diverging' }), 'diverging');
}

/** The colour scale of a map: the values its darkest and brightest colours stand for (each map scales to its largest). */
function legend(map: string, maximum: number, scale: 'sequential' | 'diverging'): void {
  const low = scale === 'sequential' || maximum === 0 ? '0' : (-maximum).toPrecision(2);
  const high = maximum === 0 ? '0' : maximum.toPrecision(2);
  const element = $(`legend-${map}`);
  element.querySelector('.low')!.textContent = low;
  element.querySelector('.high')!.textContent = high;
  element.title = `colour scale: ${low} to ${high}`;
}

function clearMemoryMaps(): void {
  if (!model) return;
  const c = model.config;
  drawMemory({
    slots: c.memorySlots,
    width: c.memoryWidth,
    heads: c.heads,
    memory: new Float32Array(c.memoryWidth * c.memorySlots),
    usage: new Float32Array(c.memorySlots),
    readWeights: new Float32Array(c.heads * c.memorySlots),
    writeWeights: new Float32Array(c.heads * c.memorySlots),
  });
}

// ---------------------------------------------------------------- teach it

/** How long the pen must stay up before the model guesses: a character is often several strokes. */
const GUESS_AFTER_MS = 600;

let teachRunner: StepRunner | null = null;
let teachPrevious: Float32Array | null = null;
let teachInput: Float32Array | null = null;
let teachOutcome: StepOutcome | null = null;
let teachLabels: number[] = [];
/** Bumped when the drawing changes or is cleared, so a guess made for an older drawing is dropped. */
let drawingVersion = 0;
let guessTimer: ReturnType<typeof setTimeout> | undefined;
const pad = new DrawingPad($('pad') as HTMLCanvasElement);

function setLabelButtons(enabled: boolean): void {
  for (const button of $('teach-labels').querySelectorAll('button')) button.disabled = !enabled;
}

/** Forgets the drawing and its guess (the memory keeps what was labelled). */
function clearDrawing(): void {
  drawingVersion++;
  clearTimeout(guessTimer);
  pad.clear();
  teachRunner?.discardPending();
  teachInput = null;
  teachOutcome = null;
  if (model) drawInk($('pad-preview') as HTMLCanvasElement, new Float32Array(model.imageSize));
  $('teach-guess').textContent = '–';
  $('teach-confidence').textContent = '';
  setLabelButtons(false);
}

function resetTeach(): void {
  if (!model) return;
  teachRunner?.dispose();
  teachRunner = new StepRunner(model, labels);
  teachPrevious = new Float32Array(labels.size);
  clearDrawing();
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
      button.setAttribute('aria-label', `This is ${labels.describe(label)}`);
      button.addEventListener('click', () => void actions.run(() => teachLabel(label)).catch(fail));
      return button;
    }),
  );
}

/** The pen has been up for a moment: show what the model makes of the drawing (nothing enters memory yet). */
async function teachGuess(version: number): Promise<void> {
  if (!teachRunner || !model || version !== drawingVersion) return;
  const input = pad.toInput(model.config.imageSize);
  drawInk($('pad-preview') as HTMLCanvasElement, input);
  const outcome = await teachRunner.propose(input, teachPrevious!, labels.groups === 1 ? teachLabels : undefined);
  if (version !== drawingVersion) {
    teachRunner.discardPending(); // the drawing changed while the model looked at it
    return;
  }
  teachInput = input;
  teachOutcome = outcome;
  showSpeed(outcome.milliseconds);
  $('teach-guess').textContent = labels.describe(outcome.guess);
  $('teach-confidence').textContent = `(${(100 * outcome.confidence).toFixed(0)}% sure)`;
  announce(`The model guesses ${labels.describe(outcome.guess)}, ${Math.round(100 * outcome.confidence)}% sure. Choose what it is.`);
  drawMemory(outcome.memory);
  setLabelButtons(true);
  recover();
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
  teachOutcome = null; // accepted: clearDrawing must not discard it
  clearDrawing();
  recover();
}

// ---------------------------------------------------------------- wiring

/** Shows an error (one banner, replaced by the next) until an action succeeds again. */
function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  app.error = message;
  app.errors.push(message);
  setStatus('error', 'Something went wrong (see the red note); the page recovers with the next thing that works.');
  notice(message, 'error', 'failure');
  console.error(error);
}

/** An action worked: the error banner, if any, goes. */
function recover(): void {
  if (app.error === undefined) return;
  delete app.error;
  document.querySelector('[data-key="failure"]')?.remove();
  setStatus('ready', readyText());
}

type Tab = 'watch' | 'teach' | 'train';
const TABS: Tab[] = ['watch', 'teach', 'train'];

function showTab(name: Tab, focus = false): void {
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const selected = tab === name;
    $(tab).hidden = !selected;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    if (selected && focus) button.focus();
  }
  if (name !== 'watch' && playing) pause();
  // The memory maps belong to Watch and Teach it; Train has its curve instead.
  (document.querySelector('.memory') as HTMLElement).hidden = name === 'train';
}

/** A change that replaces the model or the episode: play stops first, then it waits its turn. */
function replace(action: () => void | Promise<void>): Promise<void> {
  if (playing) pause();
  return actions
    .run(action)
    .then(() => {
      renderPlayButton();
      recover();
    })
    .catch(fail);
}

function wire(): void {
  $('new-episode').addEventListener('click', () => replace(() => newEpisode(nextSeed())));
  $('play').addEventListener('click', () => void play());
  $('step').addEventListener('click', stepOnce);
  // A seed typed in starts that episode (Enter, or leaving the box).
  // A seed typed in is the next episode's: Enter starts it now, Play or Step when clicked. (Not on leaving the box:
  // a new episode re-lays the page out between the press and the release of a click on Play, and the click is lost.)
  $('seed').addEventListener('input', () => (seedTyped = true));
  $('seed').addEventListener('keydown', (event) => {
    if (event.key === 'Enter') replace(() => newEpisode(currentSeed()));
  });
  $('backend').addEventListener('change', () => {
    wantedBackend = ($('backend') as HTMLSelectElement).value as BackendName;
    replace(switchBackend);
  });
  $('model-source').addEventListener('change', () => {
    void replace(rebuildForModelSource).then(() => trainMode?.render());
  });
  $('ways').addEventListener('change', () =>
    replace(async () => {
      // A fresh model's output layer has one unit per class, so it is rebuilt; a checkpoint plays fewer classes.
      if (!useCheckpoint()) buildModel();
      else {
        allEpisodes = new InstanceAccuracy();
        resetTeach();
      }
      if (heldOut) await newEpisode(currentSeed());
    }),
  );
  for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => showTab(tab));
  // Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern).
  $('tablist').addEventListener('keydown', (event) => {
    const at = TABS.findIndex((tab) => $(`tab-${tab}`).getAttribute('aria-selected') === 'true');
    const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: TABS.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    showTab(TABS[(next + TABS.length) % TABS.length], true);
  });
  $('pad-clear').addEventListener('click', clearDrawing);
  $('teach-reset').addEventListener('click', () => void actions.run(resetTeach).catch(fail));
  pad.onStrokeStart = () => {
    // More ink: the guess shown is for a drawing that is no longer there.
    drawingVersion++;
    clearTimeout(guessTimer);
    if (teachOutcome) {
      teachOutcome = null;
      $('teach-guess').textContent = '…';
      $('teach-confidence').textContent = '';
      setLabelButtons(false);
    }
  };
  pad.onStroke = () => {
    const version = drawingVersion;
    clearTimeout(guessTimer);
    guessTimer = setTimeout(() => void actions.run(() => teachGuess(version)).catch(fail), GUESS_AFTER_MS);
  };
}

/** The Model menu changed: the model is rebuilt from what it now picks, and a new episode starts. */
async function rebuildForModelSource(): Promise<void> {
  fillWays();
  buildModel();
  if (heldOut) await newEpisode(currentSeed());
}

// ---------------------------------------------------------------- train

let trainMode: TrainMode | null = null;

/** Puts a model trained here in the Model menu; `use`: Watch and Teach it switch to it now. */
function offerTrainedModel(files: CheckpointFiles, label: string, use: boolean): Promise<void> {
  const select = $('model-source') as HTMLSelectElement;
  const option = select.querySelector('option[value="trained"]') as HTMLOptionElement;
  option.hidden = false;
  option.disabled = false;
  option.textContent = label;
  const wasInUse = select.value === 'trained';
  trainedHere = { files, label };
  if (!use) {
    if (wasInUse) $('status-model').textContent = label;
    return Promise.resolve();
  }
  return replace(async () => {
    select.value = 'trained';
    await rebuildForModelSource();
  });
}

function useShippedModel(): Promise<void> {
  return replace(async () => {
    ($('model-source') as HTMLSelectElement).value = checkpoint ? 'checkpoint' : 'fresh';
    await rebuildForModelSource();
  });
}

function startTrainMode(): void {
  trainMode = new TrainMode({
    training: assets.training,
    wasmPaths: WASM_PATHS,
    fail,
    recover,
    announce,
    offerModel: offerTrainedModel,
    useShippedModel,
    usingTrainedModel: () => ($('model-source') as HTMLSelectElement).value === 'trained',
  });
  app.train = trainMode.state;
}

function readyText(): string {
  return heldOut ? `Ready: episodes are drawn from ${heldOut.description}.` : 'Ready (teach-it mode only: this build has no Omniglot characters).';
}

async function start(): Promise<void> {
  wire();
  startTrainMode();
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
  if (model && assets.heldOut) {
    try {
      heldOut = await loadHeldOut(model.config.imageSize, (text) => setStatus('loading', text));
    } catch (error) {
      notice(`The Omniglot characters could not be loaded: ${(error as Error).message}`, 'error');
    }
  }
  for (const id of ['new-episode', 'play', 'step']) ($(id) as HTMLButtonElement).disabled = !heldOut;
  if (!heldOut) showTab('teach');
  else await newEpisode(currentSeed());
  renderPlayButton();
  setStatus('ready', readyText());
  // A model saved in this browser by the Train mode comes back in the Model menu (IndexedDB: nothing is downloaded).
  trainMode?.restoreSaved().catch((error: Error) => console.warn(`The model saved in this browser could not be read: ${error.message}`));
}

/** The backend asked for in the URL (`?backend=wasm`), default webgl. */
function requestedBackend(): BackendName {
  const requested = new URLSearchParams(location.search).get('backend');
  return requested === 'wasm' || requested === 'cpu' ? requested : 'webgl';
}

for (const id of ['new-episode', 'play', 'step']) ($(id) as HTMLButtonElement).disabled = true;
// Start-up goes through the queue too: a backend picked while the page loads waits until it has loaded.
actions.run(start).catch(fail);
// For the console: `tf.memory()` shows that tensors do not leak from step to step.
(window as unknown as { tf: typeof tf }).tf = tf;
