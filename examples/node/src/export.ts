import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@mann/backend';
import { loadCheckpoint, saveCheckpoint } from '@mann/model/node';
import { UsageError, parse } from './args';

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
  await useBackend('cpu');
  const source = resolve(values.checkpoint);
  const out = resolve(values.out);
  const { model, training, optimizerState } = await loadCheckpoint(source);
  tf.dispose(Object.values(optimizerState));
  const { optimizer, ...rest } = training;
  await mkdir(out, { recursive: true });
  // The optimiser's name and settings stay (they describe the recipe); its state does not.
  await saveCheckpoint(out, model, { ...rest, optimizer });
  model.dispose();
  const metrics = join(dirname(source), 'metrics.jsonl');
  if (existsSync(metrics)) await copyFile(metrics, join(out, 'metrics.jsonl'));
  console.error(`Exported ${source} (step ${training.step}) to ${out}${existsSync(metrics) ? ', with its metrics.jsonl' : ''}.`);
}
