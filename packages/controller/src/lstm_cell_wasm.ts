// The WebAssembly SIMD LSTM cell (assembly/lstm_cell.ts) behind the fast LSTM's gate maths, and the choice between it
// and the JavaScript functions (lstmCellForward / lstmCellBackward in fast_lstm.ts). Why: Math.exp and Math.tanh cost
// 25-65 ns a call in V8, so the JavaScript gates were ~15% of a paper-size training batch; with the f32x4 version the
// LSTM's forward over a paper-size batch went from 47 to 19 ms and its backward from 41 to 24 ms (products included;
// docs/benchmarks.md). Each call copies its inputs into the module's memory and its outputs back (~40,000 numbers a step at
// the paper's size, small next to the maths), so the callers keep ordinary Float32Arrays.
import { WasmChoice, type WasmImplementation } from '@mann/kernels';
import { LSTM_CELL_WASM_BASE64 } from './lstm_cell_wasm_bytes';

/** 'auto': WebAssembly where it compiles, else JavaScript; 'js' and 'wasm' force one ('wasm' throws where it cannot run). */
export type LstmCellImplementation = WasmImplementation;

interface LstmCellExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  forward(z: number, c: number, batch: number, units: number, forgetBias: number, gates: number, nextC: number, nextH: number): void;
  backward(dh: number, dc: number, gates: number, nextC: number, c: number, batch: number, units: number, dz: number): void;
}

const wasmModule = new WasmChoice<LstmCellExports>('MANN_LSTM_CELL', 'setLstmCellImplementation', LSTM_CELL_WASM_BASE64);
let cell: WasmLstmCell | null = null;

/**
 * Chooses what the fast LSTM's gate maths runs on in this thread (default `auto`, or the environment variable
 * `MANN_LSTM_CELL`): `js` is the escape hatch, `wasm` fails loudly where WebAssembly SIMD cannot run. Worker threads
 * (ParallelTrainer) do not see this call: set `MANN_LSTM_CELL` for them.
 */
export function setLstmCellImplementation(implementation: LstmCellImplementation): void {
  wasmModule.set(implementation);
}

/** What the fast LSTM's gate maths runs on in this thread now, for `units` units: 'wasm' or 'js'. */
export function lstmCellImplementation(units = 4): 'js' | 'wasm' {
  return activeLstmCell(units) ? 'wasm' : 'js';
}

/** The wasm cell if the current choice runs it for `units` units (a multiple of 4: four units a lane), else null. */
export function activeLstmCell(units: number): WasmLstmCell | null {
  if (units % 4 !== 0) return null;
  const exports = wasmModule.active();
  if (!exports) return null;
  cell ??= new WasmLstmCell(exports);
  return cell;
}

/** Where each array lives in linear memory (float32 indices), for one batch and unit count. */
interface Layout {
  key: string;
  z: number; // also dz
  gates: number;
  c: number;
  nextC: number;
  h: number; // also dh
  dc: number;
}

/** The wasm cell behind the API of lstmCellForward / lstmCellBackward: copies in, runs the module, copies out. */
export class WasmLstmCell {
  private layout: Layout | null = null;

  constructor(private readonly exports: LstmCellExports) {}

  /** lstmCellForward's contract (fast_lstm.ts). */
  forward(z: Float32Array, c: Float32Array, batch: number, units: number, forgetBias: number, gates: Float32Array, nextC: Float32Array, nextH: Float32Array): void {
    const at = this.layoutFor(batch, units);
    const f = this.floats();
    f.set(z, at.z);
    f.set(c, at.c);
    this.exports.forward(4 * at.z, 4 * at.c, batch, units, forgetBias, 4 * at.gates, 4 * at.nextC, 4 * at.h);
    gates.set(f.subarray(at.gates, at.gates + z.length));
    nextC.set(f.subarray(at.nextC, at.nextC + c.length));
    nextH.set(f.subarray(at.h, at.h + c.length));
  }

  /** lstmCellBackward's contract (fast_lstm.ts): `dc` is updated in place. */
  backward(dh: Float32Array, dc: Float32Array, gates: Float32Array, nextC: Float32Array, c: Float32Array, batch: number, units: number, dz: Float32Array): void {
    const at = this.layoutFor(batch, units);
    const f = this.floats();
    f.set(dh, at.h);
    f.set(dc, at.dc);
    f.set(gates, at.gates);
    f.set(nextC, at.nextC);
    f.set(c, at.c);
    this.exports.backward(4 * at.h, 4 * at.dc, 4 * at.gates, 4 * at.nextC, 4 * at.c, batch, units, 4 * at.z);
    dz.set(f.subarray(at.z, at.z + gates.length));
    dc.set(f.subarray(at.dc, at.dc + dc.length));
  }

  /** A float32 view of the whole linear memory (made anew each call: growing the memory detaches old views). */
  private floats(): Float32Array {
    return new Float32Array(this.exports.memory.buffer);
  }

  /** The layout for these sizes, growing the memory to fit it (kept while the sizes stay the same). */
  private layoutFor(batch: number, units: number): Layout {
    const key = `${batch},${units}`;
    if (this.layout?.key === key) return this.layout;
    let next = Math.ceil(this.exports.heapBase() / 16) * 4; // float index, 16-byte aligned
    const take = (length: number) => {
      const start = next;
      next += Math.ceil(length / 4) * 4;
      return start;
    };
    const gateLength = batch * 4 * units;
    const stateLength = batch * units;
    const layout: Layout = { key, z: take(gateLength), gates: take(gateLength), c: take(stateLength), nextC: take(stateLength), h: take(stateLength), dc: take(stateLength) };
    const missing = next * 4 - this.exports.memory.buffer.byteLength;
    if (missing > 0) this.exports.memory.grow(Math.ceil(missing / 65536));
    this.layout = layout;
    return layout;
  }
}
