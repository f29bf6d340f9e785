import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type BackendName } from '@mann/backend';
// Vite copies these into the build and gives their URLs; the wasm backend fetches whichever the browser supports.
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export const WASM_PATHS: Record<string, string> = {
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
};

/** The order the page falls back in when a backend cannot start here. */
const FALLBACKS: BackendName[] = ['webgl', 'wasm', 'cpu'];

export interface BackendChoice {
  /** The backend now in use. */
  active: BackendName;
  /** Backends that were asked for (or tried before) and could not start, with why. */
  failures: { name: BackendName; reason: string }[];
}

/**
 * Activates `wanted`, or the next backend of webgl -> wasm -> cpu that starts, and says what failed and why.
 *
 * ```ts
 * const { active, failures } = await chooseBackend('webgl'); // 'wasm' on a browser without WebGL
 * ```
 */
export async function chooseBackend(wanted: BackendName): Promise<BackendChoice> {
  const failures: BackendChoice['failures'] = [];
  const order = [wanted, ...FALLBACKS.filter((name) => name !== wanted && FALLBACKS.indexOf(name) > FALLBACKS.indexOf(wanted))];
  for (const name of order) {
    try {
      await useBackend(name, { wasmPaths: WASM_PATHS });
      return { active: name, failures };
    } catch (error) {
      failures.push({ name, reason: (error as Error).message });
    }
  }
  throw new Error(`No tfjs backend could start: ${failures.map((f) => f.reason).join(' ')}`);
}

/** A short description of the active backend, e.g. 'webgl (WebGL 2, float32)'. */
export function describeBackend(name: BackendName): string {
  if (name === 'webgl') {
    const version = tf.env().getNumber('WEBGL_VERSION');
    const float32 = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 'float32' : 'float16';
    return `webgl (WebGL ${version}, ${float32} textures)`;
  }
  if (name === 'wasm') {
    // An async flag: readable synchronously only once the backend has evaluated it while starting.
    let simd: boolean | undefined;
    try {
      simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    } catch {
      simd = undefined;
    }
    return simd === undefined ? 'wasm' : `wasm (${simd ? 'SIMD' : 'no SIMD'})`;
  }
  return 'cpu (plain JavaScript)';
}
