import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/testing.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // tfjs-core ships its gradient and chained-op registrations only as ES modules with extensionless
  // imports, which plain Node cannot load. Bundling just those files (and what they import) makes them
  // loadable everywhere; they act on the one global engine and kernel registry, so the copy is harmless.
  noExternal: [/register_all_gradients/, /register_all_chained_ops/],
  external: [/^@tensorflow\/tfjs-core$/, /^@tensorflow\/tfjs-backend-/],
});
