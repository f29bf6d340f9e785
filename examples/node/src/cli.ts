import { reportError } from './args';
import { bench, BENCH_HELP } from './bench';
import { demo, DEMO_HELP } from './demo';
import { evaluate, EVAL_HELP } from './eval';
import { exportCheckpoint, EXPORT_HELP } from './export';
import { plot, PLOT_HELP } from './plot';
import { enableRelaxedSimd } from './relaxed_simd';
import { train, TRAIN_HELP } from './train';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<unknown>; help: string }> = {
  demo: { run: demo, help: DEMO_HELP },
  train: { run: train, help: TRAIN_HELP },
  eval: { run: evaluate, help: EVAL_HELP },
  plot: { run: plot, help: PLOT_HELP },
  bench: { run: bench, help: BENCH_HELP },
  export: { run: exportCheckpoint, help: EXPORT_HELP },
};

const USAGE = `mann: memory-augmented neural networks (Santoro et al. 2016) on Omniglot, in Node with TensorFlow.js

Usage: mann <command> [options]     (mann <command> --help for its options)
  demo    the main job: evaluate the shipped trained model and play an episode (or train a small one)
  train   train a MANN or a baseline, with progress, checkpoints, resume and metrics
  eval    the paper's accuracy-by-instance table of a checkpoint on held-out classes
  plot    learning curves (SVG) from a run's metrics.jsonl
  export  a checkpoint without optimiser state, for shipping
  bench   speed of a paper-size training batch on wasm and cpu (--ref: against PyTorch)

The Omniglot zips are read from --data, else $OMNIGLOT_DIR, else ~/.cache/mann/omniglot
(\`npx mann-omniglot download\` fetches them there).

Exit codes: 0 done, 1 a mistake in the command or its files (one line says what), 2 a bug in mann (with its stack),
130 / 143 a run stopped by Ctrl-C / SIGTERM after saving its checkpoint.`;

async function main(argv: string[]): Promise<number> {
  enableRelaxedSimd();
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    console.error(`mann: unknown command '${command}'.\n\n${USAGE}`);
    return 1;
  }
  await entry.run(rest);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(reportError(error, (text) => console.error(text))),
);
