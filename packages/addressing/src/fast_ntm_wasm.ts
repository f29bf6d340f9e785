// The WebAssembly (SIMD) NTM addressing run behind `ntm(...).fast` (fast_ntm.ts), and the choice between it and the
// JavaScript loops. Why: at the paper's size (B 16, 4 + 4 heads, 128 x 40 memory, 50 steps) a JavaScript run takes
// ~0.5-0.6 s forward and backward, most of a training batch of the NTM-addressed MANN; the f32x4 version
// (assembly/ntm.ts) takes ~60 ms (plain Node, one core, median of 9 runs).
//
// A run's state stays in the module's linear memory from its first forward to its last backward: every step's
// record, the carried gradients, and the initial state (the LRUA run in fast_lrua_wasm.ts does the same more simply:
// one run holds the memory at a time, and a run that loses it recomputes its records from its parameters). A
// forward call copies in the parameters and out the reads; a backward call copies in the read gradient and out the
// parameter gradient (~50 KB per step at the paper's size, against ~0.8 MB per record). So the module's memory
// is managed here, in blocks:
// - a run allocates one block per record (and one for its carry); backward frees each record once no earlier
//   step needs it, and the last backward step frees the rest, so training runs reuse the same blocks;
// - a run abandoned before its backward (inference) frees its blocks when it is garbage-collected
//   (FinalizationRegistry);
// - above a budget (256 MB; `setNtmWasmMemoryBudget`, for tests), allocating first spills the least recently used
//   other runs' blocks to ordinary Float32Arrays (copied back if that run is used again), so abandoned runs that
//   are not yet collected (a synchronous loop of inferences never lets the finalizers run) cannot grow the memory
//   without bound; if the memory cannot grow, the run's own records that the current step does not need are
//   spilled too;
// - once no run holds a block, the whole memory is free again (the memory never shrinks, but is reused).
// Runs may interleave freely (each call names its own blocks); only the spilled blocks cost copies.
import {
  ntmRecord,
  type HeadsRecord,
  type NtmCarry,
  type NtmRunSteps,
  type NtmSizes,
  type NtmStepRecord,
} from './fast_ntm';
import { NTM_WASM_BASE64 } from './ntm_wasm_bytes';
import { WasmChoice, type WasmImplementation } from '@mann/kernels';

/** 'auto': WebAssembly where it compiles, else JavaScript; 'js' and 'wasm' force one ('wasm' throws where it cannot run). */
export type NtmImplementation = WasmImplementation;

interface NtmExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  configure(batch: number, heads: number, slots: number, width: number, shifts: number): void;
  recordFloats(): number;
  carryFloats(): number;
  scratchBytes(): number;
  fieldOffset(id: number): number;
  initialRecord(record: number, initialValue: number): void;
  zeroCarry(carry: number): void;
  forward(parameters: number, previous: number, next: number, reads: number, scratch: number): void;
  backward(readGradient: number, record: number, previous: number, carry: number, gradient: number, scratch: number): void;
}

const wasmModule = new WasmChoice<NtmExports>('MANN_NTM', 'setNtmImplementation', NTM_WASM_BASE64);
let wasm: NtmWasm | null = null;

/**
 * Chooses the implementation of NTM addressing's fast path (`ntm(...).fast`) for this thread (the default is
 * `auto`, or the environment variable `MANN_NTM`). `js` is the escape hatch; `wasm` fails loudly where WebAssembly
 * SIMD cannot run. A run keeps the implementation it started with. Worker threads (ParallelTrainer) do not see
 * this call: set `MANN_NTM` for them.
 */
export function setNtmImplementation(implementation: NtmImplementation): void {
  wasmModule.set(implementation);
}

/** What a run of NTM addressing's fast path started now in this thread runs on: 'wasm' or 'js'. */
export function ntmImplementation(): 'js' | 'wasm' {
  return activeNtmWasm() ? 'wasm' : 'js';
}

/** The wasm runs if the current choice runs them, else null (fast_ntm.ts then runs the JavaScript). */
export function activeNtmWasm(): NtmWasm | null {
  const exports = wasmModule.active();
  if (!exports) return null;
  wasm ??= new NtmWasm(exports);
  return wasm;
}

/**
 * Sets the size of linear memory (bytes, default 256 MB) above which allocating a block first spills other runs'
 * blocks to JavaScript arrays (see the top of this file). Not exported by the package (tests use it); returns the
 * old value.
 */
export function setNtmWasmMemoryBudget(bytes: number): number {
  const old = budgetBytes;
  budgetBytes = bytes;
  return old;
}

let budgetBytes = 256 * 1024 * 1024;

/** A block of linear memory that a run owns (`at`, a float32 index), or its contents while spilled (`at` -1). */
interface Block {
  at: number;
  readonly floats: number;
  spilled: Float32Array | null;
}

/** The blocks of one run: records[t] is the state after step t - 1 (null once freed); the carried gradients. */
class RunBlocks {
  readonly records: Array<Block | null> = [];
  carry: Block | null = null;

  *blocks(): Generator<Block> {
    for (const record of this.records) if (record) yield record;
    if (this.carry) yield this.carry;
  }
}

/** A group's record fields in the order of their ids in assembly/ntm.ts (the read group, then the write group). */
const GROUP_FIELDS = ['keys', 'keyNorms', 'strength', 'strengthSlope', 'gate', 'shift', 'sharpen', 'sharpenSlope', 'similarity', 'content', 'interpolated', 'shifted', 'logShifted', 'weights'] as const;
const ERASE = 2 * GROUP_FIELDS.length;
/** The group fields stored as rows over the slots, padded to a multiple of 4. */
const SLOT_ROWS = new Set<string>(['similarity', 'content', 'interpolated', 'shifted', 'weights']);

const pad4 = (x: number): number => Math.ceil(x / 4) * 4;

/** Sizes as configured in the module, with what the module reports for them. */
interface Configured {
  key: string;
  sizes: NtmSizes;
  recordFloats: number;
  carryFloats: number;
  /** Work area: input [B, parameterSize] from 0, output [B, parameterSize] from `output`, scratch from `scratch`. */
  workFloats: number;
  output: number;
  scratch: number;
}

/** The module and its memory, shared by every wasm run of this thread. */
export class NtmWasm {
  private readonly base: number;
  /** First float never handed out. */
  private top: number;
  /** Freed blocks by their length in floats. */
  private readonly free = new Map<number, number[]>();
  /** Runs holding at least one block in memory, least recently used first. */
  private readonly resident = new Set<RunBlocks>();
  private work: { at: number; floats: number } | null = null;
  private configured: Configured | null = null;
  private view: Float32Array;
  private readonly registry = new FinalizationRegistry<RunBlocks>((blocks) => this.releaseRun(blocks));

  constructor(private readonly exports: NtmExports) {
    this.base = Math.ceil(exports.heapBase() / 16) * 4; // 16-byte aligned
    this.top = this.base;
    this.view = new Float32Array(exports.memory.buffer);
  }

  /** A run over `sizes` from `ntm`'s initial state (memory filled with `initialValue`). */
  start(sizes: NtmSizes, initialValue: number): NtmWasmRun {
    const blocks = new RunBlocks();
    const c = this.configure(sizes);
    const initial: Block = { at: this.alloc(c.recordFloats, blocks, []), floats: c.recordFloats, spilled: null };
    blocks.records.push(initial);
    this.exports.initialRecord(4 * initial.at, initialValue);
    const run = new NtmWasmRun(this, sizes, blocks);
    this.registry.register(run, blocks, blocks);
    return run;
  }

  /** Bytes of linear memory now, and how many of them blocks hold (for tests). */
  memoryUse(): { bytes: number; held: number; runs: number } {
    let held = 0;
    for (const run of this.resident) for (const block of run.blocks()) if (block.at >= 0) held += block.floats * 4;
    return { bytes: this.exports.memory.buffer.byteLength, held, runs: this.resident.size };
  }

  /** Sizes into the module (a no-op when they are already set). */
  configure(sizes: NtmSizes): Configured {
    const { batch, heads, slots, width, shifts } = sizes;
    const key = `${batch},${heads},${slots},${width},${shifts}`;
    if (this.configured?.key !== key) {
      this.exports.configure(batch, heads, slots, width, shifts);
      const io = Math.ceil((batch * sizes.parameterSize) / 4) * 4;
      const scratch = Math.ceil(this.exports.scratchBytes() / 16) * 4;
      this.configured = {
        key,
        sizes,
        recordFloats: this.exports.recordFloats(),
        carryFloats: this.exports.carryFloats(),
        workFloats: 2 * io + scratch,
        output: io,
        scratch: 2 * io,
      };
    }
    return this.configured;
  }

  /** One step forward of `blocks`' run. */
  forward(blocks: RunBlocks, parameters: Float32Array, sizes: NtmSizes): Float32Array {
    const c = this.configure(sizes);
    this.touch(blocks);
    const previous = blocks.records[blocks.records.length - 1]!;
    this.load(previous, blocks, [previous]);
    const next: Block = { at: this.alloc(c.recordFloats, blocks, [previous]), floats: c.recordFloats, spilled: null };
    blocks.records.push(next);
    const work = this.workArea(c.workFloats, blocks, [previous, next]);
    const f = this.floats();
    f.set(parameters, work);
    const reads = work + c.output;
    this.exports.forward(4 * work, 4 * previous.at, 4 * next.at, 4 * reads, 4 * (work + c.scratch));
    return f.slice(reads, reads + sizes.batch * sizes.heads * sizes.width);
  }

  /** Step t backward of `blocks`' run; frees the records no earlier step needs (all its blocks at t = 0). */
  backward(blocks: RunBlocks, readGradient: Float32Array, t: number, sizes: NtmSizes): Float32Array {
    const c = this.configure(sizes);
    this.touch(blocks);
    const record = blocks.records[t + 1]!;
    const previous = blocks.records[t]!;
    this.load(record, blocks, [record, previous]);
    this.load(previous, blocks, [record, previous]);
    if (!blocks.carry) {
      blocks.carry = { at: this.alloc(c.carryFloats, blocks, [record, previous]), floats: c.carryFloats, spilled: null };
      this.exports.zeroCarry(4 * blocks.carry.at);
    }
    const carry = blocks.carry;
    this.load(carry, blocks, [record, previous, carry]);
    const work = this.workArea(c.workFloats, blocks, [record, previous, carry]);
    const f = this.floats();
    f.set(readGradient, work);
    const gradient = work + c.output;
    this.exports.backward(4 * work, 4 * record.at, 4 * previous.at, 4 * carry.at, 4 * gradient, 4 * (work + c.scratch));
    const parameterGradient = f.slice(gradient, gradient + sizes.batch * sizes.parameterSize);
    this.release(record);
    blocks.records[t + 1] = null;
    if (t === 0) this.releaseRun(blocks);
    return parameterGradient;
  }

  /** A copy of record t of `blocks`' run, unpadded (for tests). */
  record(blocks: RunBlocks, t: number, sizes: NtmSizes): NtmStepRecord {
    this.configure(sizes);
    const block = blocks.records[t];
    if (!block) throw new Error(`ntm wasm run: record ${t} is not held (freed by backward, or never made).`);
    this.load(block, blocks, [block]);
    const f = this.floats();
    const { batch, heads, slots, width } = sizes;
    const wp = pad4(width);
    const np = pad4(slots);
    const hp = pad4(heads);
    // Rows over the width are padded to a multiple of 4 (wp), rows over the slots too (np).
    const copy = (id: number, target: Float32Array, length = target.length, stride = length) => {
      const from = block.at + this.exports.fieldOffset(id);
      for (let row = 0; row < target.length / length; row++) target.set(f.subarray(from + row * stride, from + row * stride + length), row * length);
    };
    // The heads' vectors [B, Hp, Wp], interleaved by blocks of four heads (assembly/ntm.ts' `interleaved`).
    const uninterleave = (id: number, target: Float32Array) => {
      const from = block.at + this.exports.fieldOffset(id);
      for (let b = 0; b < batch; b++) {
        for (let h = 0; h < heads; h++) {
          for (let w = 0; w < width; w++) {
            const i = (((h >> 2) * (wp >> 2) + (w >> 2)) << 4) + ((h & 3) << 2) + (w & 3);
            target[(b * heads + h) * width + w] = f[from + b * hp * wp + i];
          }
        }
      }
    };
    const record = ntmRecord(sizes);
    const group = (first: number, target: HeadsRecord) => {
      GROUP_FIELDS.forEach((name, i) => {
        if (name === 'logShifted') return;
        if (name === 'keys') uninterleave(first + i, target.keys);
        else if (SLOT_ROWS.has(name)) copy(first + i, target[name as keyof HeadsRecord], slots, np);
        else copy(first + i, target[name as keyof HeadsRecord]);
      });
    };
    group(0, record.read);
    group(GROUP_FIELDS.length, record.write);
    uninterleave(ERASE, record.erase);
    uninterleave(ERASE + 1, record.add);
    copy(ERASE + 2, record.memory, width, wp);
    copy(ERASE + 3, record.slotNorms, slots, np);
    return record;
  }

  /** A copy of the carried gradients of `blocks`' run, unpadded (for tests); null before its first backward. */
  carry(blocks: RunBlocks, sizes: NtmSizes): NtmCarry | null {
    this.configure(sizes);
    const block = blocks.carry;
    if (!block) return null;
    this.load(block, blocks, [block]);
    const f = this.floats();
    const { batch, heads, slots, width } = sizes;
    const wp = pad4(width);
    const np = pad4(slots);
    const unpad = (from: number, rows: number, length: number, stride: number) => {
      const target = new Float32Array(rows * length);
      for (let row = 0; row < rows; row++) target.set(f.subarray(from + row * stride, from + row * stride + length), row * length);
      return target;
    };
    // dL/dM [B, N, Wp], then dL/dw^r and dL/dw^w [B, H, Np] (assembly/ntm.ts' carryFloats).
    const readAt = block.at + pad4(batch * slots * wp);
    const writeAt = readAt + batch * heads * np;
    return {
      memory: unpad(block.at, batch * slots, width, wp),
      readWeights: unpad(readAt, batch * heads, slots, np),
      writeWeights: unpad(writeAt, batch * heads, slots, np),
    };
  }

  /** Spills every block of `blocks`' run to JavaScript (for tests; allocation does this above the budget). */
  spillRun(blocks: RunBlocks): void {
    for (const block of blocks.blocks()) this.spill(block);
    this.resident.delete(blocks);
    this.resetIfEmpty();
  }

  /** Frees every block of a run (its last backward, or the run was garbage-collected). */
  private releaseRun(blocks: RunBlocks): void {
    for (const block of blocks.blocks()) {
      this.release(block);
      block.spilled = null;
    }
    blocks.records.fill(null);
    blocks.carry = null;
    this.resident.delete(blocks);
    this.registry.unregister(blocks);
    this.resetIfEmpty();
  }

  /** Once no run holds a block, all memory above the static data is free: start again from the bottom. */
  private resetIfEmpty(): void {
    if (this.resident.size > 0) return;
    this.top = this.base;
    this.free.clear();
    this.work = null;
  }

  /** Marks a run as the most recently used (and resident). */
  private touch(blocks: RunBlocks): void {
    this.resident.delete(blocks);
    this.resident.add(blocks);
  }

  /** A float32 view of the whole linear memory (made anew when growing the memory detached the old one). */
  private floats(): Float32Array {
    if (this.view.buffer !== this.exports.memory.buffer) this.view = new Float32Array(this.exports.memory.buffer);
    return this.view;
  }

  /** The work area (inputs, outputs, scratch: not a run's), at least `floats` long. */
  private workArea(floats: number, owner: RunBlocks, pinned: Block[]): number {
    if (!this.work || this.work.floats < floats) {
      if (this.work) this.releaseAt(this.work.at, this.work.floats);
      this.work = null;
      this.work = { at: this.alloc(floats, owner, pinned), floats };
    }
    return this.work.at;
  }

  /** Copies a spilled block back into memory. */
  private load(block: Block, owner: RunBlocks, pinned: Block[]): void {
    if (block.at >= 0) return;
    block.at = this.alloc(block.floats, owner, pinned);
    this.floats().set(block.spilled!, block.at);
    block.spilled = null;
  }

  /** Copies a block out to JavaScript and frees its memory. */
  private spill(block: Block): void {
    if (block.at < 0) return;
    block.spilled = this.floats().slice(block.at, block.at + block.floats);
    this.releaseAt(block.at, block.floats);
    block.at = -1;
  }

  private release(block: Block): void {
    if (block.at >= 0) this.releaseAt(block.at, block.floats);
    block.at = -1;
  }

  private releaseAt(at: number, floats: number): void {
    let list = this.free.get(floats);
    if (!list) this.free.set(floats, (list = []));
    list.push(at);
  }

  /**
   * `floats` floats (a multiple of 4) for `owner`: a freed block of that length, else new memory from the top.
   * Above the budget, other runs are spilled first (least recently used first); if the memory cannot grow, the
   * owner's own blocks that are not `pinned` (needed by the current call) are spilled too.
   */
  private alloc(floats: number, owner: RunBlocks, pinned: Block[]): number {
    this.resident.add(owner);
    const reuse = () => this.free.get(floats)?.pop();
    let at = reuse();
    if (at !== undefined) return at;
    if ((this.top + floats) * 4 > budgetBytes) {
      for (const run of [...this.resident]) {
        if (run === owner) continue;
        for (const block of run.blocks()) this.spill(block);
        this.resident.delete(run);
        at = reuse();
        if (at !== undefined) return at;
      }
    }
    const missing = (this.top + floats) * 4 - this.exports.memory.buffer.byteLength;
    if (missing > 0) {
      try {
        this.exports.memory.grow(Math.ceil(missing / 65536));
      } catch (error) {
        for (const run of [...this.resident]) {
          for (const block of run.blocks()) {
            if (pinned.includes(block)) continue;
            this.spill(block);
            at = reuse();
            if (at !== undefined) return at;
          }
          if (run !== owner) this.resident.delete(run);
        }
        throw new Error(
          `ntm.fast (wasm): cannot grow the WebAssembly memory by ${missing} bytes (${String(error)}); use setNtmImplementation('js') or MANN_NTM=js.`,
        );
      }
    }
    at = this.top;
    this.top += floats;
    return at;
  }
}

/** One run in WebAssembly: its blocks in the module's memory, steps through {@link NtmWasm}. */
export class NtmWasmRun implements NtmRunSteps {
  constructor(
    private readonly wasm: NtmWasm,
    private readonly sizes: NtmSizes,
    private readonly blocks: RunBlocks,
  ) {}

  forward(parameters: Float32Array): Float32Array {
    return this.wasm.forward(this.blocks, parameters, this.sizes);
  }

  backward(readGradient: Float32Array, t: number): Float32Array {
    return this.wasm.backward(this.blocks, readGradient, t, this.sizes);
  }

  /** A copy of records[t] (the state after step t - 1), unpadded, as the JavaScript run keeps it (for tests). */
  record(t: number): NtmStepRecord {
    return this.wasm.record(this.blocks, t, this.sizes);
  }

  /** A copy of the carried gradients (for tests); null before the first backward or after the last. */
  carry(): NtmCarry | null {
    return this.wasm.carry(this.blocks, this.sizes);
  }

  /** Spills the run's blocks out of the module's memory, as the memory budget does (for tests). */
  spill(): void {
    this.wasm.spillRun(this.blocks);
  }
}
