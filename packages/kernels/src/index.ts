/**
 * Fast maths on Float32Arrays for the `@mann` packages' fast paths: matrix products in WebAssembly SIMD (relaxed SIMD's
 * fused multiply-add where the runtime has it), with JavaScript loops as the fallback. No tfjs: the controllers and
 * the model call these inside their hand-written recurrences, where a tfjs op per step costs more than its maths.
 *
 * @module @mann/kernels
 */
export { matMul, residentMatrix, residentMemory, ResidentMatrix, setMatMulImplementation, matMulImplementation } from './matmul';
export type { MatMulOptions, MatMulImplementation, MatMulChoice, ResidentMemory } from './matmul';
export { columnSums, repeatRows, transpose } from './matrix';
export { WasmChoice } from './wasm_choice';
export type { WasmImplementation } from './wasm_choice';
export type { Matrix } from './matrix';
