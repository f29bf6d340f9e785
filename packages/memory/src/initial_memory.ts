import * as tf from '@tensorflow/tfjs-core';
import { resolveMemoryConfig } from './resolve_memory_config';
import type { MemoryConfig } from './types';
import { assertPositiveInteger } from './validate';

/**
 * The memory at the start of an episode: [B, N, W], every cell `config.initialValue` (default 1e-6).
 *
 * ```js
 * import { initialMemory } from '@mann/memory';
 * initialMemory(16, { slots: 128, width: 40 }).shape; // [16, 128, 40]
 * ```
 */
export function initialMemory(batchSize: number, config: MemoryConfig): tf.Tensor3D {
  assertPositiveInteger('initialMemory', 'batchSize', batchSize);
  const { slots, width, initialValue } = resolveMemoryConfig(config);
  return tf.fill([batchSize, slots, width], initialValue, 'float32') as tf.Tensor3D;
}
