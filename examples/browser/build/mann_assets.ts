import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Plugin, ResolvedConfig } from 'vite';
import { DEFAULT_IMAGE_SIZE } from '@mann/omniglot';
import { chooseHeldOut, encodeHeldOut, MissingOmniglot, verifyHeldOut, type EncodedHeldOut, type TrainingSplit } from './held_out';
import { HELD_OUT_DIR, HELD_OUT_FORMAT, TRAINING_DIR, type HeldOutIndex } from '../src/held_out_files';

/** A set of characters built into per-character files (src/held_out_files.ts) beside an index. */
export interface CharacterFiles {
  /** URL path of the index, `<folder>/index-<sha16>.json`; the character files are beside it. */
  index: string;
  /** SHA-256 (hex) of the index, checked by the page. */
  sha256: string;
  /** Number of characters, their image side, and all their files' bytes together. */
  characters: number;
  imageSize: number;
  totalBytes: number;
  /** Which characters they are (for the held-out ones: why the model never trained on them). */
  description: string;
}

/** What the page is told about the data and checkpoint this build carries (`virtual:mann-assets`). */
export interface MannAssets {
  /** URL paths (relative to the page) of the checkpoint's manifest, or null when the build has none. */
  checkpoint: { manifest: string; source: string } | null;
  /** The held-out characters (in `held-out/`), or null when the build has none. */
  heldOut: CharacterFiles | null;
  /**
   * The training characters of the Train mode (in `train-characters/`), fetched only when Train is opened; null
   * when the build has none (no OMNIGLOT_DIR, or no images_background.zip). `split` is the split they come from,
   * recorded in checkpoints trained on them (so `mann eval` rebuilds the same sets).
   */
  training: (CharacterFiles & { split: { kind: 'paper'; seed: number } | { kind: 'official' } }) | null;
  /** Why something is missing, for the page to show (those about the characters mention OMNIGLOT_DIR). */
  problems: string[];
}

/** A checkpoint folder found and checked: manifest + weights file. */
interface FoundCheckpoint {
  dir: string;
  weightsFile: string;
  imageSize: number;
  split: TrainingSplit;
  bytes: number;
}

interface Resolved {
  assets: MannAssets;
  /** URL path -> file on disk (the checkpoint), served in dev and copied into the build output. */
  files: Map<string, string>;
  /** URL path -> bytes (the held-out characters), served in dev and written into the build output. */
  generated: Map<string, Uint8Array>;
}

const DEFAULT_CHECKPOINT = '../../checkpoints/omniglot-mann';
const FRESH_MODEL =
  'the page uses a freshly initialised, untrained model. Set MANN_CHECKPOINT to a folder written by `mann train` to ship one.';

/** What the page is told about characters encoded into `folder`. */
function characterFiles(folder: string, encoded: EncodedHeldOut, imageSize: number, description: string): CharacterFiles {
  return {
    index: `${folder}/${encoded.indexFile}`,
    sha256: encoded.indexSha256,
    characters: encoded.index.characters.length,
    imageSize,
    totalBytes: encoded.index.totalBytes,
    description,
  };
}

/** One line, no stack: what Vite prints when the build or the dev server refuses to start. */
function fatal(message: string): Error {
  const error = new Error(message);
  error.stack = message;
  return error;
}

/** The folder npm was invoked from (npm sets INIT_CWD for scripts; `npm run -w` runs them in the package). */
export function invocationDir(): string {
  return process.env.INIT_CWD || process.cwd();
}

function fnv1a32(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/**
 * Finds and checks the checkpoint: `MANN_CHECKPOINT` (resolved against the folder npm was run from) or, unset,
 * `../../checkpoints/omniglot-mann` from the example. A MANN_CHECKPOINT that is missing or broken throws one line
 * naming the path and the fix (so does a broken default); only a missing default gives null (fresh model).
 */
export function findCheckpoint(root: string, environment: NodeJS.ProcessEnv = process.env, from = invocationDir()): { checkpoint: FoundCheckpoint | null; problem?: string } {
  const given = environment.MANN_CHECKPOINT;
  const path = given ? resolve(from, given) : resolve(root, DEFAULT_CHECKPOINT);
  const named = given ? `MANN_CHECKPOINT=${given} (${path})` : `The default checkpoint ${path}`;
  const fix = given
    ? 'set MANN_CHECKPOINT to a checkpoint folder written by `mann train` (a relative path is taken from the folder you ran npm from), or unset it'
    : 'restore it (it ships with the repository) or set MANN_CHECKPOINT to another checkpoint folder';
  const broken = (what: string) => fatal(`[mann-assets] ${named}: ${what}; ${fix}.`);
  if (!existsSync(path)) {
    if (!given) return { checkpoint: null, problem: `No trained checkpoint at ${path}, so ${FRESH_MODEL}` };
    throw broken('does not exist');
  }
  const dir = statSync(path).isFile() && basename(path) === 'manifest.json' ? dirname(path) : path;
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw broken('has no manifest.json');
  let manifest: {
    format?: unknown;
    config?: { imageSize?: unknown };
    training?: { run?: { split?: unknown; splitSeed?: unknown } };
    weightsManifest?: { paths?: unknown[] }[];
    weightsChecksum?: { bytes?: unknown; fnv1a32?: unknown };
  };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw broken(`manifest.json is not valid JSON (${(error as Error).message})`);
  }
  if (manifest?.format !== 'mann-checkpoint') throw broken(`manifest.json is not a mann checkpoint (format ${JSON.stringify(manifest?.format)})`);
  const weightsFile = manifest.weightsManifest?.[0]?.paths?.[0];
  if (typeof weightsFile !== 'string' || basename(weightsFile) !== weightsFile) {
    throw broken(`manifest.json names no weights file in its folder (${JSON.stringify(weightsFile)})`);
  }
  const weightsPath = join(dir, weightsFile);
  if (!existsSync(weightsPath)) throw broken(`the weights file ${weightsFile} named by manifest.json is missing`);
  const weights = readFileSync(weightsPath);
  const checksum = manifest.weightsChecksum;
  if (typeof checksum?.bytes === 'number' && checksum.bytes !== weights.length) {
    throw broken(`${weightsFile} has ${weights.length} bytes, the manifest says ${checksum.bytes} (truncated, or a Git LFS pointer?)`);
  }
  if (typeof checksum?.fnv1a32 === 'string' && checksum.fnv1a32 !== fnv1a32(weights)) {
    throw broken(`${weightsFile} fails its checksum (fnv1a32 ${fnv1a32(weights)}, the manifest says ${checksum.fnv1a32})`);
  }
  const imageSize = manifest.config?.imageSize ?? DEFAULT_IMAGE_SIZE;
  if (!Number.isInteger(imageSize) || (imageSize as number) < 1 || (imageSize as number) > 105) {
    throw broken(`config.imageSize ${JSON.stringify(imageSize)} is not an integer in [1, 105]`);
  }
  const run = manifest.training?.run;
  const split: TrainingSplit =
    !run || typeof run.split !== 'string'
      ? { kind: 'unknown' }
      : run.split === 'paper'
        ? { kind: 'paper', seed: typeof run.splitSeed === 'number' ? run.splitSeed : 0 }
        : run.split === 'official'
          ? { kind: 'official' }
          : { kind: 'unknown' };
  return { checkpoint: { dir, weightsFile, imageSize: imageSize as number, split, bytes: weights.length } };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

/**
 * Finds the checkpoint and prepares the held-out characters from `OMNIGLOT_DIR`. Nothing is bundled or committed:
 * the checkpoint is served as it is in dev and copied next to the page by `vite build`, the characters are made in
 * memory (from `@mann/omniglot`'s decoded cache, outside the repository) and written into dist/ (gitignored).
 */
async function resolveAssets(root: string, log: (line: string) => void, warn: (line: string) => void): Promise<Resolved> {
  const files = new Map<string, string>();
  const generated = new Map<string, Uint8Array>();
  const problems: string[] = [];
  const found = findCheckpoint(root);
  if (found.problem) problems.push(found.problem);
  let checkpoint: MannAssets['checkpoint'] = null;
  if (found.checkpoint) {
    const { dir, weightsFile, bytes } = found.checkpoint;
    files.set('checkpoint/manifest.json', join(dir, 'manifest.json'));
    files.set(`checkpoint/${weightsFile}`, join(dir, weightsFile));
    checkpoint = { manifest: 'checkpoint/manifest.json', source: dir };
    log(`[mann-assets] checkpoint: ${dir} (manifest.json + ${weightsFile}, ${megabytes(bytes)})`);
  }
  let heldOut: MannAssets['heldOut'] = null;
  let training: MannAssets['training'] = null;
  const omniglotDir = process.env.OMNIGLOT_DIR;
  if (!omniglotDir) {
    problems.push(
      'OMNIGLOT_DIR is not set, so this build has no Omniglot characters: rebuild with OMNIGLOT_DIR=<folder with ' +
        'images_evaluation.zip> to play episodes (the teach-it mode works without it).',
    );
  } else {
    const started = performance.now();
    const imageSize = found.checkpoint?.imageSize ?? DEFAULT_IMAGE_SIZE;
    const split = found.checkpoint?.split ?? { kind: 'none' };
    try {
      const chosen = await chooseHeldOut(resolve(invocationDir(), omniglotDir), imageSize, split, undefined, (line) => warn(`[mann-assets] ${line}`));
      const encoded: EncodedHeldOut = encodeHeldOut(chosen.characters, imageSize, chosen.description, chosen.indexSplit, chosen.source);
      await verifyHeldOut(encoded, chosen.characters);
      for (const [name, bytes] of encoded.files) generated.set(`${HELD_OUT_DIR}/${name}`, bytes);
      const indexBytes = encoded.files.get(encoded.indexFile)!.length;
      heldOut = characterFiles(HELD_OUT_DIR, encoded, imageSize, encoded.index.description);
      log(
        `[mann-assets] held-out characters: ${chosen.description}; ${imageSize}x${imageSize}, from ${chosen.source}; ` +
          `${encoded.index.characters.length} files of ${megabytes(encoded.index.totalBytes)} gzipped ` +
          `(${megabytes(encoded.index.pixelBytes)} of pixels, every float checked) + index ${(indexBytes / 1e3).toFixed(1)} kB, ` +
          `prepared in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      if (chosen.training) {
        const trainingStarted = performance.now();
        const { characters, description, indexSplit } = chosen.training;
        const trained = encodeHeldOut(characters, imageSize, description, indexSplit, chosen.source);
        await verifyHeldOut(trained, characters, TRAINING_DIR);
        for (const [name, bytes] of trained.files) generated.set(`${TRAINING_DIR}/${name}`, bytes);
        training = {
          ...characterFiles(TRAINING_DIR, trained, imageSize, description),
          split: indexSplit.kind === 'paper-train' ? { kind: 'paper', seed: indexSplit.seed } : { kind: 'official' },
        };
        log(
          `[mann-assets] training characters (Train mode): ${description}; ${trained.index.characters.length} files of ` +
            `${megabytes(trained.index.totalBytes)} gzipped, every float checked, prepared in ${((performance.now() - trainingStarted) / 1000).toFixed(1)} s`,
        );
      } else {
        // Not worded with the variable's name: the page shows those problems as errors at start-up; this one only in Train.
        problems.push(`The Omniglot folder has no images_background.zip, so this build has no training characters: the Train mode is off.`);
      }
    } catch (error) {
      if (!(error instanceof MissingOmniglot)) {
        const message = (error as Error).message;
        throw fatal(message.startsWith('[mann-assets]') ? message : `[mann-assets] OMNIGLOT_DIR=${omniglotDir}: ${message}`);
      }
      problems.push(error.message);
    }
  }
  return { assets: { checkpoint, heldOut, training, problems }, files, generated };
}

/** In `vite preview`: what the build in `outDir` carries, for the log (preview serves it as it is). */
function describeBuild(outDir: string): string {
  const folder = join(outDir, HELD_OUT_DIR);
  const indexFile = existsSync(folder) ? readdirSync(folder).find((name) => /^index-[0-9a-f]+\.json$/.test(name)) : undefined;
  const checkpoint = existsSync(join(outDir, 'checkpoint', 'manifest.json')) ? 'a checkpoint' : 'no checkpoint (fresh model)';
  if (!indexFile) return `[mann-assets] preview of ${outDir}: ${checkpoint}, no held-out characters (built without OMNIGLOT_DIR)`;
  try {
    const index = JSON.parse(readFileSync(join(folder, indexFile), 'utf8')) as HeldOutIndex;
    if (index.format !== HELD_OUT_FORMAT) throw new Error('not an index');
    return `[mann-assets] preview of ${outDir}: ${checkpoint}, ${index.description} (${megabytes(index.totalBytes)} in ${index.characters.length} files)`;
  } catch {
    return `[mann-assets] preview of ${outDir}: ${checkpoint}, an unreadable ${HELD_OUT_DIR}/${indexFile}`;
  }
}

const VIRTUAL_ID = 'virtual:mann-assets';

const CONTENT_TYPES: Record<string, string> = { '.json': 'application/json', '.bin': 'application/octet-stream' };

function contentType(path: string): string {
  return CONTENT_TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';
}

/**
 * Vite plugin: exposes `virtual:mann-assets`; serves the checkpoint and the held-out characters in dev and writes
 * them into dist/ on build. In `vite preview` it does nothing but say what the build holds (dist/ is served as is).
 */
export function mannAssets(): Plugin {
  let resolved: Resolved;
  let preview = false;
  let config: ResolvedConfig;
  return {
    name: 'mann-assets',
    config(_, env) {
      preview = env.isPreview === true;
    },
    async configResolved(resolvedConfig) {
      config = resolvedConfig;
      const outDir = resolve(config.root, config.build.outDir);
      const log = config.logger;
      if (preview) {
        log.info(describeBuild(outDir));
        resolved = { assets: { checkpoint: null, heldOut: null, training: null, problems: [] }, files: new Map(), generated: new Map() };
        return;
      }
      resolved = await resolveAssets(config.root, (line) => log.info(line), (line) => log.warn(line));
      for (const problem of resolved.assets.problems) log.warn(`\n[mann-assets] ${problem}\n`);
    },
    resolveId(id) {
      return id === VIRTUAL_ID ? `\0${VIRTUAL_ID}` : undefined;
    },
    load(id) {
      return id === `\0${VIRTUAL_ID}` ? `export const assets = ${JSON.stringify(resolved.assets)};` : undefined;
    },
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = decodeURIComponent((request.url ?? '').split('?')[0]).replace(/^\/+/, '');
        const bytes = resolved.generated.get(path);
        const file = resolved.files.get(path);
        if (!bytes && !file) return next();
        response.setHeader('Content-Type', contentType(path));
        response.setHeader('Cache-Control', 'no-cache');
        if (bytes) {
          response.setHeader('Content-Length', String(bytes.length));
          response.end(bytes);
        } else {
          response.setHeader('Content-Length', String(statSync(file!).size));
          createReadStream(file!).pipe(response);
        }
      });
    },
    async writeBundle() {
      if (preview) return;
      const outDir = resolve(config.root, config.build.outDir);
      for (const [url, path] of resolved.files) {
        const target = join(outDir, url);
        await mkdir(dirname(target), { recursive: true });
        await copyFile(path, target);
      }
      // The indexes last: a build interrupted half-way has no index, which the page reports, rather than a short one.
      const generated = [...resolved.generated].sort(([a], [b]) => Number(a.includes('/index-')) - Number(b.includes('/index-')));
      let bytes = 0;
      for (const [url, data] of generated) {
        const target = join(outDir, url);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, data);
        bytes += data.length;
      }
      if (generated.length > 0) {
        const folders = [HELD_OUT_DIR, ...(resolved.assets.training ? [TRAINING_DIR] : [])].map((folder) => `${relative(config.root, join(outDir, folder))}/`);
        config.logger.info(`[mann-assets] wrote ${generated.length} files (${megabytes(bytes)}) into ${folders.join(' and ')}`);
      }
    },
  };
}
