import './register';

export { useBackend, defaultBackend, isNode, BACKEND_NAMES } from './backend';
export type { BackendName, UseBackendOptions } from './backend';
