// Compiles assembly/lstm_cell.ts into src/lstm_cell_wasm_bytes.ts (base64), with the monorepo's
// scripts/assemblyscript.mjs. Run after editing it:
//   npm run build:wasm -w @mann/controller
// src/lstm_cell_wasm.test.ts recompiles the source and fails when the committed bytes no longer match it.
import { fileURLToPath } from 'node:url';
import { compileAssemblyScript, generatedModuleText, writeGenerated } from '../../../scripts/assemblyscript.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = 'assembly/lstm_cell.ts';

/** The wasm bytes of assembly/lstm_cell.ts. */
export const compileLstmCellWasm = () => compileAssemblyScript(root, SOURCE);

/** The text of src/lstm_cell_wasm_bytes.ts for these bytes. */
export function generatedModule(binary) {
  return generatedModuleText({
    source: SOURCE,
    command: 'npm run build:wasm -w @mann/controller',
    test: 'src/lstm_cell_wasm.test.ts',
    constants: [{ name: 'LSTM_CELL_WASM_BASE64', what: 'The LSTM gate maths', binary }],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const binary = await compileLstmCellWasm();
  await writeGenerated(root, 'src/lstm_cell_wasm_bytes.ts', generatedModule(binary), binary.length);
}
