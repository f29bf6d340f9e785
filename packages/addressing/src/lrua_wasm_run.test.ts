import { afterEach, describe, expect, it } from 'vitest';
import { expectNormwiseClose, randomValues } from './test_arrays';
import { lruaParameterSize, type LruaSizes } from './fast_lrua_cell';
import { lruaFast, type LruaFastOptions } from './fast_lrua';
import { lruaWasmMemoryBytes, setLruaImplementation } from './fast_lrua_wasm';
import type { AddressingRun } from './types';

// lruaFast's runs on the WebAssembly step keep their records in the module's memory (one module per thread). These
// tests hold them to the JavaScript run on the same numbers, alone and when runs take the memory from each other.
const TOLERANCE = 2e-5; // float32 sums and polynomial exp/tanh in wasm, as lrua_wasm.test.ts explains

function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expectNormwiseClose(actual, expected, what, TOLERANCE);
}

interface Pass {
  parameters: Float32Array[];
  readGradients: Float32Array[];
}

function randomPass(sizes: LruaSizes, steps: number, seed: number): Pass {
  const parameterLength = sizes.batch * lruaParameterSize(sizes);
  const readLength = sizes.batch * sizes.heads * sizes.width;
  return {
    parameters: Array.from({ length: steps }, (_, t) => randomValues(parameterLength, seed + t, 2)),
    readGradients: Array.from({ length: steps }, (_, t) => randomValues(readLength, seed + 100 + t, 1)),
  };
}

function options(sizes: LruaSizes): LruaFastOptions {
  const { batch: _batch, ...rest } = sizes;
  return { ...rest, initialValue: 1e-6 };
}

/** Reads of every step, then the parameters' gradients of every step (last step first), of one run alone. */
function runAlone(sizes: LruaSizes, pass: Pass, implementation: 'js' | 'wasm'): { reads: Float32Array[]; gradients: Float32Array[] } {
  setLruaImplementation(implementation);
  const run = lruaFast(options(sizes)).start(sizes.batch);
  const reads = pass.parameters.map((parameters) => run.forward(parameters));
  const gradients = [...pass.readGradients].reverse().map((gradient) => run.backward(gradient));
  return { reads, gradients };
}

const SIZES: LruaSizes[] = [
  { batch: 3, heads: 3, slots: 7, width: 6, decay: 0.9 },
  { batch: 2, heads: 4, slots: 128, width: 40, decay: 0.95, writeVector: 'add' },
];

describe('lruaFast runs on the WebAssembly step (records resident in the module), and on JavaScript', () => {
  afterEach(() => setLruaImplementation('auto'));

  for (const sizes of SIZES) {
    it(`give the JavaScript run's reads and gradients over 6 steps (H ${sizes.heads}, N ${sizes.slots}, W ${sizes.width}, ${sizes.writeVector ?? 'key'})`, () => {
      const pass = randomPass(sizes, 6, 1);
      const js = runAlone(sizes, pass, 'js');
      // Twice: a second pass reuses the module's memory and must start from a clean state and carry.
      for (const round of [1, 2]) {
        const wasm = runAlone(sizes, pass, 'wasm');
        js.reads.forEach((reads, t) => expectClose(wasm.reads[t], reads, `pass ${round}: reads at step ${t}`));
        js.gradients.forEach((gradient, t) => expectClose(wasm.gradients[t], gradient, `pass ${round}: gradient ${t} back`));
      }
    });
  }

  it('stay exact when two runs take the memory from each other (both forward, then both backward, interleaved)', () => {
    const sizes = SIZES[0];
    const first = randomPass(sizes, 5, 1);
    const second = randomPass(sizes, 4, 50);
    const firstAlone = runAlone(sizes, first, 'wasm');
    const secondAlone = runAlone(sizes, second, 'wasm');
    const fast = lruaFast(options(sizes));
    const a: AddressingRun = fast.start(sizes.batch);
    const b: AddressingRun = fast.start(sizes.batch);
    const readsA = first.parameters.slice(0, 3).map((p) => a.forward(p));
    const readsB = second.parameters.map((p) => b.forward(p)); // b takes the memory: a's records are gone
    readsA.push(...first.parameters.slice(3).map((p) => a.forward(p))); // a rebuilds its 3 steps, goes on
    const gradientsB = [b.backward(second.readGradients[3]), b.backward(second.readGradients[2])];
    const gradientsA = [a.backward(first.readGradients[4]), a.backward(first.readGradients[3])]; // a's carry starts
    gradientsB.push(b.backward(second.readGradients[1])); // b rebuilds, restores its carry
    gradientsA.push(...[2, 1, 0].map((t) => a.backward(first.readGradients[t]))); // and a again
    gradientsB.push(b.backward(second.readGradients[0]));
    // Same loops on the same numbers: equal to the last bit.
    readsA.forEach((reads, t) => expect(Array.from(reads), `a's reads ${t}`).toEqual(Array.from(firstAlone.reads[t])));
    readsB.forEach((reads, t) => expect(Array.from(reads), `b's reads ${t}`).toEqual(Array.from(secondAlone.reads[t])));
    gradientsA.forEach((g, t) => expect(Array.from(g), `a's gradient ${t}`).toEqual(Array.from(firstAlone.gradients[t])));
    gradientsB.forEach((g, t) => expect(Array.from(g), `b's gradient ${t}`).toEqual(Array.from(secondAlone.gradients[t])));
  });

  it('reuse the same module memory from one pass to the next (it grows for the longest run, then stays)', () => {
    const sizes = SIZES[1];
    const steps = 30;
    const pass = randomPass(sizes, steps, 3);
    runAlone(sizes, pass, 'wasm');
    const after = lruaWasmMemoryBytes();
    // Every step's record is there: at least the memories [B, N, W] of all steps.
    expect(after).toBeGreaterThanOrEqual(steps * sizes.batch * sizes.slots * sizes.width * 4);
    for (let round = 0; round < 5; round++) runAlone(sizes, pass, 'wasm');
    expect(lruaWasmMemoryBytes()).toBe(after);
  });

  it('hand the caller arrays of its own: later steps do not change earlier reads or gradients', () => {
    const sizes = SIZES[0];
    const pass = randomPass(sizes, 3, 7);
    setLruaImplementation('wasm');
    const run = lruaFast(options(sizes)).start(sizes.batch);
    const reads = pass.parameters.map((p) => run.forward(p));
    const copies = reads.map((r) => r.slice());
    const gradient = run.backward(pass.readGradients[2]);
    const gradientCopy = gradient.slice();
    run.backward(pass.readGradients[1]);
    reads.forEach((r, t) => expect(Array.from(r), `reads ${t}`).toEqual(Array.from(copies[t])));
    expect(Array.from(gradient)).toEqual(Array.from(gradientCopy));
  });

  it("keep their own copy of each step's parameters: a caller reusing its array does not change a rebuilt run", () => {
    const sizes = SIZES[0];
    const pass = randomPass(sizes, 3, 11);
    const alone = runAlone(sizes, pass, 'wasm');
    const fast = lruaFast(options(sizes));
    const run = fast.start(sizes.batch);
    const buffer = new Float32Array(pass.parameters[0].length);
    for (const parameters of pass.parameters) {
      buffer.set(parameters);
      run.forward(buffer);
    }
    buffer.fill(0.5); // the caller reuses its array...
    fast.start(sizes.batch).forward(pass.parameters[0]); // ...and another run takes the memory: `run` must rebuild
    const gradients = [2, 1, 0].map((t) => run.backward(pass.readGradients[t]));
    gradients.forEach((g, t) => expect(Array.from(g), `gradient ${t}`).toEqual(Array.from(alone.gradients[t])));
  });

  it.each(['wasm', 'js'] as const)('refuse (%s) more backward steps than forward ones, and arrays of the wrong length, in one line', (implementation) => {
    const sizes = SIZES[0];
    setLruaImplementation(implementation);
    const run = lruaFast(options(sizes)).start(sizes.batch);
    expect(() => run.forward(new Float32Array(3))).toThrow(/lrua\.fast forward: parameters must be a Float32Array of length 63, got length 3\./);
    run.forward(randomValues(sizes.batch * lruaParameterSize(sizes), 1, 1));
    expect(() => run.backward(new Float32Array(2))).toThrow(/lrua\.fast backward: readGradient must be a Float32Array of length 54/);
    run.backward(randomValues(sizes.batch * sizes.heads * sizes.width, 2, 1));
    expect(() => run.backward(randomValues(sizes.batch * sizes.heads * sizes.width, 3, 1))).toThrow(/called more often than forward \(1 steps\)/);
  });
});
