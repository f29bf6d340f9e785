// The WebAssembly (SIMD) LRUA step behind lruaStepForward / lruaStepBackward (fast_lrua_cell.ts), and the
// choice between it and the JavaScript loops. Why: the LRUA step was ~39% of a paper-size training batch in
// JavaScript; the f32x4 version (assembly/lrua.ts) is several times faster (docs/benchmarks.md).
//
// The records stay ordinary Float32Arrays owned by the caller: each call copies its inputs into the module's
// linear memory and its outputs back out (~1 MB per step at the paper's size, small next to the arithmetic),
// so nothing outside this file knows where the numbers were computed.
import { lruaParameterSize, lruaRecordLengths, type LruaCarry, type LruaSizes, type LruaStepRecord } from './fast_lrua_cell';
import { LRUA_WASM_BASE64 } from './lrua_wasm_bytes';
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

/** The wasm step behind the API of fast_lrua_cell.ts: copies in, runs the module, copies out. */
class WasmLrua {
  private layout: Layout | null = null;

  constructor(private readonly exports: LruaExports) {}

  forward(parameters: Float32Array, previous: LruaStepRecord, sizes: LruaSizes): LruaStepRecord {
    const { batch, heads, slots, width, decay } = sizes;
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
  private floats(): Float32Array {
    return new Float32Array(this.exports.memory.buffer);
  }

  /** The layout for these sizes, growing the memory to fit it (kept while the sizes stay the same). */
  private layoutFor(sizes: LruaSizes): Layout {
    const { batch, heads, slots, width } = sizes;
    const key = `${batch},${heads},${slots},${width},${sizes.writeVector ?? 'key'}`;
    if (this.layout?.key === key) return this.layout;
    let next = Math.ceil(this.exports.heapBase() / 16) * 4; // float index, 16-byte aligned
    const take = (length: number) => {
      const at = next;
      next += Math.ceil(length / 4) * 4;
      return at;
    };
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
    const missing = next * 4 - this.exports.memory.buffer.byteLength;
    if (missing > 0) this.exports.memory.grow(Math.ceil(missing / 65536));
    this.layout = layout;
    return layout;
  }
}
