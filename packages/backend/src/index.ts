/**
 * TensorFlow.js set-up for the `@mann` packages: importing it registers tfjs' gradients and chained ops (which
 * tfjs-core's Node entry does not), and {@link useBackend} loads a backend by name, in Node and in browsers.
 *
 * @module @mann/backend
 */
import './register';

export { useBackend, defaultBackend, isNode, BACKEND_NAMES } from './backend';
export type { BackendName, UseBackendOptions } from './backend';
export { requireBackend } from './require_backend';
