import * as tf from '@tensorflow/tfjs-core';

/** The tfjs backends the @mann packages are tested on. */
export type BackendName = 'cpu' | 'wasm' | 'webgl';

export const BACKEND_NAMES: readonly BackendName[] = ['cpu', 'wasm', 'webgl'];

const PACKAGES: Record<BackendName, string> = {
  cpu: '@tensorflow/tfjs-backend-cpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgl: '@tensorflow/tfjs-backend-webgl',
};

export interface UseBackendOptions {
  /**
   * Where the wasm backend finds its `.wasm` files: a folder prefix or a map from file name to URL. Needed in
   * browsers when a bundler moves the files; Node finds them beside the package.
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
    setWasmPaths?.(options.wasmPaths);
  }
  let ok = false;
  let failure: unknown;
  try {
    ok = await tf.setBackend(name);
  } catch (cause) {
    failure = cause;
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
