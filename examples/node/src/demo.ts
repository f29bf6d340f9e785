import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { useBackend } from '@mann/backend';
import { loadCheckpoint } from '@mann/model/node';
import { CHECKPOINT_ERRORS, UsageError, choice, integer, parse, userFiles } from './args';
import { loadTask } from './data';
import { evaluateCheckpoint } from './eval';
import { showEpisode } from './episode_view';
import { train } from './train';
import type { RunOptions } from './train';

/** The trained model shipped in the repository (see the README), if there is one. */
export const SHIPPED_CHECKPOINT = fileURLToPath(new URL('../../../checkpoints/omniglot-mann/', import.meta.url));

export const DEMO_HELP = `mann demo [options]: the main job. With the trained model shipped in checkpoints/omniglot-mann, evaluate it on
held-out Omniglot episodes and play one episode step by step; without one, train a small MANN for a few minutes.

  --checkpoint DIR     another checkpoint folder (default: the shipped one)
  --episodes N         held-out episodes to evaluate (320)
  --seed N             seed of the episodes (1)
  --backend wasm|cpu   tfjs backend (wasm)
  --data DIR           folder with the Omniglot zips (else $OMNIGLOT_DIR, else ~/.cache/mann/omniglot)`;

export async function demo(argv: string[]): Promise<void> {
  const { values } = parse('demo', argv, {
    checkpoint: { type: 'string' },
    episodes: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    data: { type: 'string' },
  });
  if (values.help) {
    console.log(DEMO_HELP);
    return;
  }
  const backend = choice('backend', values.backend, ['wasm', 'cpu'] as const, 'wasm');
  // A folder the user names must hold a checkpoint; only without --checkpoint is a missing model a reason to train.
  if (values.checkpoint !== undefined && !existsSync(join(values.checkpoint, 'manifest.json'))) {
    throw new UsageError(
      `no checkpoint at ${resolve(values.checkpoint)} (${existsSync(values.checkpoint) ? 'it has no manifest.json' : 'no such folder'}). ` +
        'Name a checkpoint folder (e.g. runs/<run>/checkpoint), or leave out --checkpoint for the shipped model.',
    );
  }
  let checkpoint = values.checkpoint ?? SHIPPED_CHECKPOINT;
  // Without a shipped model, the small model a previous demo trained, if there is one.
  if (values.checkpoint === undefined && !existsSync(join(checkpoint, 'manifest.json')) && existsSync(join('runs', 'demo', 'checkpoint', 'manifest.json'))) {
    checkpoint = resolve('runs', 'demo', 'checkpoint');
    console.error(`No shipped model at ${SHIPPED_CHECKPOINT}: using the one an earlier demo trained, ${checkpoint}.`);
  }
  if (!existsSync(join(checkpoint, 'manifest.json'))) {
    console.error(`No trained model at ${checkpoint}: training a small MANN on Omniglot for a few minutes instead.`);
    // runs/demo may hold a demo run stopped before its first checkpoint: that one is started again.
    const args = ['--steps', '400', '--units', '64', '--slots', '64', '--width', '20', '--heads', '2', '--shots', '5', '--eval-every', '400', '--eval-episodes', '160', '--log-every', '20', '--out', 'runs/demo', '--overwrite', '--backend', backend];
    if (values.data) args.push('--data', values.data);
    await train(args);
    return;
  }
  const seed = integer('seed', values.seed, 1, 0);
  await evaluateCheckpoint({ checkpoint, episodes: integer('episodes', values.episodes, 320), batch: 16, seed, knn: false, json: false, backend, data: values.data });
  await useBackend(backend);
  const { model, training } = await userFiles(() => loadCheckpoint(checkpoint), CHECKPOINT_ERRORS);
  const run = training.run as Partial<RunOptions> | undefined;
  const task = await loadTask({ dir: values.data ?? run?.data, imageSize: model.config.imageSize, split: run?.split ?? 'paper', splitSeed: run?.splitSeed ?? 0, augment: false });
  console.log('');
  showEpisode(model, task.test, { seed: seed + 1000, shots: run?.shots ?? 10, print: (line) => console.log(line) });
  model.dispose();
}
