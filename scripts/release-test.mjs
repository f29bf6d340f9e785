#!/usr/bin/env node
// The release test (issue 21): what a release would publish, installed as a user would, from a real registry.
//
//  1. Copies the repository's files (tracked and new, not ignored) into a scratch folder, links node_modules,
//     runs `changeset version` there (pending changesets bump the versions: what would be published is tested),
//     builds the packages with turbo and publishes every package under packages/ with `changeset publish` to
//  2. a local verdaccio (127.0.0.1, a free port, storage in the temp folder, started and stopped here): @mann/*
//     is published to it anonymously, everything else is proxied from the npm registry.
//  3. For each package, in fresh apps outside the repository (one with npm, one with pnpm: isolated node_modules,
//     no hoisting, peers neither auto-installed nor mismatched), installs exactly the `npm install` line of the
//     "## Install" section of its README, then runs every js/ts/mjs/cjs block of the README as ESM (node) and as
//     CommonJS (compiled by TypeScript to `require`, top-level await inside an async function) and type-checks it
//     with tsc, strict (ts blocks as TypeScript, js blocks as JavaScript with checkJs; module node16, skipLibCheck
//     false: errors in the @mann declarations fail, errors in tfjs' own are printed as notes), with every entry
//     point of the installed @mann packages imported as ESM and required as CommonJS.
//
// A README block that cannot run on its own is marked just above its fence, visibly in the source:
//   <!-- release-test: skip (why) -->      neither run nor type-checked
//   <!-- release-test: no-run (why) -->    type-checked only
//   <!-- release-test: no-tsc (why) -->    run only (plain JavaScript whose parameters are untyped, say)
//   <!-- release-test: omniglot -->        needs the Omniglot zips in $OMNIGLOT_DIR (skipped, saying so, without);
//                                          a relative fetch('/data/NAME') reads $OMNIGLOT_DIR/NAME, as a page would
//                                          fetch the zips served beside it
//
// Usage: npm run test:release [-- --only memory,model] [--managers npm,pnpm] [--jobs 2] [--keep]
// Needs the root devDependencies (verdaccio, pnpm, typescript, turbo, @changesets/cli) and the npm registry.
// Prints progress lines, one line per failure and a table; exits 1 if anything failed.
import { spawn, execFileSync } from 'node:child_process';
import {
  cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(REPO, 'package.json'));
const ts = require('typescript');
// The tools, from the root devDependencies (checked before anything is built).
const pnpmBin = join(dirname(require.resolve('pnpm')), 'bin', 'pnpm.cjs'); // pnpm exports only its package.json
const tscBin = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
const verdaccioMain = require.resolve('verdaccio');
const UPLINK = process.env.RELEASE_TEST_UPLINK ?? 'https://registry.npmjs.org/';
const BLOCK_TIMEOUT_MS = 5 * 60_000;
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const DIRECTIVES = new Set(['skip', 'no-run', 'no-tsc', 'omniglot']);
const RUNNABLE = new Set(['js', 'javascript', 'mjs', 'cjs', 'ts', 'typescript', 'mts', 'cts']);

// ---------------------------------------------------------------- options
const options = { only: null, managers: ['npm', 'pnpm'], jobs: 2, keep: false };
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  const value = () => {
    const v = process.argv[++i];
    if (v === undefined) usage(`${arg} needs a value`);
    return v;
  };
  if (arg === '--only') options.only = value().split(',').map((name) => name.replace(/^@mann\//, ''));
  else if (arg === '--managers') options.managers = value().split(',');
  else if (arg === '--jobs') options.jobs = Math.max(1, Number(value()) || 1);
  else if (arg === '--keep') options.keep = true;
  else usage(`unknown option ${arg}`);
}
for (const manager of options.managers) if (!['npm', 'pnpm'].includes(manager)) usage(`unknown manager ${manager}`);
function usage(message) {
  console.error(`release-test: ${message}\nusage: node scripts/release-test.mjs [--only pkg,pkg] [--managers npm,pnpm] [--jobs N] [--keep]`);
  process.exit(2);
}

// ---------------------------------------------------------------- logging, processes, clean-up
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
const log = (message) => console.log(`release-test [${clock()}] ${message}`);
const secondsSince = (start) => `${((Date.now() - start) / 1000).toFixed(1)} s`;

const children = new Set();
const cleanups = [];
let cleanedUp = false;
function cleanUp() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM'); // its process group: the child and whatever it started
    } catch {
      try { child.kill('SIGTERM'); } catch { /* gone */ }
    }
  }
  while (cleanups.length > 0) {
    try {
      cleanups.pop()();
    } catch (error) {
      console.error(`release-test: clean-up failed: ${error.message}`);
    }
  }
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`release-test: ${signal}, stopping`);
    cleanUp();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** Runs a command to its end (never throws): { code, output, ms }. Each child leads its own process group. */
function run(command, args, { cwd, env = process.env, timeout = BLOCK_TIMEOUT_MS, input } = {}) {
  const start = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    const cap = (text, chunk) => (text.length > 4 << 20 ? text : text + chunk);
    child.stdout.on('data', (chunk) => { stdout = cap(stdout, chunk.toString()); });
    child.stderr.on('data', (chunk) => { stderr = cap(stderr, chunk.toString()); });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeout);
    child.stdin.end(input ?? '');
    const finish = (code, error) => {
      clearTimeout(timer);
      children.delete(child);
      if (error) stderr += `\n${error.message}`;
      if (timedOut) stderr = `timed out after ${timeout / 1000} s\n${stderr}`;
      resolvePromise({ code: timedOut ? -1 : code ?? -1, stdout, stderr, ms: Date.now() - start });
    };
    child.on('error', (error) => finish(-1, error));
    child.on('close', (code) => finish(code));
  });
}

/** Like run, but a failure ends the release test with the command's output. */
async function must(what, command, args, opts) {
  const result = await run(command, args, opts);
  if (result.code !== 0) {
    console.error(`release-test: ${what} failed (exit ${result.code}): ${command} ${args.join(' ')}`);
    console.error(`${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-60).join('\n'));
    process.exit(1);
  }
  return result;
}

/** The line of an error a person would read first. */
function firstErrorLine(text, code) {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  const pick =
    lines.find((line) => /error TS\d+/.test(line)) ??
    lines.find((line) => /^(?:[A-Za-z_$][\w$]*)?(?:Error|Exception)\b(?:\s*\[[^\]]*\])?:/.test(line)) ??
    lines.find((line) => /^npm error (?!code\b|A complete log)/.test(line)) ??
    lines.find((line) => /^(?:npm error|ERR_PNPM|\S*ERR!)/.test(line) && !/A complete log/.test(line)) ??
    lines.find((line) => /error/i.test(line)) ??
    lines[0];
  return (pick ?? `exit code ${code}`).slice(0, 300);
}

/** Simple concurrency limit. */
function semaphore(count) {
  const waiting = [];
  return async (task) => {
    if (count === 0) await new Promise((wake) => waiting.push(wake));
    else count--;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else count++;
    }
  };
}

function freePort() {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}

// ---------------------------------------------------------------- README parsing
/** Fenced blocks with their language, 1-based fence line, code and the release-test directives above them. */
function readmeBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*([\w+-]*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    let end = i + 1;
    while (end < lines.length && !(lines[end].startsWith(fence) && lines[end].trim() === fence)) end++;
    let above = i - 1;
    while (above >= 0 && lines[above].trim() === '') above--;
    const marker = above >= 0 ? /^<!--\s*release-test:\s*(.*?)\s*-->\s*$/.exec(lines[above].trim()) : null;
    // "skip (why)", "no-run (why); omniglot"...: keyword -> its explanation
    const directives = new Map(
      (marker ? marker[1].split(/;\s*(?=(?:skip|no-run|no-tsc|omniglot)\b)/) : [])
        .map((part) => /^\s*([\w-]+)\s*(.*?)\s*$/.exec(part))
        .filter(Boolean)
        .map(([, keyword, why]) => [keyword, why]),
    );
    for (const keyword of directives.keys()) {
      if (!DIRECTIVES.has(keyword)) throw new Error(`line ${above + 1}: unknown release-test directive '${keyword}'`);
    }
    blocks.push({
      lang: open[2].toLowerCase(),
      line: i + 1,
      code: lines.slice(i + 1, end).join('\n') + '\n',
      directives,
      headingIndex: i,
    });
    i = end;
  }
  return { lines, blocks };
}

/** The `npm install ...` line of the sh block under "## Install", as argument words. */
function installLine(text) {
  const { lines, blocks } = readmeBlocks(text);
  const heading = lines.findIndex((line) => /^##\s+Install\s*$/i.test(line));
  if (heading < 0) return { error: 'no "## Install" section' };
  const next = lines.findIndex((line, i) => i > heading && /^##?\s/.test(line));
  const block = blocks.find(
    (b) => ['sh', 'bash', 'shell', 'console'].includes(b.lang) && b.headingIndex > heading && (next < 0 || b.headingIndex < next),
  );
  if (!block) return { error: 'no ```sh block under "## Install"' };
  const command = block.code
    .split('\n')
    .map((line) => line.replace(/^\$\s*/, '').replace(/\s+#.*$/, '').trim())
    .find((line) => /^npm\s+(install|i|add)\s/.test(line));
  if (!command) return { error: `no "npm install" line in the block at line ${block.line}` };
  const args = command.split(/\s+/).slice(2);
  return { args, line: block.line, text: command };
}

// ---------------------------------------------------------------- block conversion
const TS_LANGS = new Set(['ts', 'typescript', 'mts', 'cts']);
function transpile(code, module) {
  return ts.transpileModule(code, {
    compilerOptions: { module, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
  }).outputText;
}
/** ESM: the block itself (TypeScript compiled to ESM with types removed). */
function asEsm(block) {
  return TS_LANGS.has(block.lang) ? transpile(block.code, ts.ModuleKind.ESNext) : block.code;
}
/**
 * CommonJS: the block compiled by TypeScript with module commonjs (import -> require, export -> exports.x), the
 * whole module body inside an async function so that top-level await stays legal; an error fails the process.
 */
function asCommonJs(block) {
  const body = block.lang === 'cjs' ? block.code : transpile(block.code, ts.ModuleKind.CommonJS);
  return [
    '(async () => {',
    body,
    '})().catch((error) => {',
    '  console.error(error);',
    '  process.exitCode = 1;',
    '});',
    '',
  ].join('\n');
}

// A relative fetch('/data/NAME') reads $OMNIGLOT_DIR/NAME (blocks marked omniglot, written for a page).
const FETCH_SHIM = `'use strict';
const { readFile } = require('node:fs/promises');
const { join, basename } = require('node:path');
const realFetch = globalThis.fetch;
globalThis.fetch = async function fetch(input, init) {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (typeof url === 'string' && url.startsWith('/')) {
    const dir = process.env.OMNIGLOT_DIR;
    try {
      return new Response(await readFile(join(dir, basename(url))), { status: 200 });
    } catch {
      return new Response('not found', { status: 404 });
    }
  }
  return realFetch(input, init);
};
`;

// ---------------------------------------------------------------- main
const work = mkdtempSync(join(tmpdir(), 'mann-release-'));
if (!options.keep) cleanups.unshift(() => rmSync(work, { recursive: true, force: true }));
const scratch = join(work, 'repo');
const appsDir = join(work, 'apps');
mkdirSync(appsDir);
log(`work folder ${work}${options.keep ? ' (kept: --keep)' : ''}`);

// 1. Scratch copy: the files git would commit (tracked and new, not ignored), as they are on disk.
let start = Date.now();
const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
  cwd: REPO,
  encoding: 'utf8',
  maxBuffer: 64 << 20,
})
  .split('\0')
  .filter(Boolean);
let copied = 0;
for (const file of files) {
  const from = join(REPO, file);
  if (!existsSync(from) || lstatSync(from).isDirectory()) continue; // deleted, or a submodule
  mkdirSync(dirname(join(scratch, file)), { recursive: true });
  cpSync(from, join(scratch, file), { verbatimSymlinks: true });
  copied++;
}
// node_modules: the repository's installed packages, linked; @mann/* linked to the scratch copy's workspaces.
mkdirSync(join(scratch, 'node_modules', '@mann'), { recursive: true });
for (const entry of readdirSync(join(REPO, 'node_modules'))) {
  if (entry === '@mann' || entry === '.cache') continue;
  symlinkSync(join(REPO, 'node_modules', entry), join(scratch, 'node_modules', entry));
}
const rootManifest = JSON.parse(readFileSync(join(scratch, 'package.json'), 'utf8'));
const workspaceDirs = [];
for (const pattern of rootManifest.workspaces ?? []) {
  const base = pattern.replace(/\/\*$/, '');
  if (!existsSync(join(scratch, base))) continue;
  for (const name of readdirSync(join(scratch, base))) {
    if (existsSync(join(scratch, base, name, 'package.json'))) workspaceDirs.push(join(base, name));
  }
}
for (const dir of workspaceDirs) {
  const { name } = JSON.parse(readFileSync(join(scratch, dir, 'package.json'), 'utf8'));
  if (!name?.startsWith('@mann/')) continue;
  symlinkSync(join('..', '..', dir), join(scratch, 'node_modules', name));
}
log(`scratch copy: ${copied} files, node_modules linked (${secondsSince(start)})`);

const bin = (name) => join(REPO, 'node_modules', '.bin', name);
const packageDirs = readdirSync(join(scratch, 'packages'))
  .filter((name) => existsSync(join(scratch, 'packages', name, 'package.json')))
  .sort();
const manifestOf = (name) => JSON.parse(readFileSync(join(scratch, 'packages', name, 'package.json'), 'utf8'));
const before = Object.fromEntries(packageDirs.map((name) => [manifestOf(name).name, manifestOf(name).version]));

// 2. changeset version: the versions a release would publish.
start = Date.now();
await must('changeset version', bin('changeset'), ['version'], { cwd: scratch });
const packages = packageDirs
  .map((dir) => ({ dir, ...manifestOf(dir) }))
  .filter((manifest) => !manifest.private);
log(
  `changeset version (${secondsSince(start)}): ` +
    packages.map((p) => `${p.name} ${before[p.name]}${before[p.name] === p.version ? '' : ` -> ${p.version}`}`).join(', '),
);

// 3. The registry.
start = Date.now();
const port = await freePort();
const registry = `http://127.0.0.1:${port}/`;
const verdaccioConfig = join(work, 'verdaccio.yaml');
writeFileSync(
  verdaccioConfig,
  [
    `storage: ${JSON.stringify(join(work, 'storage'))}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(join(work, 'htpasswd'))}`,
    '    max_users: -1',
    'uplinks:',
    '  npmjs:',
    `    url: ${JSON.stringify(UPLINK)}`,
    '    timeout: 120s',
    '    max_fails: 10',
    '    fail_timeout: 10s',
    'packages:',
    "  '@mann/*':", // published here only, never looked up upstream
    '    access: $all',
    '    publish: $all',
    '    unpublish: $all',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: npmjs',
    'max_body_size: 200mb',
    'web:',
    '  enable: false',
    'log: { type: stdout, format: pretty, level: warn }',
    '',
  ].join('\n'),
);
const verdaccioLog = join(work, 'verdaccio.log');
const verdaccio = spawn(
  process.execPath,
  [
    '-e',
    `const { runServer } = require(process.argv[1]);
runServer(process.argv[2]).then((app) => {
  const server = app.listen(Number(process.argv[3]), '127.0.0.1', () => console.log('RELEASE_TEST_LISTENING ' + server.address().port));
  server.on('error', (error) => { console.error(error); process.exit(1); });
}, (error) => { console.error(error); process.exit(1); });`,
    verdaccioMain,
    verdaccioConfig,
    String(port),
  ],
  { cwd: work, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
);
children.add(verdaccio);
let verdaccioOutput = '';
const verdaccioStart = start;
let verdaccioReadyAt = 0;
const verdaccioReady = new Promise((resolvePromise, reject) => {
  const timer = setTimeout(() => reject(new Error('verdaccio did not start within 60 s')), 60_000);
  const onData = (chunk) => {
    verdaccioOutput += chunk.toString();
    if (verdaccioOutput.includes('RELEASE_TEST_LISTENING')) {
      clearTimeout(timer);
      verdaccioReadyAt = Date.now();
      resolvePromise();
    }
  };
  verdaccio.stdout.on('data', onData);
  verdaccio.stderr.on('data', onData);
  verdaccio.on('exit', (code) => {
    clearTimeout(timer);
    reject(new Error(`verdaccio exited (${code}):\n${verdaccioOutput}`));
  });
});
verdaccioReady.catch(() => {}); // awaited after the build

// 4. Build every package, while the registry starts.
start = Date.now();
await must('build', bin('turbo'), ['run', 'build', '--filter=./packages/*', '--output-logs=errors-only'], {
  cwd: scratch,
  timeout: 20 * 60_000,
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
});
log(`build: ${packages.length} packages (${secondsSince(start)})`);

await verdaccioReady.catch((error) => {
  console.error(`release-test: ${error.message}`);
  process.exit(1);
});
verdaccio.removeAllListeners('exit');
verdaccio.on('exit', (code, signal) => {
  if (!cleanedUp) console.error(`release-test: verdaccio stopped unexpectedly (${code ?? signal}); see ${verdaccioLog}`);
});
const keepLog = (chunk) => {
  verdaccioOutput = (verdaccioOutput + chunk.toString()).slice(-1 << 20);
};
verdaccio.stdout.on('data', keepLog);
verdaccio.stderr.on('data', keepLog);
cleanups.push(() => {
  // Runs before the work folder is removed (clean-ups run last-in first-out).
  try {
    writeFileSync(verdaccioLog, verdaccioOutput);
  } catch { /* folder gone */ }
  try {
    process.kill(-verdaccio.pid, 'SIGTERM');
  } catch { /* gone */ }
});
log(`verdaccio ${require('verdaccio/package.json').version} listening on ${registry}, uplink ${UPLINK} (started in ${((verdaccioReadyAt - verdaccioStart) / 1000).toFixed(1)} s)`);
const authLine = `//127.0.0.1:${port}/:_authToken=release-test-anonymous`; // npm wants a token; verdaccio takes anyone

// 5. Publish as a release does: changeset publish (npm publish of every non-private package not yet in the registry).
start = Date.now();
writeFileSync(join(scratch, '.npmrc'), `registry=${registry}\n${authLine}\n`);
const publishEnv = { ...process.env, npm_config_registry: registry };
const published = await must('changeset publish', bin('changeset'), ['publish', '--no-git-tag'], {
  cwd: scratch,
  env: publishEnv,
  timeout: 10 * 60_000,
});
for (const pkg of packages) {
  const response = await fetch(`${registry}${pkg.name.replace('/', '%2f')}`);
  const body = response.ok ? await response.json() : {};
  if (!body.versions?.[pkg.version]) {
    console.error(`release-test: ${pkg.name}@${pkg.version} is not in the registry after changeset publish:`);
    console.error(`${published.stdout}\n${published.stderr}`.trim().split('\n').slice(-40).join('\n'));
    process.exit(1);
  }
}
log(`published ${packages.map((p) => `${p.name}@${p.version}`).join(', ')} (${secondsSince(start)})`);

// 6. Fresh apps: install the README's line with each manager, run and type-check each block.
const omniglotDir = process.env.OMNIGLOT_DIR ? resolve(process.env.OMNIGLOT_DIR) : null;
const nodeTypes = join(REPO, 'node_modules', '@types', 'node');
const blockCache = join(work, 'xdg-cache'); // the blocks' caches (the decoded Omniglot) live and die with the test
writeFileSync(join(work, 'fetch-shim.cjs'), FETCH_SHIM);
const versions = Object.fromEntries(packages.map((p) => [p.name, p.version]));

const results = []; // { pkg, manager, mode, status: 'ok' | 'FAIL' | 'skip', where, message }
const failures = [];
const notes = new Set(); // errors in third-party declarations
function record(pkg, manager, mode, status, where, message) {
  results.push({ pkg, manager, mode, status, where, message });
  if (status === 'FAIL') {
    const line = `FAIL ${pkg} ${where} ${manager}/${mode}: ${message}`;
    failures.push(line);
    log(line);
  }
}

const installLimit = semaphore(Math.max(2, options.jobs));
const cpuLimit = semaphore(options.jobs);
const selected = packages.filter((p) => !options.only || options.only.includes(p.dir) || options.only.includes(p.name));
if (selected.length === 0) usage(`--only matched no package (have ${packages.map((p) => p.dir).join(', ')})`);
// The slowest first, so that they do not make the tail.
const weight = (p) => (p.dir === 'model' ? 0 : p.dir === 'omniglot' ? 1 : 2);
selected.sort((a, b) => weight(a) - weight(b) || a.dir.localeCompare(b.dir));

async function testPackage(pkg, manager) {
  const label = `${pkg.name} ${manager}`;
  const readmePath = join(scratch, 'packages', pkg.dir, 'README.md'); // the README published (line numbers as in the repository)
  const readme = readFileSync(readmePath, 'utf8');
  const where = (line) => `README.md:${line}`;
  const install = installLine(readme);
  const { blocks } = readmeBlocks(readme);
  const runnable = blocks.filter((b) => RUNNABLE.has(b.lang));
  const modes = ['esm', 'cjs', 'tsc'];
  if (install.error) {
    for (const mode of modes) record(pkg.name, manager, mode, 'FAIL', 'README.md', install.error);
    return;
  }
  const app = join(appsDir, `${pkg.dir}-${manager}`);
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: `release-test-${pkg.dir}-${manager}`, version: '0.0.0', private: true, type: 'module' }, null, 2),
  );
  const npmrc = [`registry=${registry}`, authLine];
  if (manager === 'pnpm') {
    // Strict: isolated node_modules, nothing hoisted (a package sees only what it declares), peers never
    // installed behind the README's back (a missing or mismatched one fails the test, below).
    npmrc.push('node-linker=isolated', 'hoist=false', 'auto-install-peers=false', 'strict-peer-dependencies=true');
  }
  writeFileSync(join(app, '.npmrc'), `${npmrc.join('\n')}\n`);

  // Install.
  const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  delete env.npm_config_registry;
  const installed = await installLimit(async () => {
    log(`${label}: install: ${manager === 'npm' ? 'npm install' : 'pnpm add'} ${install.args.join(' ')}`);
    const command =
      manager === 'npm'
        ? ['npm', ['install', '--registry', registry, '--no-audit', '--no-fund', ...install.args]]
        : [process.execPath, [pnpmBin, 'add', '--registry', registry, '--reporter=append-only', ...install.args]];
    const result = await run(command[0], command[1], { cwd: app, env, timeout: INSTALL_TIMEOUT_MS });
    log(`${label}: install ${result.code === 0 ? 'done' : 'FAILED'} (${(result.ms / 1000).toFixed(1)} s)`);
    return result;
  });
  writeFileSync(join(app, 'install.log'), `${installed.stdout}\n${installed.stderr}`);
  // pnpm reports a missing or mismatched peer and goes on (npm installs it): the README's line is short of one.
  const peerIssue = /✕ (?:missing|unmet) peer .*/.exec(`${installed.stdout}\n${installed.stderr}`);
  if (installed.code === 0 && peerIssue) {
    for (const mode of modes) record(pkg.name, manager, mode, 'FAIL', where(install.line), `install (${install.text}): ${peerIssue[0].trim()}`);
    return;
  }
  if (installed.code !== 0) {
    const message = `install (${install.text}) failed: ${firstErrorLine(`${installed.stderr}\n${installed.stdout}`, installed.code)}`;
    for (const mode of modes) record(pkg.name, manager, mode, 'FAIL', where(install.line), message);
    return;
  }
  // What was installed must be what was just published.
  const mannInstalled = install.args.filter((arg) => arg.startsWith('@mann/')).map((arg) => arg.replace(/(?<=.)@.*$/, ''));
  for (const name of mannInstalled) {
    const file = join(app, 'node_modules', name, 'package.json');
    const got = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : 'missing';
    if (got !== versions[name]) {
      for (const mode of modes) record(pkg.name, manager, mode, 'FAIL', where(install.line), `${name} installed ${got}, published ${versions[name]}`);
      return;
    }
  }

  await cpuLimit(async () => {
    const checkStart = Date.now();
    const blockEnv = { ...env, XDG_CACHE_HOME: blockCache };
    // Type-check every block at once (ts blocks as TypeScript, js blocks as JavaScript with checkJs), and every
    // entry point of the installed @mann packages imported as ESM and required as CommonJS.
    const tsFiles = [];
    const origin = new Map(); // file -> block
    for (const block of runnable) {
      if (block.directives.has('skip') || block.directives.has('no-tsc')) continue;
      const extension = { ts: 'ts', typescript: 'ts', mts: 'mts', cts: 'cts', js: 'js', javascript: 'js', mjs: 'mjs', cjs: 'cjs' }[block.lang];
      const file = `tsc-L${block.line}.${extension}`;
      writeFileSync(join(app, file), block.code);
      tsFiles.push(file);
      origin.set(file, block);
    }
    const entries = [];
    for (const name of mannInstalled) {
      const manifest = JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8'));
      for (const key of Object.keys(manifest.exports ?? { '.': null })) {
        if (key === './package.json') continue;
        entries.push(key === '.' ? name : `${name}/${key.slice(2)}`);
      }
    }
    writeFileSync(join(app, 'entries.mts'), entries.map((e, i) => `import * as entry${i} from '${e}';\nvoid entry${i};\n`).join(''));
    writeFileSync(join(app, 'entries.cts'), entries.map((e, i) => `import entry${i} = require('${e}');\nvoid entry${i};\n`).join(''));
    tsFiles.push('entries.mts', 'entries.cts');
    // The app's own @types (what it installed) and Node's, as a TypeScript user in Node has @types/node.
    mkdirSync(join(app, '.types'));
    symlinkSync(nodeTypes, join(app, '.types', 'node'));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify(
        {
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: 'es2022',
            module: 'node16',
            moduleResolution: 'node16',
            moduleDetection: 'force',
            skipLibCheck: false,
            allowJs: true,
            checkJs: true,
            typeRoots: ['./node_modules/@types', './.types'],
          },
          files: tsFiles,
        },
        null,
        2,
      ),
    );
    const tsc = await run(process.execPath, [tscBin, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: app, env: blockEnv });
    writeFileSync(join(app, 'tsc.log'), `${tsc.stdout}\n${tsc.stderr}`);
    const tscErrors = `${tsc.stdout}\n${tsc.stderr}`.split('\n').filter((line) => /error TS\d+/.test(line));
    if (tsc.code !== 0 && tscErrors.length === 0) tscErrors.push(`tsc: ${firstErrorLine(`${tsc.stdout}\n${tsc.stderr}`, tsc.code)}`);
    // Errors in other packages' declarations (tfjs') are not the release's: noted, not failed.
    const thirdParty = (line) => /node_modules\//.test(line.split('(')[0]) && !/node_modules\/@mann\//.test(line.split('(')[0]);
    for (const line of tscErrors.filter(thirdParty)) {
      notes.add(`${manager}: ${line.replace(/^.*node_modules\/(?!\.pnpm)/, '').trim()}`);
    }
    // Errors outside the README's blocks: in the entry imports or in the @mann packages' .d.ts files.
    const outside = tscErrors.filter((line) => !origin.has(line.split('(')[0]) && !thirdParty(line));
    if (outside.length === 0) record(pkg.name, manager, 'tsc', 'ok', 'entry points');
    else {
      const codes = [...new Set(outside.map((e) => /TS\d+/.exec(e)?.[0]).filter(Boolean))].join(', ');
      record(pkg.name, manager, 'tsc', 'FAIL', `types of ${entries.join(', ')} (import and require)`, `${outside.length} error(s) (${codes}), first: ${outside[0].trim()}`);
    }
    // The same entry points under TypeScript's older `moduleResolution: node` (node10), which ignores "exports":
    // subpaths such as @mann/backend/testing resolve there only through each package's "typesVersions".
    writeFileSync(join(app, 'entries-node10.ts'), entries.map((e, i) => `import * as entry${i} from '${e}';\nvoid entry${i};\n`).join(''));
    writeFileSync(
      join(app, 'tsconfig.node10.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'commonjs', moduleResolution: 'node', skipLibCheck: true, typeRoots: ['./node_modules/@types', './.types'] },
        files: ['entries-node10.ts'],
      }),
    );
    const node10 = await run(process.execPath, [tscBin, '-p', 'tsconfig.node10.json', '--pretty', 'false'], { cwd: app, env: blockEnv });
    const node10Errors = `${node10.stdout}\n${node10.stderr}`.split('\n').filter((line) => /error TS\d+/.test(line));
    if (node10.code === 0) record(pkg.name, manager, 'tsc', 'ok', 'entry points (moduleResolution node)');
    else record(pkg.name, manager, 'tsc', 'FAIL', `types of ${entries.join(', ')} under moduleResolution node`, `${node10Errors[0]?.trim() ?? firstErrorLine(`${node10.stdout}\n${node10.stderr}`, node10.code)}`);
    for (const block of runnable) {
      const because = (keyword) => `${keyword} ${block.directives.get(keyword)}`.trim();
      if (block.directives.has('skip')) {
        for (const mode of modes) record(pkg.name, manager, mode, 'skip', where(block.line), because('skip'));
        continue;
      }
      const file = [...origin.entries()].find(([, b]) => b === block)?.[0];
      if (!file) record(pkg.name, manager, 'tsc', 'skip', where(block.line), because('no-tsc'));
      else {
        const errors = tscErrors.filter((line) => line.startsWith(`${file}(`));
        if (errors.length === 0) record(pkg.name, manager, 'tsc', 'ok', where(block.line));
        else {
          const [, l, rest] = /^[^(]+\((\d+),\d+\):\s*(.*)$/.exec(errors[0]) ?? [null, '0', errors[0]];
          const codes = [...new Set(errors.map((e) => /TS\d+/.exec(e)?.[0]))].join(', ');
          const more = errors.length > 1 ? ` (${errors.length} errors: ${codes})` : '';
          record(pkg.name, manager, 'tsc', 'FAIL', where(block.line), `README line ${block.line + Number(l)}: ${rest}${more}`);
        }
      }
      // Run it, as ESM and as CommonJS.
      const needsOmniglot = block.directives.has('omniglot');
      for (const mode of ['esm', 'cjs']) {
        if (block.directives.has('no-run')) {
          record(pkg.name, manager, mode, 'skip', where(block.line), because('no-run'));
          continue;
        }
        if (needsOmniglot && !omniglotDir) {
          log(`${label}: ${where(block.line)} ${mode} skipped: OMNIGLOT_DIR is not set`);
          record(pkg.name, manager, mode, 'skip', where(block.line), 'needs the Omniglot zips: OMNIGLOT_DIR is not set');
          continue;
        }
        if (mode === 'esm' && block.lang === 'cjs') {
          record(pkg.name, manager, mode, 'skip', where(block.line), 'a CommonJS block');
          continue;
        }
        const script = `readme-L${block.line}.${mode === 'esm' ? 'mjs' : 'cjs'}`;
        writeFileSync(join(app, script), mode === 'esm' ? asEsm(block) : asCommonJs(block));
        const args = needsOmniglot ? ['--require', join(work, 'fetch-shim.cjs'), script] : [script];
        const result = await run(process.execPath, args, {
          cwd: app,
          env: { ...blockEnv, ...(omniglotDir ? { OMNIGLOT_DIR: omniglotDir } : {}) },
        });
        writeFileSync(join(app, `${script}.log`), `${result.stdout}\n${result.stderr}`);
        if (result.code === 0) {
          record(pkg.name, manager, mode, 'ok', where(block.line));
          log(`${label}: ${where(block.line)} ${mode} ok (${(result.ms / 1000).toFixed(1)} s)`);
        } else record(pkg.name, manager, mode, 'FAIL', where(block.line), firstErrorLine(result.stderr || result.stdout, result.code));
      }
    }
    log(`${label}: ${runnable.length} block(s) checked (tsc ${(tsc.ms / 1000).toFixed(1)} s, all ${secondsSince(checkStart)})`);
  });
}

start = Date.now();
const jobs = [];
for (const pkg of selected) {
  for (const manager of options.managers) {
    jobs.push(
      testPackage(pkg, manager).catch((error) => {
        for (const mode of ['esm', 'cjs', 'tsc']) record(pkg.name, manager, mode, 'FAIL', 'README.md', error.message.split('\n')[0]);
      }),
    );
  }
}
await Promise.all(jobs);
log(`apps: ${selected.length} packages x ${options.managers.length} managers (${secondsSince(start)})`);

// ---------------------------------------------------------------- summary
const columns = options.managers.flatMap((manager) => ['esm', 'cjs', 'tsc'].map((mode) => ({ manager, mode })));
const cell = (pkg, { manager, mode }) => {
  const mine = results.filter((r) => r.pkg === pkg && r.manager === manager && r.mode === mode);
  if (mine.some((r) => r.status === 'FAIL')) return 'FAIL';
  const ok = mine.filter((r) => r.status === 'ok').length;
  const skipped = mine.filter((r) => r.status === 'skip').length;
  if (ok === 0 && skipped === 0) return '-';
  return `ok ${ok}${skipped ? ` (+${skipped} skip)` : ''}`;
};
const header = ['package', ...columns.map((c) => `${c.manager} ${c.mode}`)];
const rows = selected.map((pkg) => [`${pkg.name}@${pkg.version}`, ...columns.map((c) => cell(pkg.name, c))]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const format = (row) => `| ${row.map((text, i) => text.padEnd(widths[i])).join(' | ')} |`;
console.log('');
console.log('release test: README blocks that ran, per package, manager and mode (tsc: the blocks and the entry points)');
console.log(format(header));
console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
for (const row of rows) console.log(format(row));
const skipped = new Map(); // "package where: why" -> modes
for (const r of results.filter((r) => r.status === 'skip')) {
  const key = `${r.pkg} ${r.where}: ${r.message}`;
  skipped.set(key, new Set([...(skipped.get(key) ?? []), `${r.manager}/${r.mode}`]));
}
for (const [key, modes] of skipped) {
  const [what, why] = [key.slice(0, key.indexOf(': ')), key.slice(key.indexOf(': ') + 2)];
  console.log(`skip ${what} (${[...modes].join(', ')}): ${why}`);
}
for (const note of notes) console.log(`note (not a failure: another package's declarations): ${note}`);
if (failures.length > 0) {
  console.log('');
  for (const line of failures) console.log(line);
}
const passed = results.filter((r) => r.status === 'ok').length;
const failed = results.filter((r) => r.status === 'FAIL').length;
const skippedCount = results.filter((r) => r.status === 'skip').length;
console.log(`release test (${secondsSince(t0)}, work folder ${options.keep ? work : 'removed'}):`);
console.log(`${passed} passed, ${failed} failed, ${skippedCount} skipped`);
cleanUp();
process.exit(failed > 0 || passed === 0 ? 1 : 0);
