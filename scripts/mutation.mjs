#!/usr/bin/env node
// Mutation tests (StrykerJS) of the packages, one after another, and a table of their scores.
//
//   npm run mutation                         every package with a stryker.config.mjs
//   npm run mutation -- memory episodes      those packages
//   npm run mutation -- --changed origin/main  the packages with a file changed since that git ref (none: nothing runs)
//   npm run mutation -- --changed HEAD~1     as CI runs it: the packages its newest commit changed
//   npm run mutation -- --except model       all but those packages (comma-separated)
//
// Each package's config sets the score below which its run fails; this script fails if any run does. Reports:
// packages/<name>/reports/mutation/index.html. Needs the packages built (`npm run build`): tests import siblings' dist.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const all = readdirSync(path.join(root, 'packages')).filter((p) => existsSync(path.join(root, 'packages', p, 'stryker.config.mjs')));
const args = process.argv.slice(2);
let chosen = all;
const exceptAt = args.indexOf('--except');
const excepted = exceptAt >= 0 ? (args.splice(exceptAt, 2)[1] ?? '').split(',').filter(Boolean) : [];
const unknownExcepted = excepted.filter((p) => !all.includes(p));
if (exceptAt >= 0 && (excepted.length === 0 || unknownExcepted.length > 0)) {
  throw new Error(`mutation: --except needs package names from ${all.join(', ')}, comma-separated; got '${excepted.join(',')}'`);
}
const changedAt = args.indexOf('--changed');
if (changedAt >= 0) {
  const ref = args[changedAt + 1];
  if (!ref) throw new Error('mutation: --changed needs a git ref, e.g. --changed HEAD~1');
  const files = execFileSync('git', ['diff', '--name-only', ref, '--', 'packages'], { cwd: root, encoding: 'utf8' }).split('\n');
  chosen = all.filter((p) => files.some((f) => f.startsWith(`packages/${p}/src/`)));
  console.log(`mutation: packages with source changed since ${ref}: ${chosen.join(', ') || 'none'}`);
} else if (args.length > 0) {
  const unknown = args.filter((a) => !all.includes(a));
  if (unknown.length > 0) throw new Error(`mutation: no stryker.config.mjs in packages/${unknown.join(', packages/')}; choose from ${all.join(', ')}`);
  chosen = args;
}

if (excepted.length > 0) {
  const skipped = chosen.filter((p) => excepted.includes(p));
  chosen = chosen.filter((p) => !excepted.includes(p));
  if (skipped.length > 0) console.log(`mutation: not running ${skipped.join(', ')} (--except)`);
}

/** Score = killed (incl. timeouts) / (all valid mutants but ignored), as Stryker computes it. */
function score(pkg) {
  const report = JSON.parse(readFileSync(path.join(root, 'packages', pkg, 'reports/mutation/mutation.json'), 'utf8'));
  const counts = {};
  for (const file of Object.values(report.files)) for (const m of file.mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
  const valid = detected + (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
  return { score: valid === 0 ? 100 : (100 * detected) / valid, ...counts };
}

const rows = [];
let failed = false;
for (const pkg of chosen) {
  const started = Date.now();
  console.log(`\nmutation: @mann/${pkg}`);
  const run = spawnSync('npx', ['stryker', 'run'], { cwd: path.join(root, 'packages', pkg), stdio: 'inherit' });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (run.status !== 0) failed = true;
  const result = existsSync(path.join(root, 'packages', pkg, 'reports/mutation/mutation.json')) ? score(pkg) : undefined;
  rows.push({ pkg, seconds, ok: run.status === 0, ...result });
}

console.log('\n| package | score | killed | timeout | survived | no coverage | ignored | compile errors | time | |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const s = r.score === undefined ? 'n/a' : `${r.score.toFixed(1)}%`;
  console.log(`| @mann/${r.pkg} | ${s} | ${r.Killed ?? 0} | ${r.Timeout ?? 0} | ${r.Survived ?? 0} | ${r.NoCoverage ?? 0} | ${r.Ignored ?? 0} | ${r.CompileError ?? 0} | ${r.seconds} s | ${r.ok ? 'ok' : 'FAIL'} |`);
}
process.exit(failed ? 1 : 0);
