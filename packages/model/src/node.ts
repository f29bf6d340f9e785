/**
 * The Node-only part of `@mann/model`: checkpoints saved to and loaded from folders, and {@link ParallelTrainer},
 * which trains on worker threads.
 *
 * @module @mann/model/node
 */
export { ParallelTrainer } from './parallel_trainer';
export type { ParallelTrainerOptions } from './parallel_trainer';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Optimizer } from './optimizers';
import type { MemoryAugmentedNetwork } from './model';
import {
  CHECKPOINT_FORMAT,
  checkConfigChecksum,
  CHECKPOINT_VERSION,
  restoreCheckpoint,
  serializeCheckpoint,
  type CheckpointManifest,
  type CheckpointParts,
  type RestoredCheckpoint,
  type TrainingState,
} from './checkpoint';

/** The manifest's file name inside a checkpoint folder. */
export const MANIFEST_FILE = 'manifest.json';

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Saves a checkpoint into the folder `dir`: `manifest.json` and a weights file it names (tfjs's convention).
 * The weights go to a new file first, then the manifest is replaced atomically (temp file + rename), and only
 * then are older weights files removed: a crash at any moment leaves a complete checkpoint, old or new.
 */
export async function saveCheckpoint(dir: string, model: MemoryAugmentedNetwork, training: TrainingState, optimizer?: Optimizer): Promise<void> {
  const weightsFile = `weights-${String(training.step).padStart(8, '0')}-${randomBytes(3).toString('hex')}.bin`;
  const { manifest, weights } = await serializeCheckpoint(model, training, optimizer, weightsFile);
  await mkdir(dir, { recursive: true });
  await writeAtomically(join(dir, weightsFile), weights);
  await writeAtomically(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
  for (const name of await readdir(dir)) {
    if (name !== weightsFile && /^weights.*\.bin$/.test(name)) await rm(join(dir, name), { force: true });
  }
}

/**
 * Reads only a checkpoint's manifest (configuration and training state), creating no tensors: for deciding how to
 * resume before a backend is chosen. Checks the format, the version and the config's checksum.
 */
export async function readCheckpointManifest(dir: string): Promise<CheckpointManifest> {
  const manifest = await readManifest(dir);
  const m = manifest as Partial<CheckpointManifest> | null;
  if (!m || m.format !== CHECKPOINT_FORMAT) throw new Error(`Checkpoint ${dir}: not a mann checkpoint (the manifest has no "format": "${CHECKPOINT_FORMAT}").`);
  if (m.version !== CHECKPOINT_VERSION) {
    throw new Error(`Checkpoint ${dir}: checkpoint format version ${m.version} is not supported by this @mann/model (it reads version ${CHECKPOINT_VERSION}).`);
  }
  // The config decides how to resume: refuse an edited one here, before a run is set up from it.
  if (m.config) checkConfigChecksum(m as CheckpointManifest, `Checkpoint ${dir}`);
  return m as CheckpointManifest;
}

async function readManifest(dir: string): Promise<{ weightsManifest?: { paths?: string[] }[] }> {
  const manifestPath = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read the checkpoint in ${dir}: ${(error as Error).message}. A checkpoint folder holds ${MANIFEST_FILE} and the weights file it names.`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Checkpoint ${manifestPath} is not valid JSON (${(error as Error).message}); the file is damaged.`, { cause: error });
  }
}

/**
 * Loads a checkpoint folder written by `saveCheckpoint`; errors name the folder and what is wrong with it. A model
 * with a custom part needs that part's factory in `parts` (`{ controller: yourFactory }`).
 */
export async function loadCheckpoint(dir: string, parts: CheckpointParts = {}): Promise<RestoredCheckpoint> {
  const manifest = await readManifest(dir);
  const weightsFile = manifest?.weightsManifest?.[0]?.paths?.[0];
  if (typeof weightsFile !== 'string' || basename(weightsFile) !== weightsFile) {
    // Let restoreCheckpoint report the precise format problem; a path outside the folder is never read.
    return restoreCheckpoint(manifest, new Uint8Array(0), `Checkpoint ${dir}`, parts);
  }
  let weights: Uint8Array;
  try {
    weights = new Uint8Array(await readFile(join(dir, weightsFile)));
  } catch (error) {
    throw new Error(`Checkpoint ${dir}: cannot read its weights file ${weightsFile} (${(error as Error).message}).`, { cause: error });
  }
  return restoreCheckpoint(manifest, weights, `Checkpoint ${dir}`, parts);
}
