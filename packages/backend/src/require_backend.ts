import * as tf from '@tensorflow/tfjs-core';

/**
 * Throws one clear line when no tfjs backend has been loaded, instead of tfjs' `No backend found in registry.`
 * at the first tensor. Call it before work that creates tensors; `what` names that work in the message.
 *
 * ```js
 * import { requireBackend, useBackend } from '@mann/backend';
 * await useBackend('cpu');
 * requireBackend('my model'); // passes: cpu is loaded
 * ```
 */
export function requireBackend(what: string): void {
  // tfjs keeps a factory per backend package that has been imported; it starts the best one on first use.
  const factories = (tf.engine() as unknown as { registryFactory?: Record<string, unknown> }).registryFactory;
  if (factories === undefined || Object.keys(factories).length > 0) return;
  throw new Error(
    `${what} needs a TensorFlow.js backend, and none is loaded: call \`await useBackend('wasm')\` ` +
      `(or 'cpu', 'webgl') from @mann/backend first, or import a backend package such as @tensorflow/tfjs-backend-cpu.`,
  );
}
