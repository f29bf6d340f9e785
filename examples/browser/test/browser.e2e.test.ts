import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFolder } from './static_server';

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = resolve(here, '..');
const DIST = join(EXAMPLE, 'dist');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The README's screenshot is refreshed only on request (MANN_E2E_UPDATE_SCREENSHOT=1); other runs keep theirs aside.
const SCREENSHOT = join(EXAMPLE, process.env.MANN_E2E_UPDATE_SCREENSHOT ? 'screenshot.png' : 'test-output/screenshot.png');

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
}

let context: BrowserContext;
let page: Page;
let server: { url: string; close: () => Promise<void> };
let userDataDir: string;
const episodes: Record<string, EpisodeRecord> = {};

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
  await page.fill('#seed', '3');
  await page.click('#new-episode');
  await page.click('#play');
  await page.waitForSelector('body[data-episode="done"]', { timeout: 120_000 });
  return page.evaluate(() => {
    const app = (window as unknown as { mannApp: { episodes: EpisodeRecord[] } }).mannApp;
    return app.episodes[app.episodes.length - 1];
  });
}

function maxDifference(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((row, t) => row.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - b[t][i])))));
  return worst;
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
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${server.url}?backend=webgl`);
  await waitReady(page);
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

  it('teach it: a drawing is guessed when the pen lifts, labelled once, and enters the memory', async () => {
    await page.click('#tab-teach');
    const pad = await page.locator('#pad').boundingBox();
    expect(pad).not.toBeNull();
    const draw = async (points: [number, number][]) => {
      await page.mouse.move(pad!.x + points[0][0] * pad!.width, pad!.y + points[0][1] * pad!.height);
      await page.mouse.down();
      for (const [x, y] of points.slice(1)) await page.mouse.move(pad!.x + x * pad!.width, pad!.y + y * pad!.height, { steps: 8 });
      await page.mouse.up();
    };
    const cross: [number, number][] = [[0.2, 0.2], [0.8, 0.8]];
    await draw(cross);
    await page.waitForFunction(() => document.getElementById('teach-guess')!.textContent !== '–');
    // What the model sees: a 20x20 diagonal of ink, none in the far corners.
    const preview = await page.evaluate(() => {
      const canvas = document.getElementById('pad-preview') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, 20, 20).data;
      const ink = (x: number, y: number) => 1 - data[4 * (y * 20 + x)] / 255;
      return { centre: ink(10, 10), corner: ink(19, 0) };
    });
    expect(preview.centre).toBeGreaterThan(0.2);
    expect(preview.corner).toBe(0);
    await page.click('#teach-labels button[data-label="0"]');
    expect(await page.locator('#teach-history li').count()).toBe(1);
    expect(await page.textContent('#teach-guess')).toBe('–');
    await draw([[0.5, 0.1], [0.5, 0.9]]);
    await page.waitForFunction(() => document.getElementById('teach-guess')!.textContent !== '–');
    await page.click('#teach-labels button[data-label="1"]');
    await draw(cross);
    await page.waitForFunction(() => document.getElementById('teach-guess')!.textContent !== '–');
    expect(await page.textContent('#teach-guess')).toMatch(/^[a-e]$/);
    expect(await page.locator('#teach-history li').count()).toBe(2);
    await page.click('#tab-watch');
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
