// Compiles assembly/matmul.ts twice into src/matmul_wasm_bytes.ts (base64), with the monorepo's
// scripts/assemblyscript.mjs: MATMUL_RELAXED_WASM_BASE64 with relaxed SIMD's fused multiply-add (RELAXED = 1) and
// MATMUL_SIMD_WASM_BASE64 with plain SIMD (RELAXED = 0), for runtimes without relaxed SIMD. Run after editing it:
//   npm run build:wasm -w @mann/kernels
// src/matmul_wasm.test.ts recompiles the source and fails when the committed bytes no longer match it.
import { fileURLToPath } from 'node:url';
import { compileAssemblyScript, generatedModuleText, writeGenerated } from '../../../scripts/assemblyscript.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = 'assembly/matmul.ts';
const GENERATED = 'src/matmul_wasm_bytes.ts';

/** The two builds of assembly/matmul.ts: { relaxed, simd } (wasm bytes). */
export async function compileMatMulWasm() {
  return {
    relaxed: await compileAssemblyScript(root, SOURCE, ['--enable', 'relaxed-simd', '--use', 'RELAXED=1']),
    simd: await compileAssemblyScript(root, SOURCE, ['--use', 'RELAXED=0']),
  };
}

/** The text of src/matmul_wasm_bytes.ts for these builds. */
export function generatedModule({ relaxed, simd }) {
  return generatedModuleText({
    source: SOURCE,
    command: 'npm run build:wasm -w @mann/kernels',
    test: 'src/matmul_wasm.test.ts',
    constants: [
      { name: 'MATMUL_RELAXED_WASM_BASE64', what: 'The matrix products with relaxed SIMD (fused multiply-add)', binary: relaxed },
      { name: 'MATMUL_SIMD_WASM_BASE64', what: 'The matrix products with plain SIMD (multiply, then add)', binary: simd },
    ],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const builds = await compileMatMulWasm();
  await writeGenerated(root, GENERATED, generatedModule(builds), builds.relaxed.length + builds.simd.length);
}
