// The page's third mode, Train: a small MANN learns from scratch in a Web Worker (train_worker.ts) while the page
// draws its learning curve; the model can then replace the shipped one in Watch and Teach it, be saved in the
// browser (IndexedDB) and downloaded as a checkpoint folder (.zip) that `mann eval` reads.
import type { MannAssets } from '../build/mann_assets';
import type { CheckpointFiles } from './data';
import { deleteSavedCheckpoint, loadSavedCheckpoint, saveCheckpoint, type SavedCheckpoint } from './checkpoint_store';
import { CURVE_INSTANCES, DEFAULT_FRAME, axisEnd, axisTicks, describePoint, ordinal, percent, polylinePoints, secondPassesFirst, type CurvePoint } from './learning_curve';
import {
  describeSettings,
  settingsFromQuery,
  settingsOfCheckpoint,
  type FromWorker,
  type ToWorker,
  type TrainSettings,
} from './train_settings';
import { storedZip } from './zip';

/** What the Train mode needs from the page. */
export interface TrainHost {
  /** The build's training characters (null: the mode is off). */
  training: MannAssets['training'];
  /** tfjs' .wasm files, absolute URLs. */
  wasmPaths: Record<string, string>;
  /** Shows an error the page's way (one red note) / clears it. */
  fail(error: unknown): void;
  recover(): void;
  /** Says something to screen readers. */
  announce(text: string): void;
  /** Puts a trained checkpoint in the Model menu (`label`); `use`: switches Watch and Teach it to it now. */
  offerModel(checkpoint: CheckpointFiles, label: string, use: boolean): Promise<void>;
  /** Switches Watch and Teach it back to the shipped checkpoint. */
  useShippedModel(): Promise<void>;
  /** Whether the model in use is the one trained here. */
  usingTrainedModel(): boolean;
}

/** What the page exposes of the Train mode on `window.mannApp.train` (for the curious and the e2e test). */
export interface TrainState {
  status: 'off' | 'idle' | 'loading' | 'training' | 'paused' | 'error';
  settings: TrainSettings;
  step: number;
  msPerBatch: number;
  curve: CurvePoint[];
  /** Wall time spent training (loading excluded), ms. */
  trainingMs: number;
  /** The first evaluation where the 2nd instance beat the 1st, and the training time it took. */
  passed: { step: number; trainingMs: number } | null;
  fastPath?: string;
  backend?: string;
  /** When the model in the Model menu was saved in this browser (ISO), if it was. */
  savedAt?: string;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function duration(milliseconds: number): string {
  const seconds = Math.round(milliseconds / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

export class TrainMode {
  readonly state: TrainState;
  private worker: Worker | null = null;
  private saved: SavedCheckpoint | null = null;
  private snapshots = new Map<number, { resolve: (c: CheckpointFiles) => void; reject: (e: Error) => void }>();
  private nextSnapshot = 1;
  /** When the current stretch of training started (performance.now()), null while not training. */
  private trainingSince: number | null = null;
  /** Training time of the stretches before the current one, ms. */
  private clockBase = 0;
  private progressText = '';

  constructor(private readonly host: TrainHost) {
    let settings: TrainSettings;
    try {
      settings = settingsFromQuery(location.search);
    } catch (error) {
      host.fail(error);
      settings = settingsFromQuery('');
    }
    this.state = { status: host.training ? 'idle' : 'off', settings, step: 0, msPerBatch: NaN, curve: [], trainingMs: 0, passed: null };
    $('train-start').addEventListener('click', () => this.startOrPause());
    $('train-use').addEventListener('click', () => void this.use().catch((error) => host.fail(error)));
    $('train-shipped').addEventListener('click', () => void host.useShippedModel().then(() => this.render()).catch((error) => host.fail(error)));
    $('train-save').addEventListener('click', () => void this.save().catch((error) => host.fail(error)));
    $('train-download').addEventListener('click', () => void this.download().catch((error) => host.fail(error)));
    $('train-restart').addEventListener('click', () => this.startOver());
    $('train-forget').addEventListener('click', () => void this.forget().catch((error) => host.fail(error)));
    $('train-settings').textContent = host.training
      ? `${describeSettings(settings)}; on ${host.training.description} (${(host.training.totalBytes / 1e6).toFixed(1)} MB, fetched when you press Start).`
      : 'This build has no training characters (build it with OMNIGLOT_DIR holding images_background.zip), so Train is off.';
    this.render();
  }

  /** Looks for a model saved in this browser (IndexedDB; no network) and offers it in the Model menu. */
  async restoreSaved(): Promise<void> {
    const saved = await loadSavedCheckpoint();
    if (!saved) return;
    this.saved = saved;
    this.state.savedAt = saved.savedAt;
    const savedSettings = settingsOfCheckpoint(saved.manifest);
    if (savedSettings && !this.worker) {
      this.state.settings = savedSettings;
      this.state.step = saved.manifest.training.step;
      this.state.curve = (saved.manifest.training.curve as CurvePoint[] | undefined) ?? [];
      this.resetClock((saved.manifest.training.trainingMs as number | undefined) ?? 0);
      this.state.passed = this.passedAt();
    }
    await this.host.offerModel(saved, this.modelLabel(saved.manifest.training.step, saved.savedAt), false);
    this.render();
  }

  private modelLabel(step: number, savedAt?: string): string {
    return `trained here, ${step.toLocaleString('en')} batches${savedAt ? ` (saved ${new Date(savedAt).toLocaleDateString()})` : ''}`;
  }

  private startOrPause(): void {
    const status = this.state.status;
    if (status === 'training') {
      this.post({ type: 'pause' });
      this.stopClock();
      this.state.status = 'paused';
    } else if (status === 'paused') {
      this.post({ type: 'resume' });
      this.state.status = 'training';
      this.trainingSince = performance.now();
    } else if (status === 'idle' || status === 'error') {
      this.start();
    }
    this.render();
  }

  private start(): void {
    const training = this.host.training;
    if (!training) return;
    this.worker?.terminate();
    // Vite bundles the worker (and its own copy of tfjs) separately: none of it loads before Train is started.
    const worker = new Worker(new URL('./train_worker.ts', import.meta.url), { type: 'module', name: 'mann-train' });
    this.worker = worker;
    worker.onmessage = (event: MessageEvent<FromWorker>) => this.receive(event.data);
    worker.onerror = (event) => {
      event.preventDefault(); // shown on the page (below), not left to the console as an uncaught error
      this.failed(new Error(`The training worker failed: ${event.message || 'it could not be loaded'}.`));
    };
    worker.onmessageerror = () => this.failed(new Error('The training worker sent a message the page could not read.'));
    const resume = this.saved && settingsOfCheckpoint(this.saved.manifest) && this.state.step > 0 ? this.saved : undefined;
    if (!resume) {
      this.state.step = 0;
      this.state.curve = [];
      this.resetClock(0);
      this.state.passed = null;
    }
    this.state.status = 'loading';
    this.state.msPerBatch = NaN;
    this.progressText = resume ? 'Continuing the saved model…' : 'Starting…';
    const base = document.baseURI;
    this.post({
      type: 'start',
      settings: this.state.settings,
      data: { indexUrl: new URL(training.index, base).href, indexSha256: training.sha256, imageSize: training.imageSize, split: training.split },
      wasmPaths: Object.fromEntries(Object.entries(this.host.wasmPaths).map(([name, url]) => [name, new URL(url, base).href])),
      resume,
    });
  }

  private startOver(): void {
    this.worker?.terminate();
    this.worker = null;
    this.resetClock(0);
    for (const pending of this.snapshots.values()) pending.reject(new Error('training was started over'));
    this.snapshots.clear();
    Object.assign(this.state, { status: 'idle', step: 0, msPerBatch: NaN, curve: [], passed: null, fastPath: undefined, backend: undefined });
    // The next Start begins afresh, even with a model saved (it stays saved, and in the Model menu).
    this.saved = null;
    this.progressText = '';
    this.render();
  }

  private post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  private receive(message: FromWorker): void {
    const state = this.state;
    switch (message.type) {
      case 'loading':
        this.progressText = message.text;
        break;
      case 'ready':
        state.step = message.step;
        state.curve = message.curve;
        state.fastPath = message.fastPath;
        state.backend = message.backend;
        state.passed = this.passedAt();
        state.status = 'training';
        this.trainingSince = performance.now();
        this.progressText = `${message.parameters.toLocaleString('en')} parameters on ${message.backend}; ${message.fastPath}. Data: ${message.data}.`;
        $('train-details').textContent = this.progressText;
        this.host.recover();
        break;
      case 'progress':
        state.step = message.step;
        state.msPerBatch = message.msPerBatch;
        this.progressText = `loss ${message.loss.toFixed(3)}`;
        break;
      case 'evaluation': {
        const wasPassed = state.passed !== null;
        state.curve.push(message.point);
        state.step = Math.max(state.step, message.point.step);
        state.passed = this.passedAt();
        if (state.passed && !wasPassed) this.host.announce(`The 2nd instance is now above the 1st: the model recalls from its memory. ${describePoint(message.point)}`);
        break;
      }
      case 'paused':
        state.step = message.step;
        break;
      case 'checkpoint':
        this.snapshots.get(message.id)?.resolve(message.checkpoint);
        this.snapshots.delete(message.id);
        break;
      case 'error':
        if (message.id !== undefined && this.snapshots.has(message.id)) {
          this.snapshots.get(message.id)!.reject(new Error(message.message));
          this.snapshots.delete(message.id);
        } else {
          this.failed(new Error(message.message));
        }
        break;
    }
    this.render();
  }

  private failed(error: Error): void {
    this.stopClock();
    this.state.status = 'error';
    this.worker?.terminate();
    this.worker = null;
    this.render();
    this.host.fail(error);
  }

  private stopClock(): void {
    this.state.trainingMs = this.trainingMs();
    this.trainingSince = null;
    this.clockBase = this.state.trainingMs;
  }

  /** Training time so far: the stretches before this one, and this one if training now. */
  private trainingMs(): number {
    return this.clockBase + (this.trainingSince === null ? 0 : performance.now() - this.trainingSince);
  }

  /** Sets the training time so far (a new run: 0; a restored one: what it saved). */
  private resetClock(milliseconds: number): void {
    this.trainingSince = null;
    this.clockBase = this.state.trainingMs = milliseconds;
  }

  private passedAt(): TrainState['passed'] {
    const point = secondPassesFirst(this.state.curve, { floor: 1 / this.state.settings.ways + 0.1 });
    if (!point) return null;
    return this.state.passed?.step === point.step ? this.state.passed : { step: point.step, trainingMs: this.trainingMs() };
  }

  /** The model now, from the worker (`optimizer`: with Adam's state), or the one saved in this browser. */
  private snapshot(optimizer: boolean): Promise<CheckpointFiles> {
    if (!this.worker || this.state.status === 'loading' || this.state.status === 'idle') {
      if (this.saved) return Promise.resolve(this.saved);
      return Promise.reject(new Error('Nothing has been trained yet: press Start training first.'));
    }
    const id = this.nextSnapshot++;
    return new Promise((resolve, reject) => {
      this.snapshots.set(id, { resolve, reject });
      this.post({ type: 'checkpoint', id, optimizer });
    });
  }

  private async use(): Promise<void> {
    const checkpoint = await this.snapshot(false);
    const step = checkpoint.manifest.training.step;
    await this.host.offerModel(checkpoint, this.modelLabel(step, checkpoint === this.saved ? this.saved.savedAt : undefined), true);
    this.host.announce(`Watch and Teach it now use the model trained here (${step.toLocaleString('en')} batches).`);
    this.render();
  }

  private async save(): Promise<void> {
    const checkpoint = await this.snapshot(true);
    checkpoint.manifest.training.trainingMs = this.trainingMs();
    this.saved = await saveCheckpoint(checkpoint);
    this.state.savedAt = this.saved.savedAt;
    await this.host.offerModel(this.saved, this.modelLabel(checkpoint.manifest.training.step, this.saved.savedAt), this.host.usingTrainedModel());
    $('train-saved').textContent = `Saved in this browser at ${new Date(this.saved.savedAt).toLocaleTimeString()}: a reload brings it back.`;
    this.host.recover();
    this.render();
  }

  private async download(): Promise<void> {
    const checkpoint = await this.snapshot(true);
    const step = checkpoint.manifest.training.step;
    const folder = `mann-browser-${step}`;
    const zip = storedZip([
      { path: `${folder}/checkpoint/manifest.json`, bytes: new TextEncoder().encode(`${JSON.stringify(checkpoint.manifest, null, 1)}\n`) },
      { path: `${folder}/checkpoint/${checkpoint.manifest.weightsManifest[0].paths[0]}`, bytes: checkpoint.weights },
    ]);
    const url = URL.createObjectURL(new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `${folder}.zip`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    $('train-saved').textContent =
      `Downloaded ${folder}.zip (${(zip.length / 1e6).toFixed(2)} MB). Unzipped, it is a \`mann train\` run folder: ` +
      `npm run mann -- eval --checkpoint ${folder}/checkpoint`;
    this.host.recover();
  }

  private async forget(): Promise<void> {
    await deleteSavedCheckpoint();
    this.saved = null;
    delete this.state.savedAt;
    $('train-saved').textContent = 'The model saved in this browser is forgotten (the Model menu keeps it until a reload).';
    this.render();
  }

  /** Buttons, progress line and curve from the state. */
  render(): void {
    const { state } = this;
    state.trainingMs = this.trainingMs();
    const start = $<HTMLButtonElement>('train-start');
    const canContinue = this.saved && settingsOfCheckpoint(this.saved.manifest) && state.step > 0 && !this.worker;
    start.textContent =
      state.status === 'training' ? 'Pause' : state.status === 'paused' ? 'Resume' : state.status === 'loading' ? 'Starting…' : canContinue ? 'Continue the saved model' : 'Start training';
    start.disabled = state.status === 'off' || state.status === 'loading';
    const trained = (this.worker !== null && state.status !== 'loading') || this.saved !== null;
    $<HTMLButtonElement>('train-use').disabled = !trained;
    $<HTMLButtonElement>('train-download').disabled = !trained;
    $<HTMLButtonElement>('train-save').disabled = !(this.worker !== null && (state.status === 'training' || state.status === 'paused'));
    $<HTMLButtonElement>('train-restart').disabled = this.worker === null && !canContinue;
    $('train-shipped').hidden = !this.host.usingTrainedModel();
    $('train-forget').hidden = state.savedAt === undefined;
    const speed = Number.isNaN(state.msPerBatch) ? '' : ` · ${state.msPerBatch.toFixed(0)} ms per batch`;
    const time = state.trainingMs > 0 ? ` · ${duration(state.trainingMs)} of training` : '';
    const what = { off: 'Train is off in this build.', idle: 'Not started.', loading: '', training: 'Training', paused: 'Paused', error: 'Stopped by an error (see the red note); Start begins again.' }[state.status];
    const batches = state.status === 'training' || state.status === 'paused' || state.step > 0 ? ` · ${state.step.toLocaleString('en')} batches${speed}${time}` : '';
    $('train-progress').textContent = [what + batches, this.progressText].filter(Boolean).join(' · ');
    document.body.dataset.train = state.status;
    this.drawCurve();
  }

  private drawCurve(): void {
    const points = this.state.curve;
    const frame = DEFAULT_FRAME;
    const plot = $('train-curve');
    const end = axisEnd(points.length ? points[points.length - 1].step : 0);
    const left = frame.left;
    const right = frame.width - frame.right;
    const bottom = frame.height - frame.bottom;
    const y = (accuracy: number) => frame.top + (bottom - frame.top) * (1 - accuracy);
    const x = (step: number) => left + ((right - left) * step) / end;
    const children: SVGElement[] = [];
    const { ways } = this.state.settings;
    const chance = 1 / ways;
    for (const accuracy of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
      if (Math.abs(accuracy - chance) > 1e-9) children.push(svg('line', { x1: left, x2: right, y1: y(accuracy), y2: y(accuracy), class: 'grid' }));
      children.push(svg('text', { x: left - 6, y: y(accuracy) + 4, 'text-anchor': 'end' }, `${accuracy * 100}%`));
    }
    children.push(svg('line', { x1: left, x2: right, y1: y(chance), y2: y(chance), class: 'chance' }));
    children.push(svg('text', { x: right - 2, y: y(chance) - 4, 'text-anchor': 'end', class: 'note' }, `chance (${ways} classes)`));
    for (const step of axisTicks(end)) {
      children.push(svg('line', { x1: x(step), x2: x(step), y1: bottom, y2: bottom + 4, class: 'axis' }));
      children.push(svg('text', { x: x(step), y: bottom + 16, 'text-anchor': 'middle' }, step.toLocaleString('en')));
    }
    children.push(svg('text', { x: (left + right) / 2, y: frame.height - 2, 'text-anchor': 'middle', class: 'note' }, 'batches trained'));
    for (const { instance, colour } of CURVE_INSTANCES) {
      children.push(svg('polyline', { points: polylinePoints(points, instance, frame), fill: 'none', stroke: colour, 'stroke-width': instance === 2 ? 2.5 : 1.6 }));
      const last = points[points.length - 1];
      if (last && !Number.isNaN(last.accuracy[instance - 1])) {
        children.push(svg('circle', { cx: x(last.step), cy: y(last.accuracy[instance - 1]), r: 3, fill: colour }));
      }
    }
    plot.replaceChildren(...children);
    const latest = points[points.length - 1];
    $('train-legend').replaceChildren(
      ...CURVE_INSTANCES.map(({ instance, colour }) => {
        const item = document.createElement('span');
        item.style.setProperty('--colour', colour);
        item.textContent = `${ordinal(instance)} instance${latest ? ` ${percent(latest.accuracy[instance - 1])}` : ''}`;
        return item;
      }),
    );
    const passed = this.state.passed;
    $('train-curve-caption').textContent = latest
      ? `${describePoint(latest)}${passed ? ` The 2nd instance passed the 1st at ${passed.step.toLocaleString('en')} batches (${duration(passed.trainingMs)} of training).` : ''}`
      : 'The curve appears when training starts.';
  }
}
