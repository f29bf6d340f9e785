/**
 * The external memory of a memory-augmented neural network in TensorFlow.js: initialise it, read from it, write to
 * it, erase and clear slots, and track how much each slot is used. Pure functions over tensors, each validating its
 * input shapes.
 *
 * Shapes: B = episodes in the batch, N = slots, W = slot width, R / H = read / write heads.
 *
 * @module @mann/memory
 */
export type { MemoryConfig } from './types';
export { resolveMemoryConfig, DEFAULT_INITIAL_VALUE } from './resolve_memory_config';
export { initialMemory } from './initial_memory';
export { initialUsage } from './initial_usage';
export { initialWeights } from './initial_weights';
export { readMemory } from './read_memory';
export { writeMemory } from './write_memory';
export { eraseMemory } from './erase_memory';
export { clearSlots } from './clear_slots';
export { updateUsage } from './update_usage';
// Shape checks with messages that name the function and the shapes; shared with @mann/addressing.
export { assertPositiveInteger, assertRank, assertShape, assertShapeMatches, shapeString } from './validate';
