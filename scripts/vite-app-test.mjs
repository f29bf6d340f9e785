#!/usr/bin/env node
// The @mann packages as a user gets them, in a Vite-built page, in headless Chromium (issue 21).
//
// Builds the packages, packs @mann/model and the @mann packages it depends on (@mann/backend among them), installs
// the tarballs with tfjs and Vite from the npm registry into an app made from scripts/vite-app/ in a temporary
// folder outside the repository, builds it with Vite and drives it with playwright-core:
//  - index.html follows @mann/backend's README recipe for wasm (?url imports + wasmPaths): on cpu, wasm and webgl
//    (SwiftShader) it must report the backend asked for, the right product and gradient, a falling training loss of a
//    tiny MANN, and no page or console errors;
//  - no-wasm-paths.html is the same page without the recipe: on wasm it must fail with useBackend's one-line message
//    saying what to do, both where the server answers 404 and where it answers index.html instead (as SPA hosts and
//    `vite preview` do), and, given a wasmPaths folder that does not serve the files or given wasmPaths too late, say so;
//  - under `vite dev` the recipe works, and without it the message names the dev server's index.html answer.
// Everything temporary is removed at the end. Run: npm run test:vite-app (CHROMIUM_PATH overrides /usr/bin/chromium).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = join(REPO, 'scripts', 'vite-app');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// As examples/browser's e2e test: no background connections (they fail by the dozen offline), WebGL through
// SwiftShader, Chromium's software renderer.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
];
const PAGE_TIMEOUT_MS = 60_000;

const t0 = Date.now();
const seconds = () => ((Date.now() - t0) / 1000).toFixed(1);
const log = (message) => console.log(`vite-app [${seconds()} s] ${message}`);

if (!existsSync(CHROMIUM)) {
  console.log(`vite-app: SKIPPED, Chromium is not at ${CHROMIUM} (install Debian's chromium or set CHROMIUM_PATH).`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'mann-vite-app-'));
const cleanups = [() => rmSync(work, { recursive: true, force: true })];
async function cleanUp() {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()();
    } catch (error) {
      console.error(`vite-app: clean-up failed: ${error.message}`);
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => cleanUp().finally(() => process.exit(130)));
}

/** Runs a command; its output is returned, or shown as it comes with `show` (then '' is returned). */
function sh(command, args, cwd, { show = false, quiet = false } = {}) {
  const stdio = ['ignore', show ? 'inherit' : 'pipe', quiet ? 'ignore' : 'inherit'];
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio }) ?? '';
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** The workspace folders of @mann/model and every @mann package it depends on, directly or not. */
function packagesToPack() {
  const folders = new Map();
  for (const name of readdirSync(join(REPO, 'packages'))) {
    const file = join(REPO, 'packages', name, 'package.json');
    if (existsSync(file)) folders.set(readJson(file).name, join(REPO, 'packages', name));
  }
  const wanted = new Set();
  const visit = (name) => {
    if (wanted.has(name)) return;
    if (!folders.has(name)) throw new Error(`${name} is not a workspace package`);
    wanted.add(name);
    const { dependencies = {} } = readJson(join(folders.get(name), 'package.json'));
    for (const dependency of Object.keys(dependencies)) if (dependency.startsWith('@mann/')) visit(dependency);
  };
  visit('@mann/model');
  visit('@mann/backend');
  return [...wanted].map((name) => ({ name, folder: folders.get(name) }));
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/**
 * Serves `root` on a free localhost port. `fallback: false` answers 404 for a missing file; `fallback: true` answers
 * index.html instead, as SPA hosts and `vite preview` do (the case where tfjs reports "found 3c 21 64 6f", '<!do').
 * Records the requests for .wasm files with their status and content type.
 */
async function serve(root, { fallback }) {
  const wasmRequests = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    let file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    let found = file.startsWith(root + sep) && existsSync(file) && statSync(file).isFile();
    if (!found && fallback) {
      file = join(root, 'index.html');
      found = true;
    }
    const type = found ? (TYPES[extname(file)] ?? 'application/octet-stream') : 'text/plain';
    if (path.endsWith('.wasm')) wasmRequests.push({ path, status: found ? 200 : 404, type });
    if (!found) {
      response.writeHead(404, { 'Content-Type': type }).end(`not found: ${path}`);
      return;
    }
    response.writeHead(200, { 'Content-Type': type, 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(response);
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  cleanups.push(() => new Promise((done) => server.close(() => done())));
  return { url: `http://127.0.0.1:${server.address().port}/`, wasmRequests };
}

/** Checks that scripts/vite-app/main.js still holds the README's Vite recipe line for line. */
function checkRecipeIsTheReadmes() {
  const readme = readFileSync(join(REPO, 'packages', 'backend', 'README.md'), 'utf8');
  const section = readme.split('\n## wasm in a bundled page')[1];
  if (section === undefined) throw new Error('packages/backend/README.md has no section "wasm in a bundled page"');
  const block = section.match(/```js\n([\s\S]*?)```/)?.[1] ?? '';
  const main = readFileSync(join(FIXTURE, 'main.js'), 'utf8');
  const lines = block.split('\n').filter((line) => /\?url';$|^\s+'tfjs-backend-wasm[-a-z]*\.wasm': \w+,$|^import .*@mann\/backend/.test(line));
  if (lines.length !== 7) throw new Error(`expected 7 recipe lines (3 imports, 3 paths, useBackend) in the README, found ${lines.length}`);
  const missing = lines.map((line) => line.trim()).filter((line) => !main.includes(line));
  if (missing.length > 0) throw new Error(`scripts/vite-app/main.js differs from the README's recipe: ${missing.join(' | ')}`);
}

const results = [];
function record(name, failures, note) {
  results.push({ name, ok: failures.length === 0, failures, note });
  log(`${failures.length === 0 ? 'PASS' : 'FAIL'} ${name}${note ? `: ${note}` : ''}`);
  for (const failure of failures) console.log(`    - ${failure}`);
}

/** Opens `url` in a fresh page and returns what the page reported, with its page errors and console messages. */
async function visit(browser, url) {
  const page = await browser.newPage();
  const pageErrors = [];
  const consoleErrors = [];
  const failedRequests = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('response', (response) => {
    if (response.status() >= 400) failedRequests.push(`${response.status()} ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-status]', { state: 'attached', timeout: PAGE_TIMEOUT_MS });
    const result = await page.evaluate(() => window.result);
    return { result, pageErrors, consoleErrors, failedRequests };
  } finally {
    await page.close();
  }
}

const close = (a, b, tolerance) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tolerance);

async function main() {
  log(`work folder ${work}; ${sh(CHROMIUM, ['--version'], REPO, { quiet: true }).trim()}, node ${process.version}`);
  checkRecipeIsTheReadmes();

  const packages = packagesToPack();
  log(`building ${packages.map((p) => p.name).join(', ')} (turbo)`);
  sh('npx', ['turbo', 'run', 'build', '--output-logs=errors-only', ...packages.map((p) => `--filter=${p.name}`)], REPO, { show: true });

  const packs = join(work, 'packs');
  mkdirSync(packs);
  const tarballs = {};
  for (const { name, folder } of packages) {
    const [info] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', packs], folder));
    tarballs[name] = join(packs, info.filename);
  }
  log(`packed ${Object.values(tarballs).map((file) => file.split(sep).pop()).join(', ')}`);

  // The app: the fixture, the tarballs, and tfjs and Vite from the registry at the versions examples/browser uses.
  const app = join(work, 'app');
  cpSync(FIXTURE, app, { recursive: true });
  const example = readJson(join(REPO, 'examples', 'browser', 'package.json'));
  const dependencies = Object.fromEntries(Object.entries(tarballs).map(([name, file]) => [name, `file:${file}`]));
  for (const name of ['core', 'backend-cpu', 'backend-wasm', 'backend-webgl']) {
    dependencies[`@tensorflow/tfjs-${name}`] = example.dependencies[`@tensorflow/tfjs-${name}`];
  }
  const manifest = { name: 'mann-vite-app', private: true, type: 'module', dependencies, devDependencies: { vite: example.devDependencies.vite } };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`npm install (vite ${manifest.devDependencies.vite}, tfjs ${dependencies['@tensorflow/tfjs-core']})`);
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app, { show: true });
  // Every @mann package must come from a tarball, once: never from the registry (where @mann/* are not ours).
  const lock = readJson(join(app, 'package-lock.json'));
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!/(^|\/)node_modules\/@mann\//.test(path)) continue;
    if (!path.startsWith('node_modules/@mann/') || !String(entry.resolved).startsWith('file:')) {
      throw new Error(`${path} was installed from ${entry.resolved}, not from a packed tarball`);
    }
  }
  const viteVersion = readJson(join(app, 'node_modules', 'vite', 'package.json')).version;

  log(`vite ${viteVersion} build`);
  sh(process.execPath, [join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], app, { show: true });
  const dist = join(app, 'dist');
  const wasmFiles = readdirSync(join(dist, 'assets')).filter((file) => file.endsWith('.wasm'));
  if (wasmFiles.length !== 3) throw new Error(`expected the 3 tfjs .wasm files in dist/assets, found ${wasmFiles.join(', ') || 'none'}`);

  const strict = await serve(dist, { fallback: false });
  const spa = await serve(dist, { fallback: true });

  const { chromium } = await import('playwright-core');
  log('launching Chromium');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  cleanups.push(() => browser.close());

  // With the README's recipe: each backend starts and computes the right numbers, with no errors at all.
  const expectedGradient = [-1, 0.5, 2].map((v) => Math.tanh(v) + v * (1 - Math.tanh(v) ** 2));
  async function checkWorks(name, url, backend, wasmRequests) {
    const before = wasmRequests?.length ?? 0;
    const { result, pageErrors, consoleErrors, failedRequests } = await visit(browser, url);
    const failures = failedRequests.map((request) => `request failed: ${request}`);
    if (result.error !== undefined) failures.push(`page reported an error: ${result.error}`);
    else {
      if (result.started !== backend || result.backend !== backend) failures.push(`backend ${result.backend} (useBackend returned ${result.started}), not ${backend}`);
      if (!close(result.product, [19, 22, 43, 50], 1e-4)) failures.push(`matMul gave ${result.product}`);
      if (!close(result.gradient, expectedGradient, 1e-3)) failures.push(`gradient ${result.gradient}, expected ${expectedGradient}`);
      if (!result.losses.every(Number.isFinite) || !(result.losses[4] < result.losses[0])) failures.push(`training losses did not fall: ${result.losses}`);
    }
    for (const error of pageErrors) failures.push(`page error: ${error}`);
    for (const error of consoleErrors) failures.push(`console error: ${error}`);
    const wasm = wasmRequests?.slice(before) ?? [];
    if (wasmRequests && backend === 'wasm' && !wasm.some((r) => r.status === 200 && r.type === 'application/wasm' && r.path.includes('/assets/'))) {
      failures.push(`no .wasm file was fetched from assets/ as application/wasm: ${JSON.stringify(wasm)}`);
    }
    const fetched = wasm.map((r) => r.path.split('/').pop()).join(', ');
    record(name, failures, result.losses && `loss ${result.losses[0].toFixed(4)} -> ${result.losses[4].toFixed(4)}${fetched ? `, fetched ${fetched}` : ''}`);
    return result.losses;
  }
  /** Opens a page that must fail to start wasm, and checks its message. */
  async function checkFails(name, url, message) {
    const { result, pageErrors, consoleErrors } = await visit(browser, url);
    const failures = [];
    if (result.error === undefined) failures.push(`wasm started (backend ${result.backend}): the test cannot see the failure`);
    else if (!message.test(result.error)) failures.push(`unexpected message: ${result.error}\n      expected ${message}`);
    for (const error of pageErrors) failures.push(`page error: ${error}`);
    record(name, failures, result.error && `"${result.error.slice(0, 110)}..." (tfjs logged ${consoleErrors.length} console error(s))`);
    if (result.error) console.log(`    message: ${result.error}`);
  }

  const losses = {};
  for (const backend of ['cpu', 'wasm', 'webgl']) {
    losses[backend] = await checkWorks(`${backend} with wasmPaths`, `${strict.url}index.html?backend=${backend}`, backend, strict.wasmRequests);
  }
  if (losses.cpu) {
    const failures = ['wasm', 'webgl']
      .filter((b) => losses[b] && !close(losses[b], losses.cpu, 1e-3))
      .map((b) => `${b} losses ${losses[b]} differ from cpu's ${losses.cpu} by more than 1e-3`);
    record('same losses on every backend', failures);
  }

  // Without the recipe: the wasm backend must fail with the one-line message that says what to do.
  const origin = (base) => base.replace(/\/$/, '').replace(/[.]/g, '\\.');
  const readme = '; see "wasm in a bundled page" in the @mann/backend README \\(https://github\\.com/mann-js/mann/tree/main/packages/backend#wasm-in-a-bundled-page-vite-webpack\\)\\.$';
  const missingFile = `tfjs-backend-wasm(-simd|-threaded-simd)?\\.wasm`;
  const notCopied = (base, answer) =>
    new RegExp(
      `^Backend 'wasm' could not be initialised: its \\.wasm file could not be loaded from ${origin(base)}/${missingFile} ` +
        `\\(${answer}\\), usually because the bundler did not copy @tensorflow/tfjs-backend-wasm's \\.wasm files there\\. ` +
        `Pass their URLs with useBackend\\('wasm', \\{ wasmPaths \\}\\)${readme}`,
    );
  const htmlPage = 'the server answered with an HTML page \\("<!doctype"\\.\\.\\., text/html\\), not a \\.wasm file';
  await checkFails('wasm without wasmPaths, server answers 404', `${strict.url}no-wasm-paths.html?backend=wasm`, notCopied(strict.url, 'the server answered HTTP 404'));
  await checkFails('wasm without wasmPaths, server answers index.html', `${spa.url}no-wasm-paths.html?backend=wasm`, notCopied(spa.url, htmlPage));
  await checkFails(
    'wasm with a wasmPaths folder that does not serve the files',
    `${strict.url}no-wasm-paths.html?backend=wasm&wasmPaths=missing/`,
    new RegExp(
      `^Backend 'wasm' could not be initialised: the wasmPaths given to useBackend did not serve a \\.wasm file at ` +
        `${origin(strict.url)}/missing/${missingFile} \\(the server answered HTTP 404\\)\\. Point them at the files .*${readme}`,
    ),
  );
  await checkFails(
    'wasm given wasmPaths after a failed start',
    `${strict.url}no-wasm-paths.html?backend=wasm&retry=1`,
    new RegExp(
      `^Backend 'wasm' could not be initialised: it already failed to start in this page \\(without wasmPaths, or with others\\), ` +
        `and tfjs cannot start it again with new ones\\. Pass wasmPaths to the first useBackend\\('wasm'\\) call and reload the page${readme}`,
    ),
  );
  // The page without the recipe is otherwise fine: cpu works there.
  await checkWorks('cpu on the page without wasmPaths', `${strict.url}no-wasm-paths.html?backend=cpu`, 'cpu');

  // `vite dev` (the issue's first report): the recipe works there too, and without it the dev server's index.html
  // fallback is named.
  const dev = await startViteDev(app);
  log(`vite dev at ${dev}`);
  await checkWorks('wasm with wasmPaths under vite dev', `${dev}index.html?backend=wasm`, 'wasm');
  await checkFails('wasm without wasmPaths under vite dev', `${dev}no-wasm-paths.html?backend=wasm`, notCopied(dev, htmlPage));
}

/** Starts `vite` (the dev server) in `app` on a free port; resolves with its URL once it answers. */
async function startViteDev(app) {
  const probe = createServer();
  await new Promise((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address();
  await new Promise((done) => probe.close(done));
  const vite = join(app, 'node_modules', 'vite', 'bin', 'vite.js');
  const child = spawn(process.execPath, [vite, '--host', '127.0.0.1', '--port', String(port), '--strictPort', '--logLevel', 'warn'], {
    cwd: app,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((done) => child.once('exit', done));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const url = `http://127.0.0.1:${port}/`;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`vite dev exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return url;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error('vite dev did not answer within 30 s');
}

let crashed;
try {
  await main();
} catch (error) {
  crashed = error;
  console.error(`vite-app: ${error.stack ?? error}`);
} finally {
  await cleanUp();
}
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`\nvite-app summary (${seconds()} s):`);
for (const r of results) console.log(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name}`);
console.log(`vite-app: ${passed} passed, ${failed} failed${crashed ? ', stopped by an error' : ''}`);
process.exit(failed > 0 || crashed || results.length === 0 ? 1 : 0);
