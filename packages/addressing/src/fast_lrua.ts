import {
  lruaInitialRecord,
  lruaParameterSize,
  lruaStepBackward,
  lruaStepForward,
  lruaZeroCarry,
  type LruaSizes,
  type LruaStepRecord,
} from './fast_lrua_cell';
import { checkLength } from './check_length';
import { activeLruaWasm } from './fast_lrua_wasm';
import type { AddressingRun, FastAddressing } from './types';

/**
 * What an LRUA memory is, apart from the batch: `{ heads, slots, width, decay, writeVector?, clearing? }` (`LruaSizes`
 * without `batch`; the fields mean what they mean in {@link LruaOptions}), plus the memory's initial value.
 */
export type LruaFastOptions = Omit<LruaSizes, 'batch'> & {
  /** The value every memory cell starts at (`MemoryConfig.initialValue`, 1e-6 by default). */
  initialValue: number;
};

/**
 * LRUA's fast implementation (`lrua(...).fast`): the step of fast_lrua_cell.ts (WebAssembly SIMD where it
 * compiles, else JavaScript) driven one step at a time, each step's record kept for the backward pass (in the
 * WebAssembly module's memory when the step runs there, so nothing is copied per step but parameters and reads).
 *
 * ```js
 * const fast = lruaFast({ heads: 1, slots: 2, width: 1, decay: 0.95, initialValue: 1e-6 });
 * const run = fast.start(1);
 * const reads = run.forward(new Float32Array([0.5, 0])); // key tanh(0.5), gate logit 0
 * const parameterGradient = run.backward(new Float32Array([1])); // d(sum of reads) / d(parameters)
 * ```
 */
export function lruaFast(options: LruaFastOptions): FastAddressing {
  const { initialValue, ...memorySizes } = options;
  return {
    start(batch: number): AddressingRun {
      const sizes: LruaSizes = { ...memorySizes, batch };
      const wasm = activeLruaWasm();
      if (wasm) return wasm.startRun(sizes, initialValue);
      const parameterSize = lruaParameterSize(sizes);
      // records[t] is the state after step t - 1; records[0] the initial state.
      const records: LruaStepRecord[] = [lruaInitialRecord(sizes, initialValue)];
      let carry: ReturnType<typeof lruaZeroCarry> | null = null;
      let stepsBack = 0;
      return {
        forward(parameters: Float32Array): Float32Array {
          checkLength('lrua.fast forward', 'parameters', parameters, batch * parameterSize);
          const record = lruaStepForward(parameters, records[records.length - 1], sizes);
          records.push(record);
          return record.reads; // the caller's: backward reads every field of a record but this one
        },
        backward(readGradient: Float32Array): Float32Array {
          const t = records.length - 2 - stepsBack;
          if (t < 0) throw new Error(`lrua.fast backward: called more often than forward (${records.length - 1} steps).`);
          checkLength('lrua.fast backward', 'readGradient', readGradient, batch * sizes.heads * sizes.width);
          carry ??= lruaZeroCarry(sizes);
          const parameterGradient = new Float32Array(batch * parameterSize);
          lruaStepBackward(readGradient, records[t + 1], records[t], carry, sizes, parameterGradient);
          stepsBack++;
          return parameterGradient;
        },
      };
    },
  };
}
