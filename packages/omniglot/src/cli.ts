#!/usr/bin/env node
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ARCHIVE_NAMES, downloadOmniglot, loadOmniglot, omniglotDir } from './node';

const usage = `usage: mann-omniglot <command> [dir]

  download [dir]  fetch the authors' images_background.zip and images_evaluation.zip into dir
  info [dir]      show where the zips are, their sha256, and what they hold (decodes once, then cached)

dir defaults to $OMNIGLOT_DIR, else $XDG_CACHE_HOME/mann/omniglot or ~/.cache/mann/omniglot.`;

async function info(dir: string): Promise<void> {
  console.log(`folder: ${dir}`);
  for (const name of Object.values(ARCHIVE_NAMES)) {
    const path = join(dir, name);
    try {
      const size = (await stat(path)).size;
      const sha256 = createHash('sha256').update(await readFile(path)).digest('hex');
      console.log(`  ${name}: ${size} bytes, sha256 ${sha256}`);
    } catch {
      console.log(`  ${name}: missing`);
    }
  }
  const start = performance.now();
  const { background, evaluation } = await loadOmniglot({ dir, onProgress: (message) => console.log(`  ${message}`) });
  const seconds = ((performance.now() - start) / 1000).toFixed(2);
  for (const set of [background, evaluation]) {
    const images = set.characters.reduce((sum, character) => sum + character.drawers.length, 0);
    const alphabets = new Set(set.characters.map((character) => character.alphabet)).size;
    console.log(`  ${set.characters[0].set}: ${alphabets} alphabets, ${set.characters.length} characters, ${images} images`);
  }
  console.log(`  loaded in ${seconds} s`);
}

async function main(argv: string[]): Promise<number> {
  const [command, dirArgument] = argv;
  const dir = omniglotDir(dirArgument);
  if (command === 'download') {
    await downloadOmniglot(dir, { onProgress: (message) => console.log(message) });
    return 0;
  }
  if (command === 'info') {
    await info(dir);
    return 0;
  }
  console.log(usage);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`mann-omniglot: ${error.message}`);
    process.exit(1);
  },
);
