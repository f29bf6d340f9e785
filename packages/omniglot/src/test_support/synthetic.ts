// Builders of small, made-up Omniglot-like archives for tests (never derived from the real data).
import { zipSync, type Zippable } from 'fflate';
import { encode } from 'fast-png';

/** A 105x105 8-bit grayscale PNG, black (0) where `ink(x, y)` is true, white (255) elsewhere. */
export function drawingPng(ink: (x: number, y: number) => boolean, size = 105): Uint8Array {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = ink(x, y) ? 0 : 255;
  return encode({ width: size, height: size, data, depth: 8, channels: 1 });
}

/** A square of ink whose place depends on the character and drawer, so every drawing differs. */
export function squareDrawing(characterNumber: number, drawer: number): Uint8Array {
  const left = 5 * characterNumber + 3 * drawer;
  const top = 7 * drawer;
  return drawingPng((x, y) => x >= left && x < left + 10 && y >= top && y < top + 10);
}

export interface SyntheticLayout {
  top?: string;
  alphabets?: string[];
  charactersPerAlphabet?: number;
  drawers?: number[];
}

/** Entry path -> PNG bytes for a small archive in the official layout. */
export function syntheticEntries(layout: SyntheticLayout = {}): Record<string, Uint8Array> {
  const { top = 'images_synthetic', alphabets = ['Beta', 'Alpha'], charactersPerAlphabet = 2, drawers = [1, 2, 3] } = layout;
  const entries: Record<string, Uint8Array> = {};
  let characterNumber = 0;
  for (const alphabet of alphabets) {
    for (let c = 1; c <= charactersPerAlphabet; c++) {
      characterNumber++;
      for (const drawer of drawers) {
        const id = String(characterNumber).padStart(4, '0');
        const path = `${top}/${alphabet}/character${String(c).padStart(2, '0')}/${id}_${String(drawer).padStart(2, '0')}.png`;
        entries[path] = squareDrawing(characterNumber, drawer);
      }
    }
  }
  return entries;
}

/**
 * Zips `entries` in the given order (deflated, like the authors' zips); with `directories`, adds an entry for
 * every folder first, as the authors' small zips have.
 */
export function zipEntries(entries: Record<string, Uint8Array>, { directories = false } = {}): Uint8Array {
  const files: Zippable = {};
  if (directories) {
    for (const path of Object.keys(entries)) {
      const parts = path.split('/');
      for (let k = 1; k < parts.length; k++) files[`${parts.slice(0, k).join('/')}/`] = new Uint8Array(0);
    }
  }
  for (const [path, bytes] of Object.entries(entries)) files[path] = bytes;
  return zipSync(files, { level: 6 });
}
