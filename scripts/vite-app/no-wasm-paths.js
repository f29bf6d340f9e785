// The same page without the README's recipe: useBackend('wasm') must fail with a message that says what to do.
// `?wasmPaths=folder/` passes a folder prefix instead (one that does not serve the files, in the test); `&retry=1`
// calls useBackend again with a wasmPaths after the first failure (too late: tfjs cannot start wasm again).
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@mann/backend';
import { run } from './run.js';

const query = new URL(location.href).searchParams;
const prefix = query.get('wasmPaths');
run(async (name) => {
  try {
    return await (prefix === null ? useBackend(name) : useBackend(name, { wasmPaths: prefix }));
  } catch (error) {
    if (query.get('retry') === null) throw error;
    return useBackend(name, { wasmPaths: './assets/' });
  }
}, tf);
