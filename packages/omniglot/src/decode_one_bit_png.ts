import { unzlibSync } from 'fflate';

/** CRC-32 (IEEE, reflected 0xedb88320) table, as PNG chunk checksums use. */
const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(bytes: Uint8Array, start: number, end: number): number {
  let crc = -1;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

function paeth(left: number, up: number, upLeft: number): number {
  const p = left + up - upLeft;
  const pa = Math.abs(p - left);
  const pb = Math.abs(p - up);
  const pc = Math.abs(p - upLeft);
  return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
}

/**
 * Fast path for the authors' files: decodes a non-interlaced 1-bit grayscale PNG straight to ink (bit 0 = black
 * = 1), checking every chunk's CRC. Returns `undefined` for any other kind of PNG, or for bytes it cannot parse,
 * so the caller falls back to the general decoder (which then gives the error). About 4x faster than the general
 * decoder on Omniglot's 105x105 files, which is most of a cold load.
 */
export function decodeOneBitPng(bytes: Uint8Array, name: string, size: number): Float32Array | undefined {
  if (bytes.length < 8 || SIGNATURE.some((byte, k) => bytes[k] !== byte)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  const parts: Uint8Array[] = [];
  let ended = false;
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at);
    const dataStart = at + 8;
    const dataEnd = dataStart + length;
    if (dataEnd + 4 > bytes.length) return undefined;
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (crc32(bytes, at + 4, dataEnd) !== view.getUint32(dataEnd)) {
      throw new Error(`${name}: not a readable PNG (CRC mismatch in its ${type} chunk)`);
    }
    if (type === 'IHDR') {
      if (length !== 13) return undefined;
      width = view.getUint32(dataStart);
      height = view.getUint32(dataStart + 4);
      const depth = bytes[dataStart + 8];
      const colourType = bytes[dataStart + 9];
      const interlace = bytes[dataStart + 12];
      if (depth !== 1 || colourType !== 0 || interlace !== 0) return undefined;
    } else if (type === 'IDAT') {
      parts.push(bytes.subarray(dataStart, dataEnd));
    } else if (type === 'IEND') {
      ended = true;
      break;
    }
    at = dataEnd + 4;
  }
  if (width === 0 || !ended || parts.length === 0) return undefined;
  if (width !== size || height !== size) {
    throw new Error(`${name}: image is ${width}x${height}, expected ${size}x${size}`);
  }
  let compressed = parts[0];
  if (parts.length > 1) {
    compressed = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      compressed.set(part, offset);
      offset += part.length;
    }
  }
  const rowBytes = Math.ceil(width / 8);
  let raw: Uint8Array;
  try {
    // A preallocated output of the exact expected size saves fflate growing its buffer (most of the time here);
    // the result's length is what was actually inflated, so short data is still noticed below.
    raw = unzlibSync(compressed, { out: new Uint8Array(height * (rowBytes + 1)) });
  } catch (error) {
    throw new Error(`${name}: not a readable PNG (image data: ${(error as Error).message})`);
  }
  if (raw.length < height * (rowBytes + 1)) {
    throw new Error(`${name}: not a readable PNG (image data is ${raw.length} bytes, expected ${height * (rowBytes + 1)})`);
  }
  // Undo the per-row filters in place (one byte per "pixel" for filtering purposes at depth 1).
  const rows = new Uint8Array(height * rowBytes);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (rowBytes + 1)];
    const input = y * (rowBytes + 1) + 1;
    const row = y * rowBytes;
    const previous = row - rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const left = i > 0 ? rows[row + i - 1] : 0;
      const up = y > 0 ? rows[previous + i] : 0;
      const upLeft = y > 0 && i > 0 ? rows[previous + i - 1] : 0;
      const value = raw[input + i];
      let decoded: number;
      if (filter === 0) decoded = value;
      else if (filter === 1) decoded = value + left;
      else if (filter === 2) decoded = value + up;
      else if (filter === 3) decoded = value + ((left + up) >> 1);
      else if (filter === 4) decoded = value + paeth(left, up, upLeft);
      else throw new Error(`${name}: not a readable PNG (unknown row filter ${filter} in row ${y})`);
      rows[row + i] = decoded & 0xff;
    }
  }
  const ink = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      ink[y * width + x] = (rows[y * rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1 ? 0 : 1;
    }
  }
  return ink;
}
