import * as tf from '@tensorflow/tfjs-core';

/** The tfjs backends the `@mann` packages are tested on. */
export type BackendName = 'cpu' | 'wasm' | 'webgl';

/** Every {@link BackendName}, in alphabetical order: `['cpu', 'wasm', 'webgl']`. */
export const BACKEND_NAMES: readonly BackendName[] = ['cpu', 'wasm', 'webgl'];

const PACKAGES: Record<BackendName, string> = {
  cpu: '@tensorflow/tfjs-backend-cpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgl: '@tensorflow/tfjs-backend-webgl',
};

/** Options of {@link useBackend}. */
export interface UseBackendOptions {
  /**
   * Where the wasm backend fetches its three `.wasm` files (`tfjs-backend-wasm.wasm`, `tfjs-backend-wasm-simd.wasm`
   * and `tfjs-backend-wasm-threaded-simd.wasm`, in `@tensorflow/tfjs-backend-wasm/dist/`): a folder prefix ending in
   * `/`, or a map from each of the three file names to its URL. Needed in a bundled page (Vite, webpack...): bundlers
   * do not copy these files, and without them `useBackend('wasm')` fails there with an error saying so. With Vite,
   * import each file with `?url` and pass the map; the @mann/backend README, section "wasm in a bundled page (Vite,
   * webpack)", has the code. Node finds the files beside the package and needs none. Ignored by the other backends.
   */
  wasmPaths?: string | Record<string, string>;
}

/** True where this code runs in Node.js rather than a browser or worker. */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** The backend a user gets when they name none: `wasm` in Node (the fastest there), `webgl` in a browser. */
export function defaultBackend(): BackendName {
  return isNode() ? 'wasm' : 'webgl';
}

// Literal specifiers so that bundlers (Vite, esbuild, webpack) see and resolve each import.
async function importBackend(name: BackendName): Promise<unknown> {
  switch (name) {
    case 'cpu':
      return import('@tensorflow/tfjs-backend-cpu');
    case 'wasm':
      return import('@tensorflow/tfjs-backend-wasm');
    case 'webgl':
      return import('@tensorflow/tfjs-backend-webgl');
  }
}

/**
 * Loads and activates a tfjs backend by name, and waits until it is ready.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { useBackend } from '@mann/backend';
 * await useBackend('wasm');
 * console.log(tf.getBackend()); // 'wasm'
 * ```
 *
 * Throws an error naming the missing package when the backend is not installed, and one naming the cause
 * when it is installed but cannot start here (webgl in Node, say).
 */
export async function useBackend(name: BackendName = defaultBackend(), options: UseBackendOptions = {}): Promise<BackendName> {
  if (!BACKEND_NAMES.includes(name)) {
    throw new Error(`Unknown backend '${String(name)}': choose one of ${BACKEND_NAMES.join(', ')}.`);
  }
  let module: unknown;
  try {
    module = await importBackend(name);
  } catch (cause) {
    throw new Error(
      `Backend '${name}' needs the package ${PACKAGES[name]}, which could not be loaded ` +
        `(${(cause as Error).message.split('\n')[0]}). Install it with: npm install ${PACKAGES[name]}@^4.22.0`,
      { cause },
    );
  }
  if (name === 'wasm' && options.wasmPaths !== undefined) {
    const setWasmPaths = (module as { setWasmPaths?: (p: unknown) => void }).setWasmPaths;
    try {
      setWasmPaths?.(options.wasmPaths);
    } catch (cause) {
      // tfjs says "already initialized" when the backend failed to start earlier in this page: it cannot retry.
      if (isNode() || !/already initialized/i.test((cause as Error).message)) throw cause;
      throw new Error(wasmPathsTooLateMessage(), { cause });
    }
  }
  let ok = false;
  let failure: unknown;
  const started = now();
  try {
    ok = await tf.setBackend(name);
  } catch (cause) {
    failure = cause;
  }
  if (!ok && name === 'wasm' && !isNode()) {
    // In a browser this nearly always means the .wasm file was not where tfjs looked (tfjs only logs why).
    const url = wasmUrlTried(started, options.wasmPaths);
    const served = url === undefined ? undefined : await probeWasm(url);
    const detail = failure instanceof Error ? failure.message : undefined;
    throw new Error(wasmFailureMessage({ url, served, wasmPathsGiven: options.wasmPaths !== undefined, detail }), {
      cause: failure,
    });
  }
  if (!ok) {
    const why =
      name === 'webgl' && isNode()
        ? 'Node.js has no WebGL; use wasm or cpu there'
        : name === 'webgl'
          ? 'WebGL is not available in this browser (disabled, or no GPU and no software fallback); use wasm or cpu'
          : failure instanceof Error
            ? failure.message
            : 'tf.setBackend returned false';
    throw new Error(`Backend '${name}' could not be initialised: ${why}.`, { cause: failure });
  }
  await tf.ready();
  if (name === 'cpu') {
    // The cpu backend prints a long "install tfjs-node" banner on first use in Node; tfjs-node cannot be
    // installed in many places (it downloads a native binary), and this library recommends wasm instead.
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  }
  return name;
}

/** The README section with the recipe for the wasm backend in bundled pages. */
export const WASM_README_URL = 'https://github.com/mann-js/mann/tree/main/packages/backend#wasm-in-a-bundled-page-vite-webpack';

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/** What a server answered at the URL a `.wasm` file was fetched from (see `probeWasm`). */
export type WasmProbe =
  | { kind: 'unreachable'; detail: string }
  | { kind: 'status'; status: number }
  | { kind: 'not-wasm'; contentType?: string; start: string }
  | { kind: 'wasm' };

/** Why the wasm backend could not start in a browser or worker: the facts `wasmFailureMessage` words. */
export interface WasmFailure {
  /** The URL tfjs fetched its `.wasm` file from, when known. */
  url?: string;
  /** What the server answered there, when it was asked again. */
  served?: WasmProbe;
  /** Whether the user passed `wasmPaths`. */
  wasmPathsGiven: boolean;
  /** The error tfjs threw, if it threw one rather than returning false. */
  detail?: string;
}

function describeProbe(served: WasmProbe): string {
  switch (served.kind) {
    case 'unreachable':
      return `it could not be fetched: ${served.detail}`;
    case 'status':
      return `the server answered HTTP ${served.status}`;
    case 'not-wasm': {
      const what = /^\s*</.test(served.start) ? 'an HTML page' : 'a file';
      const type = served.contentType ? `, ${served.contentType.split(';')[0]}` : '';
      return `the server answered with ${what} (${JSON.stringify(served.start)}...${type}), not a .wasm file`;
    }
    case 'wasm':
      return 'a .wasm file is served there';
  }
}

/**
 * The one-line error of `useBackend('wasm')` when the backend cannot start in a browser or worker: where tfjs looked
 * for its `.wasm` file, what it found, and what to do (pass `wasmPaths`, or fix the ones passed).
 */
export function wasmFailureMessage({ url: fullUrl, served, wasmPathsGiven, detail }: WasmFailure): string {
  // A data: URL (a bundler that inlines files) would fill the message.
  const url = fullUrl !== undefined && fullUrl.length > 200 ? `${fullUrl.slice(0, 120)}...` : fullUrl;
  const see = `see "wasm in a bundled page" in the @mann/backend README (${WASM_README_URL})`;
  const found = [served && describeProbe(served), detail].filter(Boolean).join('; ');
  const why = found ? ` (${found})` : '';
  if (served?.kind === 'wasm') {
    // The file is there: it was fetched but could not be compiled or instantiated here.
    return (
      `Backend 'wasm' could not be initialised: its .wasm file at ${url} could not be compiled here${detail ? ` (${detail})` : ''}; ` +
      `a Content-Security-Policy must allow 'wasm-unsafe-eval', and the file must be the one of the installed ` +
      `@tensorflow/tfjs-backend-wasm version. Otherwise use cpu or webgl; ${see}.`
    );
  }
  if (wasmPathsGiven) {
    return (
      `Backend 'wasm' could not be initialised: the wasmPaths given to useBackend did not serve a .wasm file ` +
      `${url ? `at ${url}` : 'where they point'}${why}. Point them at the files ${WASM_FILES.join(', ')} of ` +
      `@tensorflow/tfjs-backend-wasm/dist (a map of the three, or a folder URL ending in /); ${see}.`
    );
  }
  return (
    `Backend 'wasm' could not be initialised: its .wasm file could not be loaded from ${url ?? "the page's folder"}${why}, ` +
    `usually because the bundler did not copy @tensorflow/tfjs-backend-wasm's .wasm files there. Pass their URLs with ` +
    `useBackend('wasm', { wasmPaths }); ${see}.`
  );
}

/** The error of `useBackend('wasm', { wasmPaths })` in a browser after the wasm backend already failed to start. */
export function wasmPathsTooLateMessage(): string {
  return (
    `Backend 'wasm' could not be initialised: it already failed to start in this page (without wasmPaths, or with ` +
    `others), and tfjs cannot start it again with new ones. Pass wasmPaths to the first useBackend('wasm') call and ` +
    `reload the page; see "wasm in a bundled page" in the @mann/backend README (${WASM_README_URL}).`
  );
}

function now(): number {
  return globalThis.performance?.now() ?? 0;
}

/**
 * The URL tfjs fetched its `.wasm` file from since `since` (a `performance.now()` time): the browser's record of the
 * request if there is one, else where tfjs looks, from the `wasmPaths` given or the page's folder.
 */
function wasmUrlTried(since: number, wasmPaths: UseBackendOptions['wasmPaths']): string | undefined {
  try {
    const fetched = (globalThis.performance?.getEntriesByType?.('resource') ?? [])
      .filter((entry) => entry.startTime >= since && /\.wasm([?#]|$)/.test(entry.name))
      .map((entry) => entry.name);
    if (fetched.length > 0) return fetched[fetched.length - 1];
  } catch {
    // No resource timing here: work it out below.
  }
  const flag = (flagName: string): boolean => {
    try {
      return tf.env().getBool(flagName);
    } catch {
      return false;
    }
  };
  const simd = flag('WASM_HAS_SIMD_SUPPORT');
  const file = simd && flag('WASM_HAS_MULTITHREAD_SUPPORT') ? WASM_FILES[2] : simd ? WASM_FILES[1] : WASM_FILES[0];
  const path = typeof wasmPaths === 'string' ? wasmPaths + file : wasmPaths !== undefined ? wasmPaths[file] : file;
  if (path === undefined) return undefined;
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return base === undefined ? path : new URL(path, base).href;
  } catch {
    return path;
  }
}

/** Fetches `url` again and says what is served there: an error, an HTTP status, something else, or a .wasm file. */
async function probeWasm(url: string): Promise<WasmProbe> {
  try {
    const timeout = typeof AbortSignal !== 'undefined' && 'timeout' in AbortSignal ? AbortSignal.timeout(5000) : undefined;
    const response = await fetch(url, { credentials: 'same-origin', signal: timeout });
    if (!response.ok) return { kind: 'status', status: response.status };
    const bytes = new Uint8Array(await response.arrayBuffer()).subarray(0, 16);
    if (bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d) return { kind: 'wasm' };
    const start = String.fromCharCode(...bytes.subarray(0, 9)).replace(/[^\x20-\x7e]/g, '.');
    return { kind: 'not-wasm', contentType: response.headers.get('content-type') ?? undefined, start };
  } catch (error) {
    return { kind: 'unreachable', detail: (error as Error).message };
  }
}
