import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// End-to-end tests of the built CLI: a run folder is never lost, and every user mistake gets one clear line.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const OMNIGLOT_DIR = process.env.OMNIGLOT_DIR;

const TINY = ['--units', '16', '--slots', '16', '--width', '8', '--heads', '1', '--shots', '3', '--batch', '4', '--backend', 'cpu'];
const QUICK = ['--log-every', '1', '--eval-every', '0', ...TINY];

function run(args: string[], options: { cwd?: string } = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: process.env, cwd: options.cwd, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A refusal: exit 1 and a single line starting `mann: `, no stack trace. */
function expectOneLine(result: ReturnType<typeof run>, pattern: RegExp) {
  expect(result.code, result.stderr).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^mann: /);
  expect(lines[0]).toMatch(pattern);
}

const newDir = () => join(mkdtempSync(join(tmpdir(), 'mann-run-')), 'run');
const metricsLines = (out: string) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
const manifest = (out: string) => JSON.parse(readFileSync(join(out, 'checkpoint', 'manifest.json'), 'utf8'));

describe('bad option values and contradictions: one line, exit 1, before any work', () => {
  it.each([
    [['--lr', '0'], /--lr must be a positive number, got '0'/],
    [['--lr', '-1'], /--lr must be a positive number, got '-1'/],
    [['--lr=-1e-3'], /--lr must be a positive number, got '-1e-3'/],
    [['--decay', '2'], /--decay must be a number from 0 to 1, got '2'/],
    [['--steps', '-5'], /--steps must be an integer >= 1, got '-5'/],
    [['--clip', '-1'], /--clip must be a number >= 0, got '-1'/],
    [['--addressing', 'ntm', '--clearing', 'all-least-used'], /--clearing is for LRUA addressing; --addressing ntm has no least-used slots/],
    [['--addressing', 'ntm', '--write-vector', 'add'], /--write-vector is for LRUA addressing/],
    [['--model', 'lstm', '--slots', '8'], /--slots is for --model mann; the lstm baseline has no memory/],
    [['--model', 'feed-forward', '--heads', '2'], /--heads is for --model mann; the feed-forward baseline has no memory/],
    [['--model', 'lstm', '--addressing', 'ntm'], /--addressing is for --model mann/],
    [['--model', 'lstm', '--controller', 'lstm'], /--controller is for --model mann/],
    [['--curriculum'], /--curriculum needs --labels string/],
    [['--resume', '/nonexistent-run', '--seed', '3'], /--seed cannot change a resumed run/],
    [['--resume', '/nonexistent-run', '--decay', '0.9'], /--decay cannot change a resumed run/],
    [['--resume', '/nonexistent-run', '--overwrite'], /--overwrite starts a new run; it cannot go with --resume/],
    [['--resume', '/nonexistent-run', '--out', '/tmp/elsewhere'], /--resume continues .* in place.*copy the folder/],
  ])('mann train %j', (args, pattern) => {
    const out = newDir();
    const result = run(['train', ...args, ...(args.includes('--resume') ? [] : ['--out', out])]);
    expectOneLine(result, pattern);
    expect(result.stderr).not.toMatch(/ambiguous/);
    expect(existsSync(out)).toBe(false); // refused before creating anything
  });

  it('lists --overwrite in mann train --help', () => {
    expect(run(['train', '--help']).stdout).toMatch(/--overwrite +.*removes/);
  });
});

describe.skipIf(!OMNIGLOT_DIR)('a run folder holds one run', () => {
  it('refuses a folder that holds a run, unless --overwrite; --overwrite starts over', () => {
    const out = newDir();
    expect(run(['train', '--steps', '2', '--out', out, ...QUICK]).code).toBe(0);
    const again = run(['train', '--steps', '3', '--out', out, ...QUICK]);
    expectOneLine(again, /already holds a run.*--resume .*continues it.*new folder.*--overwrite/);
    expect(manifest(out).training.step).toBe(2);
    expect(metricsLines(out)).toHaveLength(2);

    const over = run(['train', '--steps', '1', '--out', out, '--overwrite', ...QUICK]);
    expect(over.code, over.stderr).toBe(0);
    expect(over.stderr).toMatch(/--overwrite: removed the run in /);
    expect(manifest(out).training.step).toBe(1);
    expect(metricsLines(out)).toHaveLength(1);
  }, 60_000);

  it('locks the folder: a live owner refuses, a stale lock is taken over, the lock goes at exit', () => {
    const out = newDir();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '.lock'), `${process.pid}\n`);
    const busy = run(['train', '--steps', '1', '--out', out, ...QUICK]);
    expectOneLine(busy, new RegExp(`is in use by process ${process.pid}`));
    expect(readFileSync(join(out, '.lock'), 'utf8').trim()).toBe(String(process.pid));
    expect(existsSync(join(out, 'checkpoint'))).toBe(false);

    const gone = spawnSync(process.execPath, ['-e', '']).pid!; // a process that has exited
    writeFileSync(join(out, '.lock'), `${gone}\n`);
    const taken = run(['train', '--steps', '1', '--out', out, ...QUICK]);
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stderr).toMatch(new RegExp(`stale lock .*process ${gone} is not running.*taking it over`));
    expect(existsSync(join(out, '.lock'))).toBe(false);
    // A resume takes the lock again and releases it after an error (here: no data, found after the lock is taken).
    const failed = run(['train', '--resume', out, '--steps', '2', '--data', '/nonexistent-omniglot']);
    expectOneLine(failed, /Omniglot not found/);
    expect(existsSync(join(out, '.lock'))).toBe(false);
  }, 60_000);

  it('releases the lock on a signal before training starts', async () => {
    const out = newDir();
    const child = spawn(process.execPath, [CLI, 'train', '--steps', '100000', '--out', out, ...QUICK], { env: process.env });
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (/reading /.test(stderr) && !child.killed) child.kill('SIGTERM');
      });
      child.on('exit', resolve);
    });
    expect(code, stderr).toBe(143);
    expect(existsSync(join(out, '.lock'))).toBe(false);
  }, 60_000);

  it('cleans leftover temp files and a half-written metrics line on resume; drops records the resume repeats', () => {
    const out = newDir();
    expect(run(['train', '--steps', '2', '--out', out, ...QUICK]).code).toBe(0);
    const checkpointDir = join(out, 'checkpoint');
    writeFileSync(join(checkpointDir, 'manifest.json.0123456789ab.tmp'), '{"half');
    writeFileSync(join(checkpointDir, 'weights-00000003-abcdef.bin.ba9876543210.tmp'), 'half');
    writeFileSync(join(checkpointDir, 'notes.tmp'), 'not ours');
    // A record of a batch after the checkpoint (lost with the process), then a line cut short.
    appendFileSync(join(out, 'metrics.jsonl'), `${JSON.stringify({ kind: 'train', step: 3, episodes: 12, loss: 1, accuracy: {} })}\n{"kind": "tr`);
    const resumed = run(['train', '--resume', out, '--steps', '4']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/Removed 2 temporary files left by an interrupted checkpoint write/);
    expect(resumed.stderr).toMatch(/metrics.jsonl ended in a half-written line .* removed it/);
    expect(resumed.stderr).toMatch(/metrics.jsonl: removed 1 record after step 2/);
    expect(readdirSync(checkpointDir).filter((name) => name.endsWith('.tmp'))).toEqual(['notes.tmp']);
    const records = metricsLines(out).map((line) => JSON.parse(line));
    expect(records.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(records[2].episodes).toBe(12);
  }, 60_000);

  it('refuses more ways than the held-out or validation classes in one line (once the data says how many), before training', () => {
    const out = newDir();
    const result = run(['train', '--ways', '500', '--steps', '1', '--out', out, ...QUICK]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(result.stderr.trim().split('\n').at(-1)).toBe(
      'mann: --ways 500 is more than the 100 classes an episode can draw from (4400 training, 423 held out in the paper split, ' +
        '100 validation); use at most 100, or more --validation characters.',
    );
    const tooMany = run(['train', '--validation', '1200', '--steps', '1', '--out', out, ...QUICK]);
    expect(tooMany.stderr.trim().split('\n').at(-1)).toBe(
      'mann: --validation 1200 would leave no character to train on: the paper split has 1200 training characters; set aside fewer.',
    );
    const without = run(['train', '--ways', '500', '--steps', '1', '--validation', '0', '--out', out, ...QUICK]);
    expect(without.stderr.trim().split('\n').at(-1)).toBe(
      'mann: --ways 500 is more than the 423 classes an episode can draw from (4800 training, 423 held out in the paper split); use at most 423.',
    );
    expect(existsSync(join(out, 'metrics.jsonl'))).toBe(false);
  });

  it('refuses --resume DIR --out OTHER without touching either', () => {
    const out = newDir();
    expect(run(['train', '--steps', '1', '--out', out, ...QUICK]).code).toBe(0);
    const other = newDir();
    expectOneLine(run(['train', '--resume', out, '--out', other, '--steps', '2']), /--resume continues .* in place; copy the folder to branch a run/);
    expect(existsSync(other)).toBe(false);
    expect(manifest(out).training.step).toBe(1);
  }, 60_000);

  it('refuses --resume with a model option that contradicts the run', () => {
    const out = newDir();
    expect(run(['train', '--steps', '1', '--out', out, '--addressing', 'ntm', ...QUICK]).code).toBe(0);
    expectOneLine(run(['train', '--resume', out, '--steps', '2', '--clearing', 'all-least-used']), /--clearing is for LRUA addressing/);
    expectOneLine(run(['train', '--resume', out, '--steps', '2', '--curriculum']), /--curriculum needs --labels string/);
  }, 60_000);

  it('caps --workers at the cores and the batch, saying so', () => {
    const out = newDir();
    const result = run(['train', '--steps', '1', '--out', out, '--workers', '64', ...QUICK]);
    expect(result.code, result.stderr).toBe(0);
    const cap = Math.min(availableParallelism(), 4);
    expect(result.stderr).toMatch(new RegExp(`--workers 64: .*using ${cap}`));
    expect(manifest(out).training.run.workers).toBe(cap);
  }, 60_000);

  it('export refuses to write over the checkpoint it reads', () => {
    const out = newDir();
    expect(run(['train', '--steps', '1', '--out', out, ...QUICK]).code).toBe(0);
    const before = readFileSync(join(out, 'checkpoint', 'manifest.json'), 'utf8');
    symlinkSync(join(out, 'checkpoint'), join(out, 'alias'));
    expectOneLine(run(['export', '--checkpoint', join(out, 'checkpoint'), '--out', join(out, 'alias')]), /--out is the checkpoint being exported/);
    expectOneLine(run(['export', '--checkpoint', join(out, 'checkpoint'), '--out', `${join(out, 'checkpoint')}/`]), /--out is the checkpoint being exported/);
    expect(readFileSync(join(out, 'checkpoint', 'manifest.json'), 'utf8')).toBe(before);
  }, 60_000);

  it('demo names a checkpoint that is not there instead of training a new model', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mann-demo-'));
    const result = run(['demo', '--checkpoint', 'runs/typo/checkpoint', '--backend', 'cpu'], { cwd });
    expectOneLine(result, /no checkpoint at .*runs\/typo\/checkpoint/);
    expect(existsSync(join(cwd, 'runs'))).toBe(false);
  });

  it('exits 143 on SIGTERM after saving, and the run resumes', async () => {
    const out = newDir();
    const child = spawn(process.execPath, [CLI, 'train', '--steps', '100000', '--out', out, ...QUICK], { env: process.env });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', () => {
        if (/\] \d+\/100000/.test(stderr) && !child.killed) child.kill('SIGTERM');
      });
      child.on('exit', resolve);
    });
    expect(code, stderr).toBe(143);
    const stopped = /Stopped at step (\d+); checkpoint saved.*Resume with: mann train --resume/s.exec(stderr);
    expect(stopped, stderr).not.toBeNull();
    const step = Number(stopped![1]);
    expect(manifest(out).training.step).toBe(step);
    expect(existsSync(join(out, '.lock'))).toBe(false);
    const resumed = run(['train', '--resume', out, '--steps', String(step + 1)]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`Resuming .* at step ${step}`));
  }, 60_000);
});
