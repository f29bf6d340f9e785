/**
 * Addressing schemes for memory-augmented neural networks in TensorFlow.js: cosine content addressing, LRUA
 * (least recently used access, Santoro et al. 2016) and NTM addressing (Graves et al. 2014), the building blocks they
 * are made of, and each scheme's fast implementation (hand-written gradients, WebAssembly SIMD where it compiles).
 *
 * Shapes: B = episodes in the batch, N = memory slots, W = slot width, R / H = read / write heads.
 *
 * @module @mann/addressing
 */
export type * from './types';
export { cosineSimilarity } from './cosine_similarity';
export { contentWeights } from './content_weights';
export { leastUsedMasks, leastUsedWeights } from './least_used_weights';
export { lruaWriteWeights } from './lrua_write_weights';
export { interpolateWeights } from './interpolate_weights';
export { shiftWeights } from './shift_weights';
export { sharpenWeights } from './sharpen_weights';
export { lrua } from './lrua';
export type { LruaOptions, LruaState } from './lrua';
export { ntm } from './ntm';
export type { NtmOptions, NtmState } from './ntm';
export { lruaFast } from './fast_lrua';
export type { LruaFastOptions } from './fast_lrua';
export { lruaImplementation, setLruaImplementation } from './fast_lrua_wasm';
export type { LruaImplementation } from './fast_lrua_wasm';
export { differentiatedAddressing } from './differentiated_addressing';
export { ntmFast } from './fast_ntm';
export type { NtmFastOptions } from './fast_ntm';
export { ntmImplementation, setNtmImplementation } from './fast_ntm_wasm';
export type { NtmImplementation } from './fast_ntm_wasm';
