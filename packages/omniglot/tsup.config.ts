import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // Main entry is browser-safe; the Node entry and the CLI hold everything that touches node: modules.
    entry: { index: 'src/index.ts', node: 'src/node.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    clean: false,
    sourcemap: true,
    target: 'es2022',
    platform: 'node',
  },
]);
