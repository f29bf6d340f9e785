import { assets as builtAssets } from 'virtual:mann-assets';
import type { MannAssets } from '../build/mann_assets';
import { restoreCheckpoint, type CheckpointManifest } from '@mann/model';
import { OmniglotDataset, paperSplit, type OmniglotSet } from '@mann/omniglot';
import type { DecodeMessage, DecodeRequest } from './omniglot_worker';

/** The checkpoint and Omniglot files this build carries (see build/mann_assets.ts). */
export const assets = builtAssets as MannAssets;

/** A checkpoint's files, fetched once and restored again on every backend change. */
export interface CheckpointFiles {
  manifest: CheckpointManifest;
  weights: Uint8Array;
}

function url(path: string): string {
  return new URL(path, document.baseURI).href;
}

/** Fetches the checkpoint this build carries, or returns null when it has none. Errors say which file failed. */
export async function fetchCheckpoint(): Promise<CheckpointFiles | null> {
  if (!assets.checkpoint) return null;
  const manifestResponse = await fetch(url(assets.checkpoint.manifest));
  if (!manifestResponse.ok) throw new Error(`Fetching ${assets.checkpoint.manifest} failed: HTTP ${manifestResponse.status}.`);
  const manifest = (await manifestResponse.json()) as CheckpointManifest;
  const weightsPath = new URL(manifest.weightsManifest[0].paths[0], url(assets.checkpoint.manifest)).href;
  const weightsResponse = await fetch(weightsPath);
  if (!weightsResponse.ok) throw new Error(`Fetching ${weightsPath} failed: HTTP ${weightsResponse.status}.`);
  const weights = new Uint8Array(await weightsResponse.arrayBuffer());
  // Validate now (format, version, checksum), so a damaged file is reported once, at load.
  restoreCheckpoint(manifest, weights, 'checkpoint').model.dispose();
  return { manifest, weights };
}

/** How the checkpoint was trained: the `mann train` options it recorded (split and split seed), if any. */
function trainingSplit(checkpoint: CheckpointFiles | null): { split: string; seed: number } | null {
  const run = checkpoint?.manifest.training.run as { split?: unknown; splitSeed?: unknown } | undefined;
  if (!run || typeof run.split !== 'string') return null;
  return { split: run.split, seed: typeof run.splitSeed === 'number' ? run.splitSeed : 0 };
}

export interface HeldOut {
  dataset: OmniglotDataset;
  /** Which characters these are and why they were never trained on. */
  description: string;
}

/**
 * Loads characters the model never trained on. A checkpoint trained on the paper's split (1200 of all 1623
 * characters, the `mann train` default) has seen some of the evaluation archive, so its 423 test characters are
 * rebuilt from both archives with the same seed; otherwise the authors' evaluation archive (659 characters in 20
 * alphabets the background set does not have) is held out as a whole.
 */
export async function loadHeldOut(imageSize: number, checkpoint: CheckpointFiles | null, onProgress: (text: string) => void): Promise<HeldOut> {
  const evaluation = assets.omniglot['images_evaluation.zip'];
  if (!evaluation) throw new Error(assets.problems.find((p) => p.includes('OMNIGLOT_DIR')) ?? 'This build has no Omniglot data.');
  const split = trainingSplit(checkpoint);
  const background = assets.omniglot['images_background.zip'];
  if (split?.split === 'paper' && !background) {
    throw new Error(
      "The checkpoint was trained on the paper's split, whose held-out characters come from both archives, but this build has no images_background.zip.",
    );
  }
  const urls = split?.split === 'paper' ? [url(background!), url(evaluation)] : [url(evaluation)];
  const sets = await decodeInWorker({ urls, imageSize }, onProgress);
  if (split?.split === 'paper') {
    const { test } = paperSplit(sets[0], sets[1], { seed: split.seed });
    return {
      dataset: new OmniglotDataset(test),
      description: `${test.length} held-out characters of the paper's split (seed ${split.seed}), which this checkpoint never trained on`,
    };
  }
  const why = !checkpoint
    ? 'in 20 alphabets of their own'
    : split?.split === 'official'
      ? 'in 20 alphabets this checkpoint, trained on the official split, never saw'
      : 'assumed held out: the checkpoint does not record its split';
  return {
    dataset: new OmniglotDataset(sets[0].characters),
    description: `the ${sets[0].characters.length} characters of the evaluation archive (${why})`,
  };
}

function decodeInWorker(request: DecodeRequest, onProgress: (text: string) => void): Promise<OmniglotSet[]> {
  const worker = new Worker(new URL('./omniglot_worker.ts', import.meta.url), { type: 'module' });
  return new Promise<OmniglotSet[]>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<DecodeMessage>) => {
      const message = event.data;
      if (message.kind === 'progress') onProgress(message.text);
      else {
        worker.terminate();
        if (message.kind === 'done') resolve(message.sets);
        else reject(new Error(message.message));
      }
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(`The Omniglot decoder failed: ${event.message}`));
    };
    worker.postMessage(request);
  }).finally(() => worker.terminate());
}
