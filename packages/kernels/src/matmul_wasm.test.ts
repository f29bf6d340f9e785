import { describe, expect, it } from 'vitest';
import { MATMUL_RELAXED_WASM_BASE64, MATMUL_SIMD_WASM_BASE64 } from './matmul_wasm_bytes';

describe('matmul_wasm_bytes.ts', () => {
  // Not in mutation runs: it compiles assembly/, which no mutant of src/ changes.
  it.skipIf(!!process.env.MANN_MUTATION_RUN)('matches assembly/matmul.ts (regenerate with npm run build:wasm -w @mann/kernels)', async () => {
    // Imported here: the AssemblyScript compiler takes a second or more to load.
    // @ts-expect-error: a plain .mjs script without types
    const { compileMatMulWasm } = await import('../scripts/wasm.mjs');
    const { relaxed, simd } = await compileMatMulWasm();
    expect(Buffer.from(relaxed).toString('base64')).toBe(MATMUL_RELAXED_WASM_BASE64);
    expect(Buffer.from(simd).toString('base64')).toBe(MATMUL_SIMD_WASM_BASE64);
  }, 60_000);
});
