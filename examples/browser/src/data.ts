import { assets as builtAssets } from 'virtual:mann-assets';
import type { MannAssets } from '../build/mann_assets';
import { restoreCheckpoint, type CheckpointManifest } from '@mann/model';
import { openHeldOut, type HeldOut, type OpenHeldOutOptions } from './held_out';

export type { EpisodeOptions, HeldOut } from './held_out';

/** The checkpoint and held-out characters this build carries (see build/mann_assets.ts). */
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

/**
 * Opens the characters the model never trained on, as the build chose them (build/held_out.ts): for a checkpoint
 * trained on the paper's split (1200 of all 1623 characters, the `mann train` default), its 423 test characters,
 * rebuilt from both archives with the split seed it recorded; otherwise the authors' evaluation archive (659
 * characters in 20 alphabets the background set does not have). Only the index (a few dozen kB) is fetched here;
 * `heldOut.sampleEpisode(...)` fetches the few characters each episode shows, and the rest follow in the
 * background after the first episode.
 *
 * ```ts
 * const heldOut = await loadHeldOut(model.config.imageSize, (text) => setStatus('loading', text));
 * const batch = await heldOut.sampleEpisode({ ways: 5, shots: 10, seed: 3, labels });
 * ```
 */
export async function loadHeldOut(
  imageSize: number,
  onProgress: (text: string) => void,
  options: Omit<OpenHeldOutOptions, 'onProgress'> = {},
): Promise<HeldOut> {
  const heldOut = assets.heldOut;
  if (!heldOut) throw new Error(assets.problems.find((p) => p.includes('OMNIGLOT_DIR')) ?? 'This build has no Omniglot characters.');
  return openHeldOut({ indexUrl: url(heldOut.index), indexSha256: heldOut.sha256, imageSize }, { ...options, onProgress });
}
