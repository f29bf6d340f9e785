// Messages and shared memory between ParallelTrainer (main thread) and its workers (parallel_worker.ts).
import type { MessagePort } from 'node:worker_threads';
import type { BackendName } from '@mann/backend';
import type { ModelConfig } from './config';
import type { MemoryAugmentedNetwork } from './model';
import type { EpisodeShard } from './shard_episodes';

/** Where one variable lives in the flat weight and gradient arrays. */
export interface VariableSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** The model's variables in name order, laid out end to end; `total` numbers in all. */
export function variableLayout(model: MemoryAugmentedNetwork): { slots: VariableSlot[]; total: number } {
  let offset = 0;
  const slots = Object.keys(model.variables)
    .sort()
    .map((name) => {
      const variable = model.variables[name];
      const slot = { name, shape: [...variable.shape], offset, size: variable.size };
      offset += variable.size;
      return slot;
    });
  return { slots, total: offset };
}

/** Indices into a worker's control Int32Array. */
export const ANSWERS = 0; // how many answers the worker has posted; bumped after each post, then notified
export const EXITED = 1; // 1 once the worker thread is exiting

/** What a worker starts with (`workerData`). */
export interface WorkerSetup {
  index: number;
  backend: BackendName;
  config: ModelConfig;
  fastPath: boolean;
  slots: VariableSlot[];
  /** Float32Array over all weights, written by the main thread before each step, read by every worker. */
  weights: SharedArrayBuffer;
  /** Float32Array over all gradients, this worker's own. */
  gradients: SharedArrayBuffer;
  /** Int32Array [ANSWERS, EXITED]. */
  control: SharedArrayBuffer;
  port: MessagePort;
  /** URL of the compiled worker module, which the bootstrap imports. */
  script: string;
}

export interface StepRequest {
  type: 'step';
  shard: EpisodeShard;
}

export type WorkerAnswer =
  | { type: 'ready'; fastPath: boolean }
  /**
   * Gradients are in the shared gradient array; `tensors` is the worker's tf.memory().numTensors after the step,
   * `ms` the wall-clock time of the step in the worker (weights in, forward, backward, gradients out).
   */
  | { type: 'done'; loss: number; predictions: Int32Array; tensors: number; ms: number }
  | { type: 'error'; message: string; stack?: string };
