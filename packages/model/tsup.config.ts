import { defineConfig } from 'tsup';

export default defineConfig({
  // parallel_worker: the ParallelTrainer's worker thread (@mann/model/node), loaded from dist/ by file name.
  entry: { index: 'src/index.ts', node: 'src/node.ts', parallel_worker: 'src/parallel_worker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', node: 'src/node.ts' } },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // import.meta.url in the CommonJS build, to find the worker file.
  shims: true,
});
