#!/usr/bin/env node
// npm run docs:check: fails when the API reference in docs/api is stale or incomplete, or a markdown link is broken.
//
// 1. typedoc.json documents every entry point the packages export (package.json "exports": "." is src/index.ts,
//    "./x" is src/x.ts), and nothing else.
// 2. typedoc regenerates the reference into a temporary folder, with typedoc.json's checks as errors: an export
//    without a doc comment, a {@link} that resolves to nothing, an unknown tag.
// 3. The result must equal docs/api file for file (else: `npm run docs`, and commit docs/api).
// 4. scripts/check-links.mjs: the links of README.md, packages/*/README.md and docs/**/*.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { checkFiles, defaultFiles } from './check-links.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COMMITTED = join(ROOT, 'docs/api');
const started = Date.now();
const failures = [];

// 1. Entry points.
const parsed = ts.parseConfigFileTextToJson('typedoc.json', readFileSync(join(ROOT, 'typedoc.json'), 'utf8')); // JSON with comments
if (parsed.error) throw new Error(`typedoc.json: ${ts.flattenDiagnosticMessageText(parsed.error.messageText, '\n')}`);
const config = parsed.config;
const documented = new Set(config.entryPoints);
const exported = new Set();
for (const name of readdirSync(join(ROOT, 'packages')).sort()) {
  const manifestPath = join(ROOT, 'packages', name, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.private) continue;
  for (const subpath of Object.keys(manifest.exports ?? { '.': null })) {
    if (subpath === './package.json') continue;
    const source = `packages/${name}/src/${subpath === '.' ? 'index' : subpath.slice(2)}.ts`;
    if (!existsSync(join(ROOT, source))) {
      failures.push(`${manifest.name} exports "${subpath}", but ${source} does not exist: add its entry point to typedoc.json by hand.`);
      continue;
    }
    exported.add(source);
    if (!documented.has(source)) failures.push(`typedoc.json: entryPoints lacks ${source} (${manifest.name} exports "${subpath}").`);
  }
}
for (const source of documented) {
  if (!exported.has(source)) failures.push(`typedoc.json: entry point ${source} is not a package.json export of its package.`);
}

// 2. Regenerate.
const typedoc = join(ROOT, 'node_modules/typedoc/bin/typedoc');
const out = mkdtempSync(join(tmpdir(), 'mann-docs-'));
try {
  const run = spawnSync(process.execPath, [typedoc, '--out', out], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) {
    failures.push(
      `typedoc failed (above): every export needs a /** doc comment */, and every {@link} must name something documented.`,
    );
  } else {
    // 3. Compare with docs/api.
    const list = (dir, base = dir) =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name);
        return entry.isDirectory() ? list(path, base) : [relative(base, path).split('\\').join('/')];
      });
    const fresh = new Set(list(out));
    const committed = new Set(existsSync(COMMITTED) ? list(COMMITTED) : []);
    const stale = [];
    for (const file of fresh) {
      if (!committed.has(file)) stale.push(`docs/api/${file} is missing`);
      else {
        const a = readFileSync(join(out, file), 'utf8');
        const b = readFileSync(join(COMMITTED, file), 'utf8').replace(/\r\n/g, '\n');
        if (a !== b) stale.push(`docs/api/${file} is out of date`);
      }
    }
    for (const file of committed) if (!fresh.has(file)) stale.push(`docs/api/${file} documents nothing any more`);
    if (stale.length > 0) failures.push(...stale, 'The API reference is stale: run `npm run docs` and commit docs/api.');
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

// 4. Links.
const files = defaultFiles(ROOT);
const broken = checkFiles(files, ROOT);
failures.push(...broken);

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  for (const failure of failures) console.error(failure);
  console.error(`docs:check failed (${seconds} s).`);
  process.exit(1);
}
console.log(`docs:check: docs/api is up to date; ${files.length} markdown files, no broken links (${seconds} s).`);
