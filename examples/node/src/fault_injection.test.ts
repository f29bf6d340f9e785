import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { loadCheckpoint } from '@mann/model/node';

// Fault injection: `mann train` killed with SIGKILL (no handler runs, no checkpoint is saved on the way out) at
// moments spread over a short run, often in the middle of a checkpoint write (one every batch). Whatever the
// moment, the run folder must load, and `--resume` must end with the same bytes as a run never interrupted.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const OMNIGLOT_DIR = process.env.OMNIGLOT_DIR;
const STEPS = 12;
const TINY = ['--units', '16', '--slots', '16', '--width', '8', '--heads', '1', '--shots', '3', '--batch', '4', '--backend', 'cpu'];
const train = (out: string) => ['train', '--steps', String(STEPS), '--out', out, '--log-every', '1', '--eval-every', '0', '--checkpoint-every', '1', ...TINY];
const newDir = () => join(mkdtempSync(join(tmpdir(), 'mann-kill-')), 'run');

function run(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: process.env, timeout: 120_000 });
  return { code: result.status, stderr: result.stderr };
}

/** The bytes of a finished run's checkpoint: its weights file (model and optimiser) and its step. */
function finalCheckpoint(out: string): { step: number; weights: Buffer } {
  const manifest = JSON.parse(readFileSync(join(out, 'checkpoint', 'manifest.json'), 'utf8'));
  return { step: manifest.training.step, weights: readFileSync(join(out, 'checkpoint', manifest.weightsManifest[0].paths[0])) };
}

/**
 * Starts a run and kills it with SIGKILL `delayMs` after its metrics.jsonl has `afterStep` records (polled: the
 * progress line is printed only every few seconds when stderr is not a terminal).
 */
function killDuring(out: string, afterStep: number, delayMs: number): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...train(out)], { env: process.env });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const records = () => {
    try {
      return readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').length - 1;
    } catch {
      return 0;
    }
  };
  const poll = setInterval(() => {
    if (records() >= afterStep && !child.killed) {
      clearInterval(poll);
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    }
  }, 2);
  return new Promise((resolve) => {
    child.on('exit', () => {
      clearInterval(poll);
      resolve(stderr);
    });
  });
}

describe.skipIf(!OMNIGLOT_DIR)('a training run killed with SIGKILL at any moment', () => {
  beforeAll(async () => {
    await useBackend('cpu'); // to load the checkpoints in this process
  });

  it('leaves a folder that loads, and --resume ends bit-identical to an uninterrupted run', async () => {
    const reference = newDir();
    const uninterrupted = run(train(reference));
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    const expected = finalCheckpoint(reference);
    expect(expected.step).toBe(STEPS);

    // Moments spread over the run: once batch 2..10 is in metrics.jsonl (its record comes before that batch's
    // checkpoint, so batch 1's is on disk), 0-12 ms later: a checkpoint write takes a few ms here.
    const moments = [[2, 0], [4, 3], [5, 7], [7, 1], [8, 12], [10, 5]];
    let killedMidRun = 0;
    for (const [afterStep, delayMs] of moments) {
      const out = newDir();
      const killed = await killDuring(out, afterStep, delayMs);
      const what = `killed after batch ${afterStep} + ${delayMs} ms:\n${killed}`;
      expect(existsSync(join(out, 'checkpoint', 'manifest.json')), what).toBe(true);
      const { model } = await loadCheckpoint(join(out, 'checkpoint'));
      model.dispose();
      // A process killed mid-run left its lock behind: the resumed run takes it over, then finishes the run.
      const resumed = run(['train', '--resume', out, '--steps', String(STEPS)]);
      expect(resumed.code, `${what}\n${resumed.stderr}`).toBe(0);
      if (!/Done: /.test(killed)) {
        killedMidRun++;
        expect(resumed.stderr, what).toMatch(/stale lock/i);
      }
      const finished = finalCheckpoint(out);
      expect(finished.step, what).toBe(STEPS);
      expect(finished.weights.equals(expected.weights), `${what}: the resumed run's weights differ from the uninterrupted run's`).toBe(true);
      const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line).step);
      expect(steps, what).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    }
    // Not vacuous: most kills landed before the run finished.
    expect(killedMidRun).toBeGreaterThanOrEqual(4);
  }, 300_000);

  it('refuses a second writer on the same folder while the first trains, naming it', async () => {
    const out = newDir();
    const first = spawn(process.execPath, [CLI, ...train(out).map((a) => (a === String(STEPS) ? '100000' : a))], { env: process.env });
    let stderr = '';
    await new Promise<void>((resolve) => {
      first.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (/\] \d+\/100000/.test(stderr)) resolve();
      });
    });
    const second = run(['train', '--resume', out, '--steps', '100000']);
    const exited = new Promise((resolve) => first.on('exit', resolve));
    first.kill('SIGKILL');
    await exited;
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(new RegExp(`process ${first.pid}`));
  }, 120_000);
});
