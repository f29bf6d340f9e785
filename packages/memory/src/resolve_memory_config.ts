import type { MemoryConfig } from './types';

/** The value every memory cell starts at when `MemoryConfig.initialValue` is not given (as the paper's peers). */
export const DEFAULT_INITIAL_VALUE = 1e-6;

/**
 * Checks a memory configuration and fills in the defaults.
 *
 * ```js
 * import { resolveMemoryConfig } from '@mann/memory';
 * resolveMemoryConfig({ slots: 128, width: 40 }); // { slots: 128, width: 40, initialValue: 1e-6 }
 * resolveMemoryConfig({ slots: 128, width: 0 });  // throws "memory width must be a positive integer, got 0"
 * ```
 *
 * `slots` (N) and `width` (W) must be positive integers; `initialValue` must be a finite number (default 1e-6:
 * a small non-zero value, so that the cosine similarity with an untouched slot is defined).
 */
export function resolveMemoryConfig(config: MemoryConfig): Required<MemoryConfig> {
  if (config == null || typeof config !== 'object') {
    throw new Error(`memory config must be an object { slots, width, initialValue? }, got ${String(config)}`);
  }
  const { slots, width } = config;
  if (!Number.isInteger(slots) || slots <= 0) {
    throw new Error(`memory slots must be a positive integer, got ${String(slots)}`);
  }
  if (!Number.isInteger(width) || width <= 0) {
    throw new Error(`memory width must be a positive integer, got ${String(width)}`);
  }
  const initialValue = config.initialValue ?? DEFAULT_INITIAL_VALUE;
  // Number.isFinite does not coerce: it is false for a string or any other non-number, not only NaN and Infinity.
  if (!Number.isFinite(initialValue)) {
    throw new Error(`memory initialValue must be a finite number, got ${String(initialValue)}`);
  }
  return { slots, width, initialValue };
}
