import { decode } from 'fast-png';
import { decodeOneBitPng } from './decode_one_bit_png';

/**
 * Decodes a PNG into ink values in [0, 1], row-major (ink = 1 - brightness, so black ink on white paper is 1
 * on 0). Omniglot's files are 1-bit grayscale, but any PNG colour type is accepted: colour is reduced to the
 * mean of its channels and transparent pixels are composited over white paper.
 * Throws an error naming `name` when the bytes are not a PNG, fail a chunk checksum, or are not `size` x `size`.
 *
 * ```ts
 * const ink = decodeInk(pngBytes, 'images_background/Latin/character01/0001_01.png', 105);
 * ```
 */
export function decodeInk(bytes: Uint8Array, name: string, size: number): Float32Array {
  return decodeOneBitPng(bytes, name, size) ?? decodeInkWithFastPng(bytes, name, size);
}

/** `decodeInk` without the 1-bit fast path: fast-png's general decoder, for every PNG kind. */
export function decodeInkWithFastPng(bytes: Uint8Array, name: string, size: number): Float32Array {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes, { checkCrc: true });
  } catch (error) {
    throw new Error(`${name}: not a readable PNG (${(error as Error).message})`);
  }
  const { width, height, depth, channels, data, palette } = png;
  if (width !== size || height !== size) {
    throw new Error(`${name}: image is ${width}x${height}, expected ${size}x${size}`);
  }
  const ink = new Float32Array(width * height);
  if (palette !== undefined) {
    // Indexed colour: 1, 2, 4 or 8 bits per index, rows padded to whole bytes.
    const rowBytes = Math.ceil((width * depth) / 8);
    const perByte = 8 / depth;
    const mask = (1 << depth) - 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const byte = data[y * rowBytes + Math.floor(x / perByte)];
        const index = (byte >> (8 - depth * ((x % perByte) + 1))) & mask;
        const colour = palette[index];
        if (colour === undefined) throw new Error(`${name}: palette index ${index} out of range`);
        const brightness = (colour[0] + colour[1] + colour[2]) / (3 * 255);
        const alpha = colour.length > 3 ? (colour[3] as number) / 255 : 1;
        ink[y * width + x] = alpha * (1 - brightness);
      }
    }
    return ink;
  }
  if (depth < 8) {
    // Packed grayscale (Omniglot: depth 1, so bit 0 = black = ink).
    const rowBytes = Math.ceil((width * depth) / 8);
    const perByte = 8 / depth;
    const mask = (1 << depth) - 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const byte = data[y * rowBytes + Math.floor(x / perByte)];
        const level = (byte >> (8 - depth * ((x % perByte) + 1))) & mask;
        ink[y * width + x] = 1 - level / mask;
      }
    }
    return ink;
  }
  const maximum = depth === 16 ? 65535 : 255;
  const colourChannels = channels === 1 || channels === 2 ? 1 : 3;
  const hasAlpha = channels === 2 || channels === 4;
  for (let p = 0; p < width * height; p++) {
    const base = p * channels;
    let sum = 0;
    for (let c = 0; c < colourChannels; c++) sum += data[base + c];
    const brightness = sum / (colourChannels * maximum);
    const alpha = hasAlpha ? data[base + channels - 1] / maximum : 1;
    ink[p] = alpha * (1 - brightness);
  }
  return ink;
}
