// The WebAssembly (SIMD) LRUA step behind lruaStepForward / lruaStepBackward (fast_lrua_cell.ts), and the
// choice between it and the JavaScript loops. Why: the LRUA step was ~39% of a paper-size training batch in
// JavaScript; the f32x4 version (assembly/lrua.ts) is several times faster (docs/benchmarks.md).
//
// Two ways in. The per-step calls (lruaStepForward / lruaStepBackward) keep the records as ordinary Float32Arrays
// owned by the caller and copy them into the module and back out each call. A run (`startRun`, what lruaFast uses)
// keeps every step's record in the module's memory for the whole pass instead: per step only the parameters go in
// and the reads (or the parameters' gradient) come out. Why: the copies and the fresh arrays they need (~1.7 MB a
// step at the paper's size, with the garbage collection that follows) took ~25 ms of a ~245 ms training batch.
import { lruaParameterSize, lruaRecordLengths, type LruaCarry, type LruaSizes, type LruaStepRecord } from './fast_lrua_cell';
import { LRUA_WASM_BASE64 } from './lrua_wasm_bytes';
import { checkLength } from './check_length';
import type { AddressingRun } from './types';
import { WasmChoice, type WasmImplementation } from '@mann/kernels';

/** 'auto': WebAssembly where it compiles, else JavaScript; 'js' and 'wasm' force one ('wasm' throws where it cannot run). */
export type LruaImplementation = WasmImplementation;

interface LruaExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  scratchBytes(heads: number, slots: number, width: number): number;
  forward(...args: number[]): void;
  backward(...args: number[]): void;
}

const wasmModule = new WasmChoice<LruaExports>('MANN_LRUA', 'setLruaImplementation', LRUA_WASM_BASE64);
let wasm: WasmLrua | null = null;

/**
 * Chooses the implementation of the fast path's LRUA memory step for this thread (the default is `auto`, or the
 * environment variable `MANN_LRUA`). `js` is the escape hatch; `wasm` fails loudly where WebAssembly SIMD cannot
 * run. Worker threads (ParallelTrainer) do not see this call: set `MANN_LRUA` for them.
 */
export function setLruaImplementation(implementation: LruaImplementation): void {
  wasmModule.set(implementation);
}

/** What the fast path's LRUA step runs on in this thread now: 'wasm' or 'js'. */
export function lruaImplementation(): 'js' | 'wasm' {
  return activeLruaWasm() ? 'wasm' : 'js';
}

/** The wasm step if the current choice runs it, else null (fast_lrua_cell.ts then runs the JavaScript). */
export function activeLruaWasm(): WasmLrua | null {
  const exports = wasmModule.active();
  if (!exports) return null;
  wasm ??= new WasmLrua(exports);
  return wasm;
}

/** Bytes of this thread's LRUA module memory (0 before it is first used): it grows to fit the longest run and stays. */
export function lruaWasmMemoryBytes(): number {
  return wasm?.exports.memory.buffer.byteLength ?? 0;
}

/** Consecutive blocks of floats from float index `start`, each rounded up to 4 floats (16-byte aligned v128 rows). */
function floatBlocks(start: number): { take(length: number): number; end(): number } {
  let next = start;
  return {
    take(length: number): number {
      const at = next;
      next += Math.ceil(length / 4) * 4;
      return at;
    },
    end: () => next,
  };
}

/** Where each array lives in linear memory (float32 indices), for one set of sizes. */
interface Layout {
  key: string;
  parameters: number;
  readGradient: number;
  previousMemory: number;
  previousUsage: number;
  previousReadWeights: number;
  record: Record<keyof LruaStepRecord, number>;
  carryMemory: number;
  carryUsage: number;
  carryReadWeights: number;
  scratch: number;
}

const RECORD_FIELDS = ['keys', 'adds', 'gate', 'leastUsed', 'cleared', 'writeWeights', 'memory', 'keyNorms', 'slotNorms', 'similarity', 'readWeights', 'usage', 'reads'] as const;

/** The wasm step behind the API of fast_lrua_cell.ts (copies in, runs the module, copies out), and resident runs. */
class WasmLrua {
  private layout: Layout | null = null;
  /** The run whose records are in the module's memory now (null: none, or the per-step calls used it last). */
  private owner: WasmLruaRun | null = null;

  constructor(readonly exports: LruaExports) {}

  /** A run of `lruaFast` whose records stay in this module's memory (see {@link WasmLruaRun}). */
  startRun(sizes: LruaSizes, initialValue: number): AddressingRun {
    return new WasmLruaRun(this, sizes, initialValue);
  }

  /**
   * Gives the module's memory to `run` (null: the per-step calls). The run that had it is told first, so it can
   * keep what it cannot recompute and rebuild its records when it next needs them.
   */
  claim(run: WasmLruaRun | null): void {
    if (this.owner === run) return;
    this.owner?.evict();
    this.owner = run;
  }

  forward(parameters: Float32Array, previous: LruaStepRecord, sizes: LruaSizes): LruaStepRecord {
    const { batch, heads, slots, width, decay } = sizes;
    this.claim(null);
    const layout = this.layoutFor(sizes);
    const f = this.floats();
    f.set(parameters, layout.parameters);
    f.set(previous.memory, layout.previousMemory);
    f.set(previous.usage, layout.previousUsage);
    f.set(previous.readWeights, layout.previousReadWeights);
    const r = layout.record;
    this.exports.forward(
      batch, heads, slots, width, decay, sizes.writeVector === 'add' ? 1 : 0, sizes.clearing === 'all-least-used' ? 0 : 1,
      4 * layout.parameters, 4 * layout.previousMemory, 4 * layout.previousUsage, 4 * layout.previousReadWeights,
      4 * r.keys, 4 * r.adds, 4 * r.gate, 4 * r.leastUsed, 4 * r.cleared, 4 * r.writeWeights, 4 * r.memory, 4 * r.keyNorms,
      4 * r.slotNorms, 4 * r.similarity, 4 * r.readWeights, 4 * r.usage, 4 * r.reads, 4 * layout.scratch,
    );
    const lengths = lruaRecordLengths(sizes);
    const record = {} as LruaStepRecord;
    for (const field of RECORD_FIELDS) record[field] = f.slice(r[field], r[field] + lengths[field]);
    return record;
  }

  backward(readGradient: Float32Array, record: LruaStepRecord, previous: LruaStepRecord, carry: LruaCarry, sizes: LruaSizes, parameterGradient: Float32Array): void {
    const { batch, heads, slots, width, decay } = sizes;
    this.claim(null);
    const layout = this.layoutFor(sizes);
    const f = this.floats();
    const r = layout.record;
    f.set(readGradient, layout.readGradient);
    for (const field of RECORD_FIELDS) if (field !== 'usage' && field !== 'reads') f.set(record[field], r[field]);
    f.set(previous.readWeights, layout.previousReadWeights);
    f.set(carry.memory, layout.carryMemory);
    f.set(carry.usage, layout.carryUsage);
    f.set(carry.readWeights, layout.carryReadWeights);
    this.exports.backward(
      batch, heads, slots, width, decay, sizes.writeVector === 'add' ? 1 : 0,
      4 * layout.readGradient, 4 * r.keys, 4 * r.adds, 4 * r.gate, 4 * r.leastUsed, 4 * r.cleared, 4 * r.writeWeights, 4 * r.memory,
      4 * r.keyNorms, 4 * r.slotNorms, 4 * r.similarity, 4 * r.readWeights, 4 * layout.previousReadWeights,
      4 * layout.carryMemory, 4 * layout.carryUsage, 4 * layout.carryReadWeights, 4 * layout.parameters, 4 * layout.scratch,
    );
    carry.memory.set(f.subarray(layout.carryMemory, layout.carryMemory + carry.memory.length));
    carry.usage.set(f.subarray(layout.carryUsage, layout.carryUsage + carry.usage.length));
    carry.readWeights.set(f.subarray(layout.carryReadWeights, layout.carryReadWeights + carry.readWeights.length));
    parameterGradient.set(f.subarray(layout.parameters, layout.parameters + parameterGradient.length));
  }

  /** A float32 view of the whole linear memory (made anew each call: growing the memory detaches old views). */
  floats(): Float32Array {
    return new Float32Array(this.exports.memory.buffer);
  }

  /** The layout for these sizes, growing the memory to fit it (kept while the sizes stay the same). */
  private layoutFor(sizes: LruaSizes): Layout {
    const { batch, heads, slots, width } = sizes;
    const key = `${batch},${heads},${slots},${width},${sizes.writeVector ?? 'key'}`;
    if (this.layout?.key === key) return this.layout;
    const floats = floatBlocks(Math.ceil(this.exports.heapBase() / 16) * 4); // 16-byte aligned
    const take = floats.take;
    const lengths = lruaRecordLengths(sizes);
    const layout: Layout = {
      key,
      parameters: take(batch * lruaParameterSize(sizes)),
      readGradient: take(lengths.reads),
      previousMemory: take(lengths.memory),
      previousUsage: take(lengths.usage),
      previousReadWeights: take(lengths.readWeights),
      record: Object.fromEntries(RECORD_FIELDS.map((field) => [field, take(lengths[field])])) as Layout['record'],
      carryMemory: take(lengths.memory),
      carryUsage: take(lengths.usage),
      carryReadWeights: take(lengths.readWeights),
      scratch: take(this.exports.scratchBytes(heads, slots, width) / 4),
    };
    this.ensureBytes(floats.end() * 4);
    this.layout = layout;
    return layout;
  }

  /** Grows the module's memory to at least `bytes` (it never shrinks). */
  ensureBytes(bytes: number): void {
    const missing = bytes - this.exports.memory.buffer.byteLength;
    if (missing > 0) this.exports.memory.grow(Math.ceil(missing / 65536));
  }
}

/** Where a resident run's arrays live (float32 indices); record t's fields at `records + t * recordStride`. */
interface RunLayout {
  parameters: number;
  readGradient: number;
  carryMemory: number;
  carryUsage: number;
  carryReadWeights: number;
  scratch: number;
  records: number;
  recordStride: number;
  /** Each field's offset within a record. */
  fields: Record<keyof LruaStepRecord, number>;
}

/**
 * One pass of `lruaFast` with every step's record in the module's memory, from heapBase on (record 0 is the
 * initial state). One thread has one module, so a second run started before this one has gone back through all its
 * steps takes the memory over (two forward passes, then their backward passes, on one tape); this run then keeps
 * its carried gradients, and when it is next called it recomputes its records from the parameters it kept
 * (the same loops on the same numbers: the same results), so interleaved runs stay exact, only slower.
 */
class WasmLruaRun implements AddressingRun {
  private readonly layout: RunLayout;
  private readonly parameterSize: number;
  /** Each step's parameters, kept to rebuild the records after another run took the memory. */
  private readonly history: Float32Array[] = [];
  private stepsBack = 0;
  private resident = false;
  /** Whether the carried gradients in the module are this run's (set at its first backward step). */
  private carrying = false;
  private savedCarry: LruaCarry | null = null;

  constructor(
    private readonly module: WasmLrua,
    private readonly sizes: LruaSizes,
    private readonly initialValue: number,
  ) {
    const { batch, heads, slots, width } = sizes;
    this.parameterSize = lruaParameterSize(sizes);
    const lengths = lruaRecordLengths(sizes);
    const floats = floatBlocks(Math.ceil(module.exports.heapBase() / 16) * 4); // 16-byte aligned
    const take = floats.take;
    const parameters = take(batch * this.parameterSize);
    const readGradient = take(lengths.reads);
    const carryMemory = take(lengths.memory);
    const carryUsage = take(lengths.usage);
    const carryReadWeights = take(lengths.readWeights);
    const scratch = take(module.exports.scratchBytes(heads, slots, width) / 4);
    const records = floats.end();
    const record = floatBlocks(0); // field offsets within one record
    const fields = Object.fromEntries(RECORD_FIELDS.map((field) => [field, record.take(lengths[field])])) as RunLayout['fields'];
    this.layout = { parameters, readGradient, carryMemory, carryUsage, carryReadWeights, scratch, records, recordStride: record.end(), fields };
  }

  forward(parameters: Float32Array): Float32Array {
    const { batch, heads, width } = this.sizes;
    checkLength('lrua.fast forward', 'parameters', parameters, batch * this.parameterSize);
    this.makeResident();
    const t = this.history.length;
    this.history.push(parameters.slice());
    this.runForward(t, parameters);
    const reads = this.record(t + 1, 'reads');
    return this.module.floats().slice(reads, reads + batch * heads * width);
  }

  backward(readGradient: Float32Array): Float32Array {
    const { batch, heads, slots, width, decay } = this.sizes;
    const t = this.history.length - 1 - this.stepsBack;
    if (t < 0) throw new Error(`lrua.fast backward: called more often than forward (${this.history.length} steps).`);
    checkLength('lrua.fast backward', 'readGradient', readGradient, batch * heads * width);
    this.makeResident();
    const layout = this.layout;
    const f = this.module.floats();
    if (!this.carrying) {
      f.fill(0, layout.carryMemory, layout.carryMemory + batch * slots * width);
      f.fill(0, layout.carryUsage, layout.carryUsage + batch * slots);
      f.fill(0, layout.carryReadWeights, layout.carryReadWeights + batch * heads * slots);
      this.carrying = true;
    }
    f.set(readGradient, layout.readGradient);
    const r = (field: keyof LruaStepRecord) => 4 * this.record(t + 1, field);
    this.module.exports.backward(
      batch, heads, slots, width, decay, this.sizes.writeVector === 'add' ? 1 : 0,
      4 * layout.readGradient, r('keys'), r('adds'), r('gate'), r('leastUsed'), r('cleared'), r('writeWeights'), r('memory'),
      r('keyNorms'), r('slotNorms'), r('similarity'), r('readWeights'), 4 * this.record(t, 'readWeights'),
      4 * layout.carryMemory, 4 * layout.carryUsage, 4 * layout.carryReadWeights, 4 * layout.parameters, 4 * layout.scratch,
    );
    this.stepsBack++;
    return this.module.floats().slice(layout.parameters, layout.parameters + batch * this.parameterSize);
  }

  /** Called by the module when another run (or a per-step call) takes its memory. */
  evict(): void {
    this.resident = false;
    // The carried gradients cannot be recomputed from the parameters alone: keep them while backward has steps left.
    // (The usage carry, dL/dw^u, is zero throughout: usage feeds only the least-used mask, which gets no gradient;
    // it is kept like the others so that this file need not know that.)
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: saving a carry that is not needed (a finished or forward-only run's) only costs a copy: makeResident restores it and the first backward step zeroes it
    if (this.carrying && this.stepsBack < this.history.length) {
      const f = this.module.floats();
      const { carryMemory, carryUsage, carryReadWeights } = this.layout;
      const lengths = lruaRecordLengths(this.sizes);
      this.savedCarry = {
        memory: f.slice(carryMemory, carryMemory + lengths.memory),
        usage: f.slice(carryUsage, carryUsage + lengths.usage),
        readWeights: f.slice(carryReadWeights, carryReadWeights + lengths.readWeights),
      };
    }
  }

  /** The float32 index of record t's `field`. */
  private record(t: number, field: keyof LruaStepRecord): number {
    return this.layout.records + t * this.layout.recordStride + this.layout.fields[field];
  }

  /** Step t forward: record t and `parameters` -> record t + 1 (the memory grown to hold it). */
  private runForward(t: number, parameters: Float32Array): void {
    const { batch, heads, slots, width, decay } = this.sizes;
    const layout = this.layout;
    this.module.ensureBytes(4 * (layout.records + (t + 2) * layout.recordStride));
    this.module.floats().set(parameters, layout.parameters);
    const previous = (field: keyof LruaStepRecord) => 4 * this.record(t, field);
    const r = (field: keyof LruaStepRecord) => 4 * this.record(t + 1, field);
    this.module.exports.forward(
      batch, heads, slots, width, decay, this.sizes.writeVector === 'add' ? 1 : 0, this.sizes.clearing === 'all-least-used' ? 0 : 1,
      4 * layout.parameters, previous('memory'), previous('usage'), previous('readWeights'),
      r('keys'), r('adds'), r('gate'), r('leastUsed'), r('cleared'), r('writeWeights'), r('memory'), r('keyNorms'),
      r('slotNorms'), r('similarity'), r('readWeights'), r('usage'), r('reads'), 4 * layout.scratch,
    );
  }

  /** Takes the module's memory and, if another run had it, rebuilds this run's records and carry there. */
  private makeResident(): void {
    // Stryker disable next-line ConditionalExpression: rebuilding records that are already in place gives the same numbers, only slower
    if (this.resident) return;
    this.module.claim(this);
    const { batch, heads, slots, width } = this.sizes;
    const layout = this.layout;
    this.module.ensureBytes(4 * (layout.records + layout.recordStride));
    const f = this.module.floats();
    // Record 0, the initial state: memory at its initial value, usage and read weights zero.
    f.fill(this.initialValue, this.record(0, 'memory'), this.record(0, 'memory') + batch * slots * width);
    f.fill(0, this.record(0, 'usage'), this.record(0, 'usage') + batch * slots);
    f.fill(0, this.record(0, 'readWeights'), this.record(0, 'readWeights') + batch * heads * slots);
    for (let t = 0; t < this.history.length; t++) this.runForward(t, this.history[t]);
    if (this.savedCarry) {
      const g = this.module.floats();
      g.set(this.savedCarry.memory, layout.carryMemory);
      g.set(this.savedCarry.usage, layout.carryUsage);
      g.set(this.savedCarry.readWeights, layout.carryReadWeights);
      this.savedCarry = null;
    }
    // Stryker disable next-line BooleanLiteral: as above, a run that always rebuilds gives the same numbers, only slower
    this.resident = true;
  }
}
