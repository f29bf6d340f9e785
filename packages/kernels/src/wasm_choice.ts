// The choice between a package's WebAssembly SIMD module and its JavaScript loops, for the packages that ship their
// own modules: @mann/addressing's LRUA and NTM steps, @mann/controller's LSTM cell.

/** 'auto': WebAssembly where it compiles, else JavaScript; 'js' and 'wasm' force one ('wasm' throws where it cannot run). */
export type WasmImplementation = 'auto' | 'js' | 'wasm';

const CHOICES: readonly WasmImplementation[] = ['auto', 'js', 'wasm'];

/**
 * One module's choice for this thread: `auto` unless the environment variable `envVar` (Node; worker threads
 * inherit it) or `set` says otherwise. The module is compiled synchronously on first use; where that fails (no
 * WebAssembly or no SIMD, or a browser's main thread, which refuses to compile a module over 4 KB synchronously)
 * `auto` runs the JavaScript and `wasm` throws.
 */
export class WasmChoice<Exports> {
  private choice: WasmImplementation;
  private compiled: Exports | null | undefined; // undefined: not tried yet
  // Stryker disable next-line StringLiteral: never shown; `active` quotes it only after `compile` failed, which sets it
  private compileError = '';

  /** `setter` names the public function that calls `set`, for messages. Throws when `envVar` holds anything else. */
  constructor(
    private readonly envVar: string,
    private readonly setter: string,
    private readonly base64: string,
  ) {
    const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[envVar];
    if (value !== undefined && value !== '' && !CHOICES.includes(value as WasmImplementation)) {
      throw new Error(`${envVar} must be one of auto, js, wasm; got "${value}".`);
    }
    this.choice = value ? (value as WasmImplementation) : 'auto';
  }

  /** Sets this thread's choice (what `setter` does); throws one line for anything but 'auto', 'js' or 'wasm'. */
  set(implementation: WasmImplementation): void {
    if (!CHOICES.includes(implementation)) {
      throw new Error(`${this.setter}: expected 'auto', 'js' or 'wasm', got ${JSON.stringify(implementation)}.`);
    }
    this.choice = implementation;
  }

  /** The module's exports when the current choice runs the WebAssembly, else null (the JavaScript runs). */
  active(): Exports | null {
    if (this.choice === 'js') return null;
    const exports = this.compile();
    if (!exports && this.choice === 'wasm') {
      throw new Error(`${this.envVar} / ${this.setter} asks for 'wasm', which cannot run here: ${this.compileError}`);
    }
    return exports;
  }

  private compile(): Exports | null {
    if (this.compiled === undefined) {
      try {
        const bytes = Uint8Array.from(atob(this.base64), (c) => c.charCodeAt(0));
        this.compiled = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as Exports;
      } catch (error) {
        this.compiled = null;
        this.compileError = String(error);
      }
    }
    return this.compiled;
  }
}
