import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Plugin } from 'vite';

/** The Omniglot archives the page can use, by the URL path it fetches them from. */
const OMNIGLOT_FILES = ['images_evaluation.zip', 'images_background.zip'] as const;

/** What the page is told about the data and checkpoint this build carries (`virtual:mann-assets`). */
export interface MannAssets {
  /** URL paths (relative to the page) of the checkpoint's manifest, or null when the build has none. */
  checkpoint: { manifest: string; source: string } | null;
  /** URL paths of the Omniglot zips found, by file name. */
  omniglot: Partial<Record<(typeof OMNIGLOT_FILES)[number], string>>;
  /** Why something is missing, for the page to show. */
  problems: string[];
}

interface Resolved {
  assets: MannAssets;
  /** URL path -> file on disk, served in dev and copied into the build output. */
  files: Map<string, string>;
}

/**
 * Finds the checkpoint (env `MANN_CHECKPOINT`, default `../../checkpoints/omniglot-mann` from the example) and the
 * Omniglot zips (env `OMNIGLOT_DIR`). Nothing is bundled or committed: the files are served as they are in dev and
 * copied next to the page by `vite build` (dist/ is gitignored).
 */
function resolveAssets(root: string): Resolved {
  const files = new Map<string, string>();
  const problems: string[] = [];
  let checkpoint: MannAssets['checkpoint'] = null;
  const checkpointDir = resolve(root, process.env.MANN_CHECKPOINT || '../../checkpoints/omniglot-mann');
  const manifestPath = join(checkpointDir, 'manifest.json');
  if (existsSync(manifestPath)) {
    let weightsFile: unknown;
    try {
      weightsFile = JSON.parse(readFileSync(manifestPath, 'utf8'))?.weightsManifest?.[0]?.paths?.[0];
    } catch (error) {
      problems.push(`The checkpoint manifest ${manifestPath} is not valid JSON (${(error as Error).message}).`);
    }
    if (typeof weightsFile === 'string' && basename(weightsFile) === weightsFile && existsSync(join(checkpointDir, weightsFile))) {
      files.set('checkpoint/manifest.json', manifestPath);
      files.set(`checkpoint/${weightsFile}`, join(checkpointDir, weightsFile));
      checkpoint = { manifest: 'checkpoint/manifest.json', source: checkpointDir };
    } else if (weightsFile !== undefined) {
      problems.push(`The checkpoint in ${checkpointDir} names a weights file '${String(weightsFile)}' that is not in the folder.`);
    }
  } else {
    problems.push(
      `No trained checkpoint at ${checkpointDir} (set MANN_CHECKPOINT to a folder written by \`mann train\`); ` +
        'the page uses a freshly initialised, untrained model.',
    );
  }
  const omniglot: MannAssets['omniglot'] = {};
  const omniglotDir = process.env.OMNIGLOT_DIR;
  if (!omniglotDir) {
    problems.push(
      'OMNIGLOT_DIR is not set, so this build has no Omniglot characters: rebuild with OMNIGLOT_DIR=<folder with ' +
        'images_evaluation.zip> to play episodes (the teach-it mode works without it).',
    );
  } else {
    for (const name of OMNIGLOT_FILES) {
      const path = resolve(omniglotDir, name);
      if (existsSync(path) && statSync(path).isFile()) {
        files.set(`omniglot/${name}`, path);
        omniglot[name] = `omniglot/${name}`;
      }
    }
    if (!omniglot['images_evaluation.zip']) {
      problems.push(`OMNIGLOT_DIR=${omniglotDir} has no images_evaluation.zip (the authors' held-out characters); episodes cannot be played.`);
    }
  }
  return { assets: { checkpoint, omniglot, problems }, files };
}

const VIRTUAL_ID = 'virtual:mann-assets';

/** Vite plugin: exposes `virtual:mann-assets`, serves the checkpoint and Omniglot zips in dev, copies them on build. */
export function mannAssets(): Plugin {
  let resolved: Resolved;
  let outDir = 'dist';
  return {
    name: 'mann-assets',
    configResolved(config) {
      resolved = resolveAssets(config.root);
      outDir = resolve(config.root, config.build.outDir);
      const log = config.logger;
      for (const problem of resolved.assets.problems) log.warn(`\n[mann-assets] ${problem}\n`);
      for (const [url, path] of resolved.files) log.info(`[mann-assets] ${url} <- ${path}`);
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
        const file = resolved.files.get(path);
        if (!file) return next();
        response.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        response.setHeader('Content-Length', String(statSync(file).size));
        createReadStream(file).pipe(response);
      });
    },
    async writeBundle() {
      for (const [url, path] of resolved.files) {
        const target = join(outDir, url);
        await mkdir(join(target, '..'), { recursive: true });
        await copyFile(path, target);
      }
    },
  };
}
