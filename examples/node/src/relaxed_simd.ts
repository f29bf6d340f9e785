// Node 20 has WebAssembly relaxed SIMD behind a flag; Node 22 and current browsers have it on. @mann/kernels runs its
// matrix products with relaxed SIMD's fused multiply-add where the runtime validates it (about 1.3-1.6x faster than
// plain SIMD here), so the command line turns the flag on before the first product. Process-wide: worker threads
// (--workers) get it too.
import { setFlagsFromString } from 'node:v8';
import { matMulImplementation } from '@mann/kernels';

// A module of one function that uses f32x4.relaxed_madd: valid only where relaxed SIMD is on.
const PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 1, 127, 0, 3, 2, 1, 0, 5, 4, 1, 0, 128, 8, 7, 14, 2, 1, 102, 0, 0, 6, 109, 101, 109, 111,
  114, 121, 2, 0, 10, 31, 1, 29, 0, 32, 0, 32, 0, 253, 0, 4, 16, 32, 0, 253, 0, 4, 32, 32, 0, 253, 0, 4, 0, 253, 133, 2, 253, 11, 4, 0, 11,
]);

/** Turns relaxed SIMD on where the runtime has it behind a flag; returns whether it is on now. */
export function enableRelaxedSimd(): boolean {
  if (WebAssembly.validate(PROBE)) return true;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(PROBE);
}

/** What @mann/kernels' products run on in this thread, for logs: 'WebAssembly relaxed SIMD', 'WebAssembly SIMD' or 'JavaScript'. */
export function matMulRunsOn(): string {
  const implementation = matMulImplementation();
  return implementation === 'js' ? 'JavaScript' : `WebAssembly ${implementation === 'relaxed-simd' ? 'relaxed SIMD' : 'SIMD'}`;
}

/** The fast path's products, for logs: "matrix products in WebAssembly relaxed SIMD" ... */
export function describeMatMul(): string {
  return `matrix products in ${matMulRunsOn()}`;
}
