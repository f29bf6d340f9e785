import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// End-to-end tests of the built CLI (`npm test` builds it first) on the real Omniglot zips.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const OMNIGLOT_DIR = process.env.OMNIGLOT_DIR;
if (!OMNIGLOT_DIR) console.warn('SKIPPED: the CLI end-to-end tests need OMNIGLOT_DIR (the folder with the Omniglot zips).');

const TINY = ['--units', '16', '--slots', '16', '--width', '8', '--heads', '1', '--shots', '3', '--batch', '4', '--backend', 'cpu'];

function run(args: string[], env: Record<string, string | undefined> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('mann CLI', () => {
  it('explains its commands, and rejects unknown options with a pointer to --help', () => {
    expect(run(['--help']).stdout).toMatch(/Usage: mann <command>/);
    expect(run(['train', '--help']).stdout).toMatch(/--resume DIR/);
    const bad = run(['train', '--bogus']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/mann train: Unknown option '--bogus'. See `mann train --help`./);
    const badValue = run(['train', '--ways', 'five']);
    expect(badValue.stderr).toMatch(/--ways must be an integer >= 2, got 'five'./);
  });

  it('names the missing data and the fix', () => {
    const missing = run(['train', '--data', '/nonexistent-omniglot', ...TINY]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Omniglot not found: missing \/nonexistent-omniglot\/images_background.zip.*OMNIGLOT_DIR.*mann-omniglot download/s);
  });

  it.skipIf(!OMNIGLOT_DIR)('measures the kNN baseline alone on any episode settings (Table 2: string labels, 15 classes)', () => {
    const result = run(['eval', '--knn', '--ways', '15', '--labels', 'string', '--episodes', '4', '--batch', '2', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ways: 15, labels: 'string', shots: 10, episodes: 4, set: 'test' });
    expect(report.knn.map((row: { instance: number }) => row.instance)).toEqual([1, 2, 3, 4, 5, 10]);
    // A 1st instance has no earlier image of its class: its nearest neighbour's string is another class's.
    expect(report.knn[0].accuracy).toBe(0);
    expect(report.knn[1].accuracy).toBeGreaterThan(0.2); // far above the 1 in 15 of a label seen before
    const table = run(['eval', '--knn', '--ways', '15', '--labels', 'string', '--episodes', '2', '--batch', '2']);
    expect(table.stdout).toMatch(/kNN \(1-NN, raw pixels\), 15 classes, string labels, 10 instances per class, 2 held-out episodes \(seed 1\)/);
  });

  it('refuses options the kNN baseline alone or a checkpoint cannot take, in one line', () => {
    const shipped = fileURLToPath(new URL('../../../checkpoints/omniglot-mann', import.meta.url));
    expect(run(['eval', '--knn', '--errors']).stderr.trim()).toBe(
      'mann: --errors needs --checkpoint: the kNN baseline alone scores the held-out characters, and has no memory or errors breakdown.',
    );
    expect(run(['eval', '--checkpoint', shipped, '--ways', '15']).stderr.trim()).toBe(
      'mann: --ways goes with --knn alone: with --checkpoint the episodes are the checkpoint\'s (its classes, labels and instances per class).',
    );
    expect(run(['eval']).stderr.trim()).toBe('mann: mann eval needs --checkpoint DIR (a folder with manifest.json), or --knn alone. See `mann eval --help`.');
    expect(run(['eval', '--knn', '--labels', 'words']).stderr).toMatch(/--labels must be one of one-hot, string, got 'words'./);
  });

  it('refuses --set validation for a checkpoint trained on every training character, and says what to use', () => {
    const shipped = fileURLToPath(new URL('../../../checkpoints/omniglot-mann', import.meta.url));
    const result = run(['eval', '--checkpoint', shipped, '--set', 'validation', '--backend', 'cpu']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `mann: --set validation: ${shipped} was trained on every training character (its run set none aside, as runs did ` +
        'before `mann train --validation`), so it has no validation characters; score it with --set test.',
    );
    expect(run(['eval', '--checkpoint', shipped, '--set', 'train']).stderr).toMatch(/--set must be one of test, validation/);
  });

  it.skipIf(!OMNIGLOT_DIR)('trains, checkpoints, resumes, evaluates and plots', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mann-cli-')), 'run');
    const first = run(['train', '--steps', '4', '--log-every', '2', '--eval-every', '4', '--eval-episodes', '8', '--checkpoint-every', '2', '--out', out, ...TINY]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/Done: 4 batches/);
    const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(records.map((r) => `${r.kind}@${r.step}`)).toEqual(['train@2', 'train@4', 'eval@4']);
    expect(records[0].accuracy['1']).toBeGreaterThanOrEqual(0);
    // 100 of the 1200 training characters are set aside by default, and the periodic evaluation scores them.
    expect(first.stderr).toMatch(/Omniglot paper split: 1100 training characters \(x4 rotations = 4400 classes, random affine per drawing\), 100 validation \(taken from the training characters, seed 0\), 423 held out/);
    expect(first.stderr).toMatch(/validation classes after 4 batches \(8 episodes\)/);
    expect(records[2].set).toBe('validation');
    const revalidated = run(['train', '--resume', out, '--steps', '5', '--validation', '50']);
    expect(revalidated.code).toBe(1);
    expect(revalidated.stderr.trim()).toBe(
      'mann: --validation cannot change a resumed run (it was fixed when the run started); start a new run with --out to use another.',
    );

    // Resumed over two worker threads with a larger batch: same run, the batch's episodes split between them.
    const resumed = run(['train', '--resume', out, '--steps', '6', '--log-every', '2', '--workers', '2', '--batch', '6']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/Resuming .* at step 4/);
    expect(resumed.stderr).toMatch(/batch 6; backend \w+, 2 workers;/);
    expect(resumed.stderr).toMatch(/Fast path: controller 'lstm' fast, addressing 'lrua' fast \((WebAssembly SIMD|JavaScript)\); matrix products in WebAssembly relaxed SIMD\./);
    expect(resumed.stderr).toMatch(/Done: 6 batches/);
    // Episodes are counted across the change of batch size: 4 x 4 then 2 x 6.
    const resumedRecords = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(resumedRecords.at(-1)).toMatchObject({ kind: 'train', step: 6, episodes: 28 });
    expect(JSON.parse(readFileSync(join(out, 'checkpoint', 'manifest.json'), 'utf8')).training.episodes).toBe(28);
    // The clearing rule has no weights, so a resumed run can change it; the checkpoint then records it.
    const recleared = run(['train', '--resume', out, '--steps', '7', '--log-every', '1', '--clearing', 'all-least-used']);
    expect(recleared.code, recleared.stderr).toBe(0);
    expect(recleared.stderr).toMatch(/From step 6 the memory clears every least-used slot before writing/);
    expect(JSON.parse(readFileSync(join(out, 'checkpoint', 'manifest.json'), 'utf8')).config.clearing).toBe('all-least-used');

    const evaluation = run(['eval', '--checkpoint', join(out, 'checkpoint'), '--episodes', '8', '--batch', '4', '--json', '--knn', '--errors', '--backend', 'cpu']);
    expect(evaluation.code, evaluation.stderr).toBe(0);
    const report = JSON.parse(evaluation.stdout);
    expect(report.step).toBe(7);
    expect(report.accuracy.map((row: { instance: number }) => row.instance)).toEqual([1, 2, 3, 4, 5, 10]);
    expect(report.knn).toHaveLength(6);
    // 8 episodes of 5 classes x 3 instances (TINY): 120 steps, 40 of them a class's 1st and 40 its 2nd.
    expect(report.errors.steps).toBe(120);
    expect(report.errors.firstInstances.steps).toBe(40);
    expect(report.errors.secondInstanceByGap.reduce((sum: number, bucket: { steps: number }) => sum + bucket.steps, 0)).toBe(40);
    expect(report.set).toBe('test');
    // The kNN baseline alone, on the same settings and seed: the same episodes, so the same figures.
    const knnAlone = run(['eval', '--knn', '--shots', '3', '--episodes', '8', '--batch', '4', '--json']);
    expect(knnAlone.code, knnAlone.stderr).toBe(0);
    expect(JSON.parse(knnAlone.stdout)).toMatchObject({ ways: 5, labels: 'one-hot', shots: 3, set: 'test', knn: report.knn });
    const onValidation = run(['eval', '--checkpoint', join(out, 'checkpoint'), '--set', 'validation', '--episodes', '8', '--batch', '4', '--backend', 'cpu']);
    expect(onValidation.code, onValidation.stderr).toBe(0);
    expect(onValidation.stdout).toMatch(/after 7 training batches, 8 validation episodes \(100 characters set aside from training\) \(seed 1\)/);
    const cut = run(['eval', '--checkpoint', join(out, 'checkpoint'), '--episodes', '8', '--batch', '4', '--json', '--cut-reads', '--backend', 'cpu']);
    expect(cut.code, cut.stderr).toBe(0);
    expect(JSON.parse(cut.stdout)).toMatchObject({ cutReads: true, step: 7 });

    const plotted = run(['plot', '--metrics', join(out, 'metrics.jsonl')]);
    expect(plotted.code, plotted.stderr).toBe(0);
    expect(readFileSync(join(out, 'learning-curve.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  }, 180_000);

  it.skipIf(!OMNIGLOT_DIR)('saves a checkpoint on Ctrl-C and exits 130', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mann-cli-')), 'run');
    const child = spawn(process.execPath, [CLI, 'train', '--steps', '100000', '--log-every', '1', '--out', out, ...TINY], { env: process.env });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // Interrupt once training has written its first metrics.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (existsSync(join(out, 'metrics.jsonl'))) {
          clearInterval(timer);
          child.kill('SIGINT');
          resolve();
        }
      }, 100);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error(`exited before training started: ${stderr}`));
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(130);
    const stopped = /Stopped at step (\d+); checkpoint saved/.exec(stderr);
    expect(stopped, stderr).not.toBeNull();
    const manifest = JSON.parse(readFileSync(join(out, 'checkpoint', 'manifest.json'), 'utf8'));
    expect(manifest.training.step).toBe(Number(stopped![1]));
  }, 120_000);
});
