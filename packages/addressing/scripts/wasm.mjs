// Compiles the package's AssemblyScript modules (WebAssembly SIMD) into committed TypeScript modules (base64), with
// the monorepo's scripts/assemblyscript.mjs:
//   assembly/lrua.ts -> src/lrua_wasm_bytes.ts (LRUA_WASM_BASE64)
//   assembly/ntm.ts  -> src/ntm_wasm_bytes.ts  (NTM_WASM_BASE64)
// Run after editing either source (builds both):
//   npm run build:wasm -w @mann/addressing
// src/lrua_wasm.test.ts and src/ntm_wasm.test.ts recompile the sources and fail when the committed bytes no longer
// match them.
import { fileURLToPath } from 'node:url';
import { compileAssemblyScript, generatedModuleText, writeGenerated } from '../../../scripts/assemblyscript.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Each module: its AssemblyScript source, the generated file, the constant it exports and what it is. */
export const MODULES = {
  lrua: { source: 'assembly/lrua.ts', generated: 'src/lrua_wasm_bytes.ts', constant: 'LRUA_WASM_BASE64', what: 'The LRUA step' },
  ntm: { source: 'assembly/ntm.ts', generated: 'src/ntm_wasm_bytes.ts', constant: 'NTM_WASM_BASE64', what: 'The NTM addressing step' },
};

/** The wasm bytes of one module. */
export async function compileWasm(name) {
  const module = MODULES[name];
  if (!module) throw new Error(`unknown wasm module ${name}; expected one of ${Object.keys(MODULES).join(', ')}`);
  return compileAssemblyScript(root, module.source);
}

/** The wasm bytes of assembly/lrua.ts. */
export const compileLruaWasm = () => compileWasm('lrua');

/** The wasm bytes of assembly/ntm.ts. */
export const compileNtmWasm = () => compileWasm('ntm');

/** The text of a module's generated file for these bytes. */
export function generatedModule(name, binary) {
  const { source, generated, constant, what } = MODULES[name];
  return generatedModuleText({
    source,
    command: 'npm run build:wasm -w @mann/addressing',
    test: generated.replace('_bytes.ts', '.test.ts'),
    constants: [{ name: constant, what, binary }],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of Object.keys(MODULES)) {
    const binary = await compileWasm(name);
    await writeGenerated(root, MODULES[name].generated, generatedModule(name, binary), binary.length);
  }
}
