import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '@mann/backend';
import { evaluateModel } from '@mann/model';
import { loadCheckpoint } from '@mann/model/node';
import { OmniglotDataset, paperSplit, validationSplit } from '@mann/omniglot';
import { loadOmniglot } from '@mann/omniglot/node';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// The same no-fallback static server that measures the download serves the page to every test.
import { DOWNLOAD_BUDGET, measureDownload, serveFolder } from '../scripts/measure-download.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = resolve(here, '..');
const DIST = join(EXAMPLE, 'dist');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The README's screenshot is refreshed only on request (MANN_E2E_UPDATE_SCREENSHOT=1); other runs keep theirs aside.
const SCREENSHOT = join(EXAMPLE, process.env.MANN_E2E_UPDATE_SCREENSHOT ? 'screenshot.png' : 'test-output/screenshot.png');
const TRAIN_SCREENSHOT = join(EXAMPLE, process.env.MANN_E2E_UPDATE_SCREENSHOT ? 'docs/train-mode.png' : 'test-output/train-mode.png');
/**
 * Training time the Train mode may take before its 2nd instance must have passed its 1st (on the validation
 * characters). Measured with the default settings on this project's 2-core machine in headless Chromium: see the
 * README's "Train" section; this leaves room for a slower CI machine.
 */
const TRAIN_BUDGET_MS = Number(process.env.MANN_E2E_TRAIN_BUDGET_MS ?? 240_000);

// Flags for a sandbox without network or GPU: no background connections (they fail by the dozen offline), and
// WebGL through SwiftShader, Chromium's software renderer.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
];

/**
 * Tolerance on softmax probabilities between backends. All three compute in float32 but in different orders
 * (webgl in shaders, wasm with SIMD, cpu in JavaScript), so rounding differs at ~1e-7 relative per op; over 50
 * recurrent steps of an LSTM plus memory that can grow, but stays far below 1e-3 for a model whose outputs are not
 * chaotic. 1e-3 is also well below the gap that would change what the page shows (it prints whole percents).
 */
const PROBABILITY_TOLERANCE = 1e-3;

interface EpisodeRecord {
  backend: string;
  seed: number;
  ways: number;
  labels: number[];
  guesses: number[];
  instances: number[];
  probabilities: number[][];
  images: number[][];
}

let context: BrowserContext;
let page: Page;
let server: { url: string; close: () => Promise<void> };
let userDataDir: string;
const episodes: Record<string, EpisodeRecord> = {};
/** Console errors and uncaught page errors of the main page: any one fails the test that was running. */
let pageErrors: string[] = [];

/** Watches a page for console errors and uncaught errors (a person would see something broken). */
function collectErrors(target: Page, into: string[]): void {
  target.on('pageerror', (error) => into.push(`page error: ${error.message}`));
  target.on('console', (message) => {
    if (message.type() === 'error') into.push(`console error: ${message.text()}`);
  });
}

/** The page's `window.mannApp`. */
function appState<T>(target: Page, read: (app: { status: string; backend: string; error?: string; errors: string[]; episodes: EpisodeRecord[] }) => T): Promise<T> {
  return target.evaluate(`(${read.toString()})(window.mannApp)`) as Promise<T>;
}

async function waitReady(target: Page): Promise<void> {
  await target.waitForFunction(
    () => {
      const app = (window as unknown as { mannApp?: { status: string; error?: string } }).mannApp;
      return app && (app.status === 'ready' || app.status === 'error');
    },
    undefined,
    { timeout: 120_000, polling: 100 },
  );
  const error = await target.evaluate(() => (window as unknown as { mannApp: { error?: string } }).mannApp.error);
  expect(error).toBeUndefined();
}

/** Picks a backend in the page, plays one 5-way, 10-shot episode with seed 3 at full speed, returns its record. */
async function playEpisode(backend: string): Promise<EpisodeRecord> {
  await page.selectOption('#backend', backend);
  await page.waitForFunction((name) => {
    const app = (window as unknown as { mannApp: { status: string; backend: string } }).mannApp;
    return app.status === 'ready' && app.backend === name;
  }, backend);
  await page.selectOption('#speed', 'max');
  await page.selectOption('#ways', '5');
  return playSeed(3);
}

/** Types `seed` in the seed box (a person's way: type, then Play), plays that episode to its end, returns it. */
async function playSeed(seed: number, target: Page = page): Promise<EpisodeRecord> {
  await target.fill('#seed', String(seed));
  await target.click('#play');
  await target.waitForSelector('body[data-episode="done"]', { timeout: 120_000 });
  const record = await appState(target, (app) => app.episodes[app.episodes.length - 1]);
  expect(record.seed, 'the episode played is the seed typed before Play').toBe(seed);
  expect(record.guesses).toHaveLength(record.ways * 10);
  return record;
}

/** Accuracy from the 2nd instance on, over episodes. */
function laterAccuracy(records: EpisodeRecord[]): { right: number; shown: number } {
  let right = 0;
  let shown = 0;
  for (const r of records) {
    r.instances.forEach((instance, t) => {
      if (instance < 2) return;
      shown++;
      if (r.guesses[t] === r.labels[t]) right++;
    });
  }
  return { right, shown };
}

/** Whether the page carries a trained checkpoint (the one shipped in checkpoints/), not a generated untrained one. */
async function trained(): Promise<boolean> {
  const text = (await page.textContent('#status-model')) ?? '';
  const steps = Number(/^checkpoint, ([\d,]+) training steps/.exec(text)?.[1].replace(/,/g, '') ?? 0);
  return steps >= 10_000;
}

type Point = [number, number];

/** Draws strokes on the teach-it pad with the mouse; points are fractions of the pad's width and height. */
async function drawStrokes(strokes: Point[][]): Promise<void> {
  const pad = await page.locator('#pad').boundingBox();
  expect(pad).not.toBeNull();
  for (const points of strokes) {
    await page.mouse.move(pad!.x + points[0][0] * pad!.width, pad!.y + points[0][1] * pad!.height);
    await page.mouse.down();
    for (const [x, y] of points.slice(1)) await page.mouse.move(pad!.x + x * pad!.width, pad!.y + y * pad!.height, { steps: 6 });
    await page.mouse.up();
  }
}

/** Waits for the teach-it guess of the drawing just made; returns it. */
async function teachGuess(): Promise<string> {
  await page.waitForFunction(() => /^[a-z]$/.test(document.getElementById('teach-guess')!.textContent ?? ''), undefined, { timeout: 30_000 });
  return (await page.textContent('#teach-guess'))!;
}

/** Three shapes a person might teach, a little displaced each time they are drawn again (`shift`). */
function shapes(shift: number): Record<'circle' | 'cross' | 'bar', Point[][]> {
  const circle: Point[] = Array.from({ length: 25 }, (_, i) => {
    const angle = (2 * Math.PI * i) / 24;
    return [0.5 + shift + 0.28 * Math.cos(angle), 0.5 - shift + 0.28 * Math.sin(angle)];
  });
  return {
    circle: [circle],
    cross: [
      [[0.2 + shift, 0.2], [0.8 + shift, 0.8]],
      [[0.8 + shift, 0.2], [0.2 + shift, 0.8]],
    ],
    bar: [[[0.15, 0.5 + shift], [0.85, 0.5 + shift]]],
  };
}

function maxDifference(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((row, t) => row.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - b[t][i])))));
  return worst;
}

/** The files of a zip that stores them uncompressed (what the Train mode's Download writes). */
function unzipStored(zip: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = zip.length - 22;
  expect(view.getUint32(end, true), 'end of central directory').toBe(0x06054b50);
  let at = view.getUint32(end + 16, true);
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < view.getUint16(end + 10, true); i++) {
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    files.set(name, zip.subarray(start, start + size));
    at += 46 + nameLength;
  }
  return files;
}

interface TrainState {
  status: string;
  step: number;
  msPerBatch: number;
  trainingMs: number;
  fastPath?: string;
  backend?: string;
  passed: { step: number; trainingMs: number } | null;
  curve: { step: number; accuracy: number[]; episodes: number }[];
}

function trainState(target: Page): Promise<TrainState> {
  return target.evaluate(() => (window as unknown as { mannApp: { train: TrainState } }).mannApp.train);
}

beforeAll(async () => {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(`No built page in ${DIST}: run .ci/browser-e2e.sh (or npm run build -w @mann/example-browser) first.`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  server = await serveFolder(DIST);
  userDataDir = mkdtempSync(join(tmpdir(), 'mann-e2e-chromium-'));
  // Playwright refuses --user-data-dir in args: a persistent context is how it takes a fresh profile folder.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
  });
  page = await context.newPage();
  collectErrors(page, pageErrors);
  await page.goto(`${server.url}?backend=webgl`);
  await waitReady(page);
});

afterEach(() => {
  const seen = pageErrors;
  pageErrors = [];
  expect(seen, 'console or page errors while the test ran').toEqual([]);
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('the browser example, in headless Chromium', () => {
  it('starts on webgl with the built-in checkpoint and the held-out characters', async () => {
    const backend = await page.evaluate(() => (window as unknown as { mannApp: { backend: string } }).mannApp.backend);
    expect(backend).toBe('webgl');
    expect(await page.textContent('#status-backend')).toMatch(/^webgl \(WebGL \d/);
    // The e2e build carries a checkpoint (see .ci/browser-e2e.sh), so the page must not fall back to fresh weights.
    const notices = await page.textContent('#notices');
    expect(await page.textContent('#status-model'), `the page's notices: ${notices}`).toMatch(/^checkpoint, [\d,]+ training steps/);
    expect(await page.textContent('#status-text')).toMatch(/Ready: episodes are drawn from .*(659 characters of the evaluation archive|423 held-out characters)/);
  });

  it('plays an episode on webgl: predictions appear, the accuracy table fills, memory maps are drawn', async () => {
    episodes.webgl = await playEpisode('webgl');
    const record = episodes.webgl;
    // 5 classes x 10 shots = 50 steps, each with a guess and 5 probabilities summing to 1.
    expect(record.guesses).toHaveLength(50);
    for (const p of record.probabilities) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(await page.locator('#history li').count()).toBe(50);
    expect(await page.textContent('#guess')).toMatch(/^[a-e]$/);
    // "this episode" row: every instance 1..10 shown 5 times ("right/5"); "all episodes" row: a percentage each.
    const thisEpisode = await page.locator('#accuracy tbody tr').nth(0).locator('td').allTextContents();
    expect(thisEpisode.slice(1)).toHaveLength(10);
    for (const cell of thisEpisode.slice(1)) expect(cell).toMatch(/^[0-5]\/5$/);
    const allEpisodes = await page.locator('#accuracy tbody tr').nth(1).locator('td').allTextContents();
    expect(allEpisodes[0]).toBe('all 1 episodes');
    for (const cell of allEpisodes.slice(1)) expect(cell).toMatch(/^\d+%$/);
    // The usage map must show something after 50 writes: some non-black pixel on its canvas.
    const usageInk = await page.evaluate(() => {
      const canvas = document.getElementById('map-usage') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let distinct = new Set<number>();
      for (let i = 0; i < data.length; i += 4) distinct.add(data[i]);
      return { width: canvas.width, distinctReds: distinct.size };
    });
    // One pixel column per memory slot, as many as the caption (from the checkpoint's configuration) says.
    const slots = Number(/^(\d+) slots x/.exec((await page.textContent('#memory-caption')) ?? '')?.[1]);
    expect(slots).toBeGreaterThan(0);
    expect(usageInk.width).toBe(slots);
    expect(usageInk.distinctReds).toBeGreaterThan(1);
    expect(Number(await page.textContent('#status-speed'))).toBeGreaterThan(0);
    // The image on the page is the one the model was given at the last step, and the images are drawings: some ink,
    // not all of it, different from step to step.
    const shown = await page.evaluate(() => {
      const canvas = document.getElementById('current-image') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      return Array.from({ length: canvas.width * canvas.height }, (_, i) => data[4 * i]);
    });
    const last = record.images[record.images.length - 1];
    expect(shown).toHaveLength(last.length);
    shown.forEach((shade, i) => expect(Math.abs(shade - 255 * (1 - last[i])), `pixel ${i}`).toBeLessThanOrEqual(1));
    for (const image of record.images) {
      const ink = image.reduce((a, b) => a + b, 0) / image.length;
      expect(ink).toBeGreaterThan(0.02);
      expect(ink).toBeLessThan(0.6);
    }
    expect(new Set(record.images.map((image) => image.join(','))).size).toBe(50);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('plays the same episode on wasm and cpu with the same predictions as webgl (to 1e-3 on probabilities)', async () => {
    episodes.wasm = await playEpisode('wasm');
    expect(await page.textContent('#status-backend')).toMatch(/^wasm/);
    episodes.cpu = await playEpisode('cpu');
    expect(await page.textContent('#status-backend')).toMatch(/^cpu/);
    for (const name of ['wasm', 'cpu']) {
      expect(episodes[name].labels).toEqual(episodes.webgl.labels); // same seed, same episode
      expect(episodes[name].instances).toEqual(episodes.webgl.instances);
    }
    // The comparison means something only if the outputs are not all near-uniform (see scripts/make-checkpoint.mjs).
    const mostConfident = Math.max(...episodes.cpu.probabilities.map((p) => Math.max(...p)));
    expect(mostConfident).toBeGreaterThan(0.5);
    const webglVsCpu = maxDifference(episodes.webgl.probabilities, episodes.cpu.probabilities);
    const wasmVsCpu = maxDifference(episodes.wasm.probabilities, episodes.cpu.probabilities);
    const webglVsWasm = maxDifference(episodes.webgl.probabilities, episodes.wasm.probabilities);
    console.log(
      `max |probability difference| over 50 steps x 5 labels: webgl-cpu ${webglVsCpu.toExponential(2)}, ` +
        `wasm-cpu ${wasmVsCpu.toExponential(2)}, webgl-wasm ${webglVsWasm.toExponential(2)}; most confident output ${mostConfident.toFixed(3)}`,
    );
    expect(webglVsCpu).toBeLessThan(PROBABILITY_TOLERANCE);
    expect(wasmVsCpu).toBeLessThan(PROBABILITY_TOLERANCE);
    // Guesses agree wherever the top two probabilities are further apart than the tolerance.
    for (const name of ['webgl', 'wasm']) {
      episodes.cpu.probabilities.forEach((p, t) => {
        const sorted = [...p].sort((a, b) => b - a);
        if (sorted[0] - sorted[1] > 2 * PROBABILITY_TOLERANCE) expect(episodes[name].guesses[t]).toBe(episodes.cpu.guesses[t]);
      });
    }
    // A backend change rebuilds the model on the new backend, so the table starts afresh with each one.
    expect((await page.locator('#accuracy tbody tr').nth(1).locator('td').first().textContent())).toBe('all 1 episodes');
  });

  it('the shipped model recalls: from the 2nd instance on, far above chance over three seeded episodes', async (context) => {
    if (!(await trained())) {
      console.warn('SKIPPED the recall check: this build carries an untrained checkpoint (no checkpoints/omniglot-mann).');
      return context.skip();
    }
    await page.selectOption('#backend', 'webgl');
    await page.waitForFunction(() => (window as unknown as { mannApp: { status: string; backend: string } }).mannApp.backend === 'webgl');
    await page.selectOption('#speed', 'max');
    const records = [await playSeed(11), await playSeed(12), await playSeed(13)];
    const { right, shown } = laterAccuracy(records);
    console.log(`shipped model, webgl, seeds 11-13: ${right} of ${shown} right from the 2nd instance on (chance 20%)`);
    // The README's table puts the shipped model at ~93% and up from the 2nd instance; chance is 20%. Blank images or
    // a model that never sees the episode's image give chance.
    expect(right / shown).toBeGreaterThan(0.75);
  });

  it("with fewer classes than the model has outputs, it answers only the episode's labels", async () => {
    await page.selectOption('#speed', 'max');
    await page.selectOption('#ways', '3');
    const record = await playSeed(4);
    const episodeLabels = new Set(record.labels);
    expect(episodeLabels.size).toBe(3);
    for (const guess of record.guesses) expect(episodeLabels.has(guess)).toBe(true);
    for (const p of record.probabilities) {
      p.forEach((value, label) => {
        if (!episodeLabels.has(label)) expect(value).toBe(0);
      });
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
    expect(await page.locator('#probabilities > div').count()).toBe(3);
    await page.selectOption('#ways', '5');
  });

  it('Step clicked fast, and during Play, runs one step at a time and never breaks the page', async () => {
    await page.selectOption('#speed', '2');
    await page.fill('#seed', '21');
    await page.press('#seed', 'Enter');
    await page.waitForFunction(() => (window as unknown as { mannApp: { episodes: EpisodeRecord[] } }).mannApp.episodes.at(-1)!.seed === 21);
    for (let i = 0; i < 6; i++) {
      await page.click('#step');
      await page.waitForTimeout(40);
    }
    await page.click('#play');
    await page.waitForTimeout(700);
    await page.click('#step'); // pauses the play and steps
    await page.click('#step');
    await page.waitForTimeout(1500);
    const state = await appState(page, (app) => ({ status: app.status, error: app.error, steps: app.episodes.at(-1)!.guesses.length }));
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('ready');
    expect(state.steps).toBeGreaterThanOrEqual(3);
    expect(await page.textContent('#play')).toBe('Play');
    // Every step the model took is in the history once: no step lost or run twice.
    await page.waitForFunction(
      () => document.querySelectorAll('#history li').length === (window as unknown as { mannApp: { episodes: EpisodeRecord[] } }).mannApp.episodes.at(-1)!.guesses.length,
    );
  });

  it('quick backend changes, idle and while playing, end on the last one picked, without an error', async () => {
    await page.selectOption('#speed', '20');
    await page.click('#play');
    await page.waitForTimeout(300);
    await page.selectOption('#backend', 'wasm');
    await page.selectOption('#backend', 'cpu');
    await page.waitForFunction(() => {
      const app = (window as unknown as { mannApp: { status: string; backend: string } }).mannApp;
      return app.status === 'ready' && app.backend === 'cpu';
    });
    await page.selectOption('#backend', 'wasm');
    await page.selectOption('#backend', 'webgl');
    await page.selectOption('#backend', 'cpu');
    await page.waitForTimeout(1500);
    const state = await appState(page, (app) => ({ status: app.status, backend: app.backend, error: app.error }));
    expect(state).toEqual({ status: 'ready', backend: 'cpu', error: undefined });
    expect(await page.inputValue('#backend')).toBe('cpu');
    expect(await page.textContent('#status-backend')).toMatch(/^cpu/);
  });

  it('an error shows one banner, and the banner goes when the next step works', async () => {
    await page.selectOption('#speed', 'max');
    await page.fill('#seed', '22');
    await page.press('#seed', 'Enter');
    // One read of a tensor fails, as a lost WebGL context or a crashed worker would make it.
    await page.evaluate(() => {
      const proto = (window as unknown as { tf: { Tensor: { prototype: { data: unknown } } } }).tf.Tensor.prototype;
      const original = proto.data;
      proto.data = function () {
        proto.data = original;
        return Promise.reject(new Error('injected failure'));
      };
    });
    await page.click('#step');
    await page.waitForSelector('#notices .notice.error');
    expect(await page.textContent('#notices')).toContain('injected failure');
    expect(await appState(page, (app) => app.status)).toBe('error');
    pageErrors = pageErrors.filter((e) => !e.includes('injected failure')); // the page logs it, as it should
    await page.click('#step');
    await page.waitForFunction(() => !document.querySelector('#notices .notice.error'));
    const state = await appState(page, (app) => ({ status: app.status, error: app.error, steps: app.episodes.at(-1)!.guesses.length }));
    expect(state).toEqual({ status: 'ready', error: undefined, steps: 1 });
  });

  it('teach it: three shapes, each labelled once, are recognised when drawn again; guesses wait for the pen', async () => {
    await page.focus('#tab-watch');
    await page.keyboard.press('ArrowRight'); // the tabs pattern: arrows move between tabs
    expect(await page.getAttribute('#tab-teach', 'aria-selected')).toBe('true');
    expect(await page.isVisible('#teach')).toBe(true);
    expect(await page.isHidden('#watch')).toBe(true);
    await page.click('#teach-reset');
    const names = ['circle', 'cross', 'bar'] as const;
    // First drawings: the model has seen none of these; each is told its label (a, b, c).
    for (const [i, name] of names.entries()) {
      const strokes = shapes(0)[name];
      await drawStrokes(strokes.slice(0, 1));
      if (strokes.length > 1) {
        // Between the strokes of one character no guess is made: the pen is only up for a moment.
        expect(await page.textContent('#teach-guess')).not.toMatch(/^[a-z]$/);
        await drawStrokes(strokes.slice(1));
      }
      await teachGuess();
      if (i === 0) {
        // What the model sees: ink in the middle of the 20x20 preview, none in the corners.
        const preview = await page.evaluate(() => {
          const canvas = document.getElementById('pad-preview') as HTMLCanvasElement;
          const data = canvas.getContext('2d')!.getImageData(0, 0, 20, 20).data;
          const ink = (x: number, y: number) => 1 - data[4 * (y * 20 + x)] / 255;
          let total = 0;
          for (let p = 0; p < 400; p++) total += 1 - data[4 * p] / 255;
          return { total, corner: ink(0, 0) + ink(19, 0) + ink(0, 19) + ink(19, 19) };
        });
        expect(preview.total).toBeGreaterThan(5);
        expect(preview.corner).toBe(0);
      }
      await page.click(`#teach-labels button[data-label="${i}"]`);
      await page.waitForFunction(() => document.getElementById('teach-guess')!.textContent === '–');
    }
    // Clear drops the guess with the drawing.
    await drawStrokes(shapes(0).bar);
    await teachGuess();
    await page.click('#pad-clear');
    expect(await page.textContent('#teach-guess')).toBe('–');
    expect(await page.isDisabled('#teach-labels button[data-label="0"]')).toBe(true);
    // Second and third drawings, a little displaced: recognised (the README: 93-99% by hand with this model).
    const guesses: string[] = [];
    for (const shift of [0.04, -0.04]) {
      for (const [i, name] of names.entries()) {
        await drawStrokes(shapes(shift)[name]);
        guesses.push(await teachGuess());
        await page.click(`#teach-labels button[data-label="${i}"]`);
      }
    }
    expect(await page.locator('#teach-history li').count()).toBe(9);
    console.log(`teach it: 2nd and 3rd drawings of circle, cross, bar guessed ${guesses.join(' ')} (right: a b c a b c)`);
    if (await trained()) expect(guesses).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(await page.textContent('#announce')).toMatch(/^The model guesses [a-z]/);
    await page.click('#tab-watch');
  });

  it('on a phone (390x844): nothing wider than the screen, the guess in view while an episode plays', async () => {
    const phone = await context.newPage();
    const errors: string[] = [];
    collectErrors(phone, errors);
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${server.url}?backend=cpu`);
    await waitReady(phone);
    await phone.selectOption('#speed', '5');
    await phone.click('#play');
    await phone.waitForFunction(() => document.getElementById('guess')!.textContent !== '–');
    await phone.waitForTimeout(1200); // the smooth scroll
    const layout = await phone.evaluate(() => {
      const box = (id: string) => document.getElementById(id)!.getBoundingClientRect();
      return {
        pageWidth: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
        height: window.innerHeight,
        table: box('accuracy').right,
        guess: box('guess'),
        image: box('current-image'),
        map: box('map-usage').width,
      };
    });
    expect(layout.pageWidth).toBeLessThanOrEqual(layout.viewport);
    expect(layout.table).toBeLessThanOrEqual(layout.viewport);
    expect(layout.map).toBeGreaterThan(300);
    for (const element of [layout.guess, layout.image]) {
      expect(element.top).toBeGreaterThanOrEqual(0);
      expect(element.bottom).toBeLessThanOrEqual(layout.height);
    }
    await phone.screenshot({ path: join(EXAMPLE, 'test-output/phone.png') });
    await phone.click('#play'); // pause
    await phone.close();
    expect(errors).toEqual([]);
  });

  it('is usable without a mouse or sight: labelled canvases, tab panels, announcements apart from the counters', async () => {
    for (const id of ['current-image', 'pad', 'pad-preview', 'map-usage', 'map-read', 'map-write', 'map-memory']) {
      expect(await page.getAttribute(`#${id}`, 'aria-label'), id).toBeTruthy();
    }
    for (const tab of ['watch', 'teach']) {
      expect(await page.getAttribute(`#tab-${tab}`, 'aria-controls')).toBe(tab);
      expect(await page.getAttribute(`#${tab}`, 'role')).toBe('tabpanel');
      expect(await page.getAttribute(`#${tab}`, 'aria-labelledby')).toBe(`tab-${tab}`);
    }
    // The live status names what the page is doing, not the steps-per-second counter.
    expect(await page.locator('[role="status"] #status-speed, [aria-live] #status-speed').count()).toBe(0);
    await page.selectOption('#speed', '2');
    await page.click('#step');
    await page.waitForFunction(() => /^Step \d+: guessed/.test(document.getElementById('announce')!.textContent ?? ''));
    // The heat maps say what their colours stand for.
    expect(await page.textContent('#legend-usage .low')).toBe('0');
    expect(Number(await page.textContent('#legend-usage .high'))).toBeGreaterThan(0);
  });

  it('train: a small MANN learns in a worker until its 2nd instance passes its 1st; pause, use, save, reload, download', async () => {
    const train = await context.newPage();
    const errors: string[] = [];
    collectErrors(train, errors);
    const trainingRequests: string[] = [];
    train.on('request', (request) => {
      if (request.url().includes('/train-characters/')) trainingRequests.push(request.url());
    });
    await train.goto(`${server.url}?backend=webgl`);
    await waitReady(train);
    expect(trainingRequests, 'the training characters load only when Train is started').toEqual([]);
    await train.click('#tab-train');
    expect(await train.isVisible('#train')).toBe(true);
    expect(await train.isHidden('.memory')).toBe(true);
    expect(await train.textContent('#train-settings')).toMatch(/LSTM 64, memory 64 x 20, 2 heads/);
    await train.click('#train-start');
    await train.waitForFunction(() => (window as unknown as { mannApp: { train: { status: string } } }).mannApp.train.status === 'training', undefined, { timeout: 120_000 });
    const started = await trainState(train);
    // The fast path in the worker: wasm backend, and the LRUA step compiled to WebAssembly SIMD (a worker may).
    expect(started.backend).toMatch(/^wasm/);
    expect(started.fastPath).toContain('WebAssembly SIMD');
    expect(trainingRequests.length).toBeGreaterThan(1000); // the index and every training character
    expect(started.curve[0].step).toBe(0); // the curve starts at chance

    // Pause stops it where it is; Resume goes on from there.
    await train.waitForFunction(() => (window as unknown as { mannApp: { train: { step: number } } }).mannApp.train.step >= 20, undefined, { timeout: 60_000 });
    await train.click('#train-start');
    expect(await train.textContent('#train-start')).toBe('Resume');
    await train.waitForTimeout(1000);
    const pausedAt = (await trainState(train)).step;
    await train.waitForTimeout(1500);
    expect((await trainState(train)).step).toBe(pausedAt);
    await train.click('#train-start');
    expect(await train.textContent('#train-start')).toBe('Pause');

    await train.waitForFunction(
      () => (window as unknown as { mannApp: { train: { passed: unknown; status: string } } }).mannApp.train.passed !== null,
      undefined,
      { timeout: TRAIN_BUDGET_MS + 30_000, polling: 1000 },
    );
    const passed = await trainState(train);
    const crossing = passed.curve.find((p) => p.step === passed.passed!.step)!;
    console.log(
      `Train mode: the 2nd instance passed the 1st at ${passed.passed!.step} batches, after ${(passed.passed!.trainingMs / 1000).toFixed(0)} s ` +
        `of training (${passed.msPerBatch.toFixed(0)} ms per batch); there 1st ${(100 * crossing.accuracy[0]).toFixed(1)}%, ` +
        `2nd ${(100 * crossing.accuracy[1]).toFixed(1)}% on ${crossing.episodes} validation episodes; ${passed.fastPath}`,
    );
    expect(passed.passed!.trainingMs).toBeLessThanOrEqual(TRAIN_BUDGET_MS);
    expect(await train.textContent('#train-curve-caption')).toContain('The 2nd instance passed the 1st at');
    expect(await train.locator('#train-curve polyline').count()).toBe(4);
    await train.locator('#train').screenshot({ path: TRAIN_SCREENSHOT });

    // Use this model: Watch plays it (and the Model menu leads back to the shipped one).
    await train.click('#train-use');
    await train.waitForFunction(() => /^trained here, [\d,]+ batches/.test(document.getElementById('status-model')!.textContent ?? ''));
    expect(await train.inputValue('#model-source')).toBe('trained');
    expect(await train.isVisible('#train-shipped')).toBe(true);
    await train.click('#tab-watch');
    await train.selectOption('#speed', 'max');
    const record = await playSeed(5, train);
    expect(record.guesses).toHaveLength(50);

    // Save, then Download: a zip that unzips to a `mann train` run folder whose checkpoint Node reads.
    await train.click('#tab-train');
    await train.click('#train-save');
    await train.waitForFunction(() => /^Saved in this browser/.test(document.getElementById('train-saved')!.textContent ?? ''));
    const [download] = await Promise.all([train.waitForEvent('download'), train.click('#train-download')]);
    // MANN_E2E_DOWNLOAD_DIR keeps a copy (outside the repository: the model is made from Omniglot), for `mann eval`.
    const zipPath = join(process.env.MANN_E2E_DOWNLOAD_DIR ?? userDataDir, download.suggestedFilename());
    await download.saveAs(zipPath);
    expect(download.suggestedFilename()).toMatch(/^mann-browser-\d+\.zip$/);
    const files = unzipStored(new Uint8Array(readFileSync(zipPath)));
    const folder = download.suggestedFilename().replace(/\.zip$/, '');
    expect([...files.keys()].sort()).toEqual([`${folder}/checkpoint/manifest.json`, `${folder}/checkpoint/weights.bin`]);
    const runDir = join(userDataDir, 'unzipped');
    for (const [name, bytes] of files) {
      mkdirSync(dirname(join(runDir, name)), { recursive: true });
      writeFileSync(join(runDir, name), bytes);
    }
    await useBackend('wasm');
    const restored = await loadCheckpoint(join(runDir, folder, 'checkpoint'));
    const run = restored.training.run as { split: string; splitSeed: number; validation: number; validationSeed: number };
    expect(run).toMatchObject({ split: 'paper', validation: 100 });
    expect(Object.keys(restored.optimizerState).length).toBeGreaterThan(0); // Adam's state: training can go on
    // As `mann eval --set validation` would: the same 100 characters the page's curve was measured on.
    const omniglot = await loadOmniglot({ dir: process.env.OMNIGLOT_DIR, imageSize: restored.model.config.imageSize });
    const kept = validationSplit(paperSplit(omniglot.background, omniglot.evaluation, { seed: run.splitSeed }).train, { count: run.validation, seed: run.validationSeed });
    const evaluated = evaluateModel(restored.model, { dataset: new OmniglotDataset(kept.validation), episodes: 96, seed: 1 }).accuracy.summary([1, 2]);
    console.log(`the downloaded checkpoint in Node, 96 validation episodes: 1st ${(100 * evaluated[0].accuracy).toFixed(1)}%, 2nd ${(100 * evaluated[1].accuracy).toFixed(1)}%`);
    expect(evaluated[1].accuracy).toBeGreaterThan(evaluated[0].accuracy - 0.05);
    restored.model.dispose();

    // A reload brings the saved model back (IndexedDB), in the Model menu and in Train, without training it.
    await train.reload();
    await waitReady(train);
    await train.waitForFunction(() => !(document.querySelector('#model-source option[value="trained"]') as HTMLOptionElement).disabled);
    expect(await train.textContent('#model-source option[value="trained"]')).toMatch(/^trained here, [\d,]+ batches \(saved /);
    await train.click('#tab-train');
    expect(await train.textContent('#train-start')).toBe('Continue the saved model');
    expect((await trainState(train)).curve.length).toBeGreaterThan(1);
    await train.selectOption('#model-source', 'trained');
    await train.waitForFunction(() => /^trained here/.test(document.getElementById('status-model')!.textContent ?? ''));
    await train.click('#train-forget');
    await train.close();
    expect(errors).toEqual([]);
  }, TRAIN_BUDGET_MS + 240_000);

  it('downloads at most 4 MB before the first episode is ready', async () => {
    const measured = await measureDownload(context, `${server.url}?backend=webgl`);
    console.log(`before the first episode: ${measured.totalBytes} bytes in ${measured.requests} requests, ready after ${measured.readyMs} ms`, measured.byKind);
    expect(measured.byKind['held-out characters'].files).toBeLessThanOrEqual(11); // the index + one episode's characters
    expect(measured.totalBytes).toBeLessThanOrEqual(DOWNLOAD_BUDGET); // 4,000,000
  });

  it('without WebGL, falls back to wasm and says so', async () => {
    const second = await context.newPage();
    // A browser without WebGL: every WebGL context request fails, as on a machine with WebGL disabled.
    await second.addInitScript(() => {
      const original = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, kind: string, ...rest: unknown[]) {
        if (kind.startsWith('webgl') || kind === 'experimental-webgl') return null;
        return (original as (...a: unknown[]) => unknown).call(this, kind, ...rest);
      } as typeof original;
      const offscreen = (globalThis as { OffscreenCanvas?: { prototype: { getContext: unknown } } }).OffscreenCanvas;
      if (offscreen) {
        const originalOffscreen = offscreen.prototype.getContext as (...a: unknown[]) => unknown;
        offscreen.prototype.getContext = function (this: unknown, kind: string, ...rest: unknown[]) {
          if (kind.startsWith('webgl')) return null;
          return originalOffscreen.call(this, kind, ...rest);
        };
      }
    });
    await second.goto(`${server.url}?backend=webgl`);
    await second.waitForFunction(() => (window as unknown as { mannApp: { backend: string | null } }).mannApp.backend !== null);
    expect(await second.evaluate(() => (window as unknown as { mannApp: { backend: string } }).mannApp.backend)).toBe('wasm');
    expect(await second.textContent('#notices')).toContain('WebGL is not available in this browser, so the model runs on wasm instead');
    expect(await second.isDisabled('#backend option[value="webgl"]')).toBe(true);
    await second.close();
  });
});
