import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@mann/backend';
import { loadCheckpoint, saveCheckpoint } from '@mann/model/node';
import { CHECKPOINT_ERRORS, UsageError, parse, userFiles } from './args';

export const EXPORT_HELP = `mann export --checkpoint DIR --out DIR: a checkpoint for shipping

Copies a training checkpoint without its optimiser state (about a third of the size), keeping the configuration,
step and run options, and copies the run's metrics.jsonl (the training log) beside it when there is one.

  --checkpoint DIR   a checkpoint folder written by mann train (e.g. runs/<run>/checkpoint)
  --out DIR          where to write the exported checkpoint (e.g. checkpoints/omniglot-mann)`;

export async function exportCheckpoint(argv: string[]): Promise<void> {
  const { values } = parse('export', argv, { checkpoint: { type: 'string' }, out: { type: 'string' } });
  if (values.help) {
    console.log(EXPORT_HELP);
    return;
  }
  if (!values.checkpoint || !values.out) throw new UsageError('mann export needs --checkpoint DIR and --out DIR. See `mann export --help`.');
  const source = resolve(values.checkpoint);
  const out = resolve(values.out);
  // Writing over the checkpoint being read would delete its optimiser state in place: compared as real paths,
  // so that a symlink, `..` or a trailing slash does not hide it.
  if (existsSync(out) && existsSync(source) && realpathSync(out) === realpathSync(source)) {
    throw new UsageError(`--out is the checkpoint being exported (${source}); name another folder, e.g. checkpoints/<name>.`);
  }
  await useBackend('cpu');
  const { model, training, optimizerState } = await userFiles(() => loadCheckpoint(source), CHECKPOINT_ERRORS);
  tf.dispose(Object.values(optimizerState));
  const { optimizer, ...rest } = training;
  await mkdir(out, { recursive: true });
  // The optimiser's name and settings stay (they describe the recipe); its state does not.
  await saveCheckpoint(out, model, { ...rest, optimizer });
  model.dispose();
  const metrics = join(dirname(source), 'metrics.jsonl');
  const copyMetrics = existsSync(metrics) && !(existsSync(join(out, 'metrics.jsonl')) && realpathSync(join(out, 'metrics.jsonl')) === realpathSync(metrics));
  if (copyMetrics) await copyFile(metrics, join(out, 'metrics.jsonl'));
  console.error(`Exported ${source} (step ${training.step}) to ${out}${copyMetrics ? ', with its metrics.jsonl' : ''}.`);
}
