import { afterEach, describe, expect, it, vi } from 'vitest';
import { WasmChoice } from './wasm_choice';

// WasmChoice on its own, with modules of its test's own: the smallest valid WebAssembly module (the magic number and
// version 1, no sections) and bytes that are not one. (Not importing the LRUA or NTM loaders, whose module-level
// choices read MANN_LRUA and MANN_NTM when imported.)
const EMPTY_MODULE = btoa(String.fromCharCode(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
const NOT_A_MODULE = btoa('not wasm');

describe('WasmChoice', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('compiles the module once, on first use, and returns its exports', () => {
    const choice = new WasmChoice<Record<string, unknown>>('MANN_TEST_CHOICE', 'setTestChoice', EMPTY_MODULE);
    const exports = choice.active();
    expect(exports).toEqual({});
    expect(choice.active()).toBe(exports);
    choice.set('wasm');
    expect(choice.active()).toBe(exports);
  });

  it("runs the JavaScript where the module does not compile ('auto'), and says why when 'wasm' is asked for", () => {
    const choice = new WasmChoice('MANN_TEST_CHOICE', 'setTestChoice', NOT_A_MODULE);
    expect(choice.active()).toBeNull();
    choice.set('wasm');
    expect(() => choice.active()).toThrow(/^MANN_TEST_CHOICE \/ setTestChoice asks for 'wasm', which cannot run here: CompileError: WebAssembly.Module\(\): expected magic word/);
    choice.set('js');
    expect(choice.active()).toBeNull();
  });

  it("'js' runs the JavaScript even where the module compiles", () => {
    const choice = new WasmChoice('MANN_TEST_CHOICE', 'setTestChoice', EMPTY_MODULE);
    choice.set('js');
    expect(choice.active()).toBeNull();
    choice.set('auto');
    expect(choice.active()).toEqual({});
  });

  it('starts from its environment variable: js, wasm, auto, or unset or empty for auto', () => {
    const make = () => new WasmChoice('MANN_TEST_CHOICE', 'setTestChoice', NOT_A_MODULE);
    vi.stubEnv('MANN_TEST_CHOICE', 'js');
    expect(make().active()).toBeNull();
    vi.stubEnv('MANN_TEST_CHOICE', 'wasm');
    expect(() => make().active()).toThrow("MANN_TEST_CHOICE / setTestChoice asks for 'wasm'");
    for (const value of ['auto', '', undefined]) {
      vi.stubEnv('MANN_TEST_CHOICE', value);
      expect(make().active(), `MANN_TEST_CHOICE=${String(value)}`).toBeNull(); // auto: the JavaScript, as the module does not compile
    }
  });

  it('refuses an unknown value, from the environment or set', () => {
    vi.stubEnv('MANN_TEST_CHOICE', 'WASM');
    expect(() => new WasmChoice('MANN_TEST_CHOICE', 'setTestChoice', EMPTY_MODULE)).toThrow('MANN_TEST_CHOICE must be one of auto, js, wasm; got "WASM".');
    vi.stubEnv('MANN_TEST_CHOICE', 'js');
    const choice = new WasmChoice('MANN_TEST_CHOICE', 'setTestChoice', EMPTY_MODULE);
    expect(() => choice.set('simd' as 'js')).toThrow(`setTestChoice: expected 'auto', 'js' or 'wasm', got "simd".`);
    // The refused value changes nothing.
    expect(choice.active()).toBeNull();
  });
});
