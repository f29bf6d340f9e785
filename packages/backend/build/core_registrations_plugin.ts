// An esbuild plugin for @mann/backend's Node build (see tsup.config.ts).
//
// tfjs-core registers its gradients and chained ops (`x.add(y)`) only in its ES module files, which plain Node
// cannot load (extensionless imports, no "type": "module"), and its Node entry registers neither. So the Node build
// compiles in the registration files themselves: `register_all_gradients`, `gradients/*` and
// `public/chained_ops/*`, plus the few backprop ops they call that tfjs-core does not export (`PRIVATE_MODULES`).
// Everything those files import from anywhere else in tfjs-core (the engine, the kernel registry, the ops, the
// Tensor class, util) is rewritten to the public API of the user's own `@tensorflow/tfjs-core`, which stays
// external. The result is ~100 small gradient functions, not a second tfjs-core: one engine, one registry.
//
// The bundler build (browsers, Vite, webpack) needs none of this: it imports tfjs-core's files directly.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'esbuild';

const require = createRequire(import.meta.url);
const coreDist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist') + path.sep;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tf = require('@tensorflow/tfjs-core') as Record<string, unknown>;

/** tfjs-core modules used by the gradients that tfjs-core does not export; compiled in (each a few lines). */
const PRIVATE_MODULES = new Set([
  'ops/avg_pool_grad.js',
  'ops/avg_pool_3d_grad.js',
  'ops/conv2d_backprop_filter.js',
  'ops/conv2d_backprop_input.js',
  'ops/conv3d_backprop_filter.js',
  'ops/conv3d_backprop_input.js',
  'ops/depthwise_conv2d_native_backprop_filter.js',
  'ops/depthwise_conv2d_native_backprop_input.js',
  'ops/local_response_normalization_backprop.js',
  'ops/max_pool_grad.js',
  'ops/max_pool_3d_grad.js',
  'tensor_util_env.js',
  'types.js',
]);

function compiledIn(relative: string): boolean {
  return (
    relative === 'register_all_gradients.js' ||
    relative.startsWith('gradients/') ||
    relative.startsWith('public/chained_ops/') ||
    PRIVATE_MODULES.has(relative)
  );
}

/** Names of the values a tfjs-core ES module file exports. */
function exportedNames(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/^export\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)/gm)) {
    names.add(m[1]!);
  }
  for (const m of source.matchAll(/^export\s*\*\s*from\s*'([^']+)'/gm)) {
    for (const name of exportedNames(resolveFile(path.resolve(path.dirname(file), m[1]!)))) names.add(name);
  }
  for (const m of source.matchAll(/^export\s*\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(',')) {
      const exported = part.trim().split(/\s+as\s+/).pop();
      if (exported) names.add(exported);
    }
  }
  return [...names];
}

/** Where each of a module's exports lives in tfjs-core's public API, as an expression over `tf`. */
function publicExpression(relative: string, name: string): string | undefined {
  if (name === 'ENGINE') return 'tf.engine()';
  if (name === 'getGlobalTensorClass') return '() => tf.Tensor';
  const namespaces = ['util', 'backend_util', 'slice_util', 'image'];
  // Helper modules first look in the namespace that re-exports them (util.assert, backend_util.getReductionAxes).
  const preferred = relative.startsWith('util') ? ['util'] : relative.endsWith('_util.js') ? ['backend_util'] : [];
  for (const namespace of preferred) {
    if (name in (tf[namespace] as object)) return `tf.${namespace}.${name}`;
  }
  if (name in tf) return `tf.${name}`;
  for (const namespace of namespaces) {
    if (name in (tf[namespace] as object)) return `tf.${namespace}.${name}`;
  }
  return undefined;
}

/**
 * For each tfjs-core module outside the compiled-in set, the names the compiled-in files import from it
 * ('all' for a namespace import), so that each shim defines only those.
 */
let importedNamesCache: Map<string, Set<string> | 'all'> | undefined;
function importedNames(): Map<string, Set<string> | 'all'> {
  if (importedNamesCache) return importedNamesCache;
  const map = new Map<string, Set<string> | 'all'>();
  const files = [
    'register_all_gradients.js',
    ...readdirSync(path.join(coreDist, 'gradients')).map((f) => `gradients/${f}`),
    ...readdirSync(path.join(coreDist, 'public/chained_ops')).map((f) => `public/chained_ops/${f}`),
    ...PRIVATE_MODULES,
  ].filter((f) => f.endsWith('.js'));
  for (const relative of files) {
    const file = path.join(coreDist, relative);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^import\s+(\{[^}]*\}|\*\s*as\s+[\w$]+)\s+from\s+'(\.[^']+)'/gm)) {
      const target = resolveFile(path.resolve(path.dirname(file), m[2]!));
      if (m[1]!.startsWith('*')) {
        map.set(target, 'all');
        continue;
      }
      const known = map.get(target);
      if (known === 'all') continue;
      const names = known ?? new Set<string>();
      for (const part of m[1]!.slice(1, -1).split(',')) {
        const imported = part.trim().split(/\s+as\s+/)[0];
        if (imported) names.add(imported);
      }
      map.set(target, names);
    }
  }
  importedNamesCache = map;
  return map;
}

function resolveFile(base: string): string {
  for (const candidate of [base, `${base}.js`, path.join(base, 'index.js')]) {
    if (existsSync(candidate) && candidate.endsWith('.js')) return candidate;
  }
  throw new Error(`core-registrations plugin: cannot resolve ${base}`);
}

export function coreRegistrationsPlugin(): Plugin {
  return {
    name: 'core-registrations',
    setup(build) {
      build.onResolve({ filter: /^@tensorflow\/tfjs-core$/ }, () => ({ path: '@tensorflow/tfjs-core', external: true }));
      build.onResolve({ filter: /^@tensorflow\/tfjs-core\/dist\// }, (args) => {
        const file = resolveFile(path.join(coreDist, args.path.slice('@tensorflow/tfjs-core/dist/'.length)));
        return { path: file };
      });
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.namespace !== 'file' || !args.importer.startsWith(coreDist)) return undefined;
        const file = resolveFile(path.resolve(path.dirname(args.importer), args.path));
        const relative = path.relative(coreDist, file).split(path.sep).join('/');
        return compiledIn(relative) ? { path: file } : { path: file, namespace: 'tfjs-core-public' };
      });
      build.onLoad({ filter: /.*/, namespace: 'tfjs-core-public' }, (args) => {
        const relative = path.relative(coreDist, args.path).split(path.sep).join('/');
        const lines = [
          "import * as tfNamespace from '@tensorflow/tfjs-core';",
          // Node's ES module loader puts a CommonJS module's exports on `default`; esbuild's CommonJS output does not.
          'const tf = tfNamespace.default ?? tfNamespace;',
        ];
        const wanted = importedNames().get(args.path) ?? 'all';
        const names = wanted === 'all' ? exportedNames(args.path) : [...wanted];
        for (const name of names) {
          const expression = publicExpression(relative, name);
          if (expression) lines.push(`export const ${name} = ${expression};`);
        }
        return { contents: lines.join('\n'), loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}
