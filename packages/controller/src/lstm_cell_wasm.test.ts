import { afterEach, describe, expect, it } from 'vitest';
import { lstmCellBackward, lstmCellForward } from './fast_lstm';
import { activeLstmCell, lstmCellImplementation, setLstmCellImplementation } from './lstm_cell_wasm';
import { LSTM_CELL_WASM_BASE64 } from './lstm_cell_wasm_bytes';

/** Deterministic values in [-scale, scale) (a linear congruential generator). */
function values(length: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 31 - 1) * scale;
  }
  return out;
}

function maxDifference(x: Float32Array, y: Float32Array): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  return max;
}

afterEach(() => setLstmCellImplementation('auto'));

describe('the WebAssembly LSTM cell', () => {
  // Pre-activations from tiny (the tanh polynomial) to saturating (exp's clamp): the scale of each case.
  for (const [scale, batch, units] of [
    [0.3, 3, 8],
    [4, 16, 200],
    [40, 2, 4],
  ] as const) {
    it(`computes what the JavaScript cell does, forward and backward (|z| < ${scale}, B = ${batch}, U = ${units})`, () => {
      const cell = activeLstmCell(units);
      expect(cell).not.toBeNull();
      const z = values(batch * 4 * units, 1, scale);
      const c = values(batch * units, 2, 2);
      const outputs = () => ({ gates: new Float32Array(z.length), nextC: new Float32Array(c.length), nextH: new Float32Array(c.length) });
      const js = outputs();
      const wasm = outputs();
      lstmCellForward(z, c, batch, units, 1, js.gates, js.nextC, js.nextH);
      cell!.forward(z, c, batch, units, 1, wasm.gates, wasm.nextC, wasm.nextH);
      // Gates and h are in [-1, 1], the cell in [-3, 3]: float32 rounding is a few 1e-7.
      expect(maxDifference(wasm.gates, js.gates)).toBeLessThan(1e-6);
      expect(maxDifference(wasm.nextC, js.nextC)).toBeLessThan(2e-6);
      expect(maxDifference(wasm.nextH, js.nextH)).toBeLessThan(1e-6);

      const dh = values(c.length, 3, 1);
      const carried = values(c.length, 4, 1);
      const dcJs = carried.slice();
      const dcWasm = carried.slice();
      const dzJs = new Float32Array(z.length);
      const dzWasm = new Float32Array(z.length);
      lstmCellBackward(dh, dcJs, js.gates, js.nextC, c, batch, units, dzJs);
      cell!.backward(dh, dcWasm, js.gates, js.nextC, c, batch, units, dzWasm);
      expect(maxDifference(dzWasm, dzJs)).toBeLessThan(2e-6);
      expect(maxDifference(dcWasm, dcJs)).toBeLessThan(2e-6);
    });
  }

  it('keeps tanh odd and exact at 0, and saturates without NaN', () => {
    const cell = activeLstmCell(4)!;
    // g's pre-activations: 0, tiny, the polynomial's edge on both sides, and far out; i = f = o = sigmoid(0) = 0.5.
    const gInputs = [0, 1e-20, 0.6249, 0.6251, -0.6251, 60, -60, 1e6];
    const z = new Float32Array(2 * 16);
    gInputs.forEach((g, n) => (z[Math.floor(n / 4) * 16 + 8 + (n % 4)] = g));
    const gates = new Float32Array(z.length);
    cell.forward(z, new Float32Array(8), 2, 4, 0, gates, new Float32Array(8), new Float32Array(8));
    const g = gInputs.map((_, n) => gates[Math.floor(n / 4) * 16 + 8 + (n % 4)]);
    expect(g[0]).toBe(0);
    expect(g[1]).toBe(Math.fround(1e-20));
    for (const n of [2, 3, 4]) expect(g[n]).toBeCloseTo(Math.tanh(gInputs[n]), 6);
    expect(g[4]).toBe(-g[3]);
    expect(g.slice(5)).toEqual([1, -1, 1]);
    expect(Array.from(gates.subarray(0, 4))).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('runs for unit counts in fours; `js` and other counts run the JavaScript', () => {
    expect(lstmCellImplementation(200)).toBe('wasm');
    expect(lstmCellImplementation(6)).toBe('js');
    expect(activeLstmCell(6)).toBeNull();
    setLstmCellImplementation('js');
    expect(lstmCellImplementation(200)).toBe('js');
    expect(() => setLstmCellImplementation('fast' as never)).toThrow("setLstmCellImplementation: expected 'auto', 'js' or 'wasm', got \"fast\".");
  });
});

describe('lstm_cell_wasm_bytes.ts', () => {
  // Not in mutation runs: it compiles assembly/, which no mutant of src/ changes.
  it.skipIf(!!process.env.MANN_MUTATION_RUN)('matches assembly/lstm_cell.ts (regenerate with npm run build:wasm -w @mann/controller)', async () => {
    // @ts-expect-error: a plain .mjs build script without types
    const { compileLstmCellWasm } = await import('../scripts/wasm.mjs');
    const binary: Uint8Array = await compileLstmCellWasm();
    expect(Buffer.from(binary).toString('base64')).toBe(LSTM_CELL_WASM_BASE64);
  }, 60_000);
});
