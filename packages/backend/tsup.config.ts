import { defineConfig } from 'tsup';
import { coreRegistrationsPlugin } from './build/core_registrations_plugin';

const entry = { index: 'src/index.ts', testing: 'src/testing.ts' };

export default defineConfig([
  // Bundlers and browsers (the package's "import" condition outside Node): tfjs-core's registration files are
  // imported from the user's own @tensorflow/tfjs-core, deep imports included; nothing of tfjs-core is copied.
  {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    // Not `clean`: both builds write under dist/ at once; package.json's build script empties dist first.
    sourcemap: true,
    target: 'es2022',
    external: [/^@tensorflow\//],
  },
  // Node ("node" condition, ESM and CommonJS): tfjs-core's registration files are ES modules that plain Node
  // cannot load, so they are compiled in, with every other tfjs-core import pointing at the user's own
  // tfjs-core (build/core_registrations_plugin.ts).
  {
    entry,
    outDir: 'dist/node',
    format: ['esm', 'cjs'],
    dts: false,
    // A map of this build would mostly carry tfjs-core's sources; the bundler build has one for our code.
    sourcemap: false,
    target: 'es2022',
    external: [/^@tensorflow\/tfjs-backend-/],
    noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
    // One copy of the registrations shared by index and testing, in CommonJS too.
    splitting: true,
    // tfjs-core's Apache-2.0 notices, kept once at the end of each file rather than once per module.
    esbuildOptions(options) {
      options.legalComments = 'eof';
    },
    esbuildPlugins: [coreRegistrationsPlugin()],
  },
]);
