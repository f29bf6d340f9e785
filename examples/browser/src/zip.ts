// A minimal zip writer (PKWARE APPNOTE 6.3: stored entries, no compression, no zip64), for the Train mode's
// Download: a browser cannot save a folder, so the checkpoint folder goes out as a .zip that unzips to it. The
// weights are float32 noise to a compressor, so storing them costs little.

/** A file to put in the zip: its path inside (forward slashes, ASCII) and its bytes. */
export interface ZipEntry {
  path: string;
  bytes: Uint8Array;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, the one zip and gzip use) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** MS-DOS time and date of `when` (local time, 2-second resolution; years before 1980 clamp to 1980). */
function dosDateTime(when: Date): { time: number; date: number } {
  const year = Math.max(1980, when.getFullYear());
  return {
    time: (when.getHours() << 11) | (when.getMinutes() << 5) | Math.floor(when.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((when.getMonth() + 1) << 5) | when.getDate(),
  };
}

/**
 * A zip archive holding `entries` uncompressed (method 0, "stored"), readable by `unzip`, Windows, macOS and
 * every zip library. Throws on a path that is not relative ASCII or on more than 4 GB (zip64 is not written).
 */
export function storedZip(entries: readonly ZipEntry[], when = new Date()): Uint8Array {
  const { time, date } = dosDateTime(when);
  const encoder = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const { path, bytes } of entries) {
    if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(path) || path.startsWith('/') || path.split('/').includes('..')) {
      throw new Error(`storedZip: the path ${JSON.stringify(path)} is not a relative ASCII path.`);
    }
    const name = encoder.encode(path);
    const crc = crc32(bytes);
    const local = new Uint8Array(30 + name.length);
    const l = new DataView(local.buffer);
    l.setUint32(0, 0x04034b50, true); // local file header signature
    l.setUint16(4, 10, true); // version needed: 1.0 (stored)
    l.setUint16(6, 0, true); // flags
    l.setUint16(8, 0, true); // method: stored
    l.setUint16(10, time, true);
    l.setUint16(12, date, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, bytes.length, true); // compressed size
    l.setUint32(22, bytes.length, true); // uncompressed size
    l.setUint16(26, name.length, true);
    l.setUint16(28, 0, true); // extra field length
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const c = new DataView(central.buffer);
    c.setUint32(0, 0x02014b50, true); // central directory header signature
    c.setUint16(4, (3 << 8) | 20, true); // made by: Unix, spec 2.0 (so the permissions below are read)
    c.setUint16(6, 10, true);
    c.setUint16(8, 0, true);
    c.setUint16(10, 0, true);
    c.setUint16(12, time, true);
    c.setUint16(14, date, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, bytes.length, true);
    c.setUint32(24, bytes.length, true);
    c.setUint16(28, name.length, true);
    c.setUint16(30, 0, true); // extra
    c.setUint16(32, 0, true); // comment
    c.setUint16(34, 0, true); // disk number
    c.setUint16(36, 0, true); // internal attributes
    c.setUint32(38, (0o100644 << 16) >>> 0, true); // external attributes: a regular file, rw-r--r--
    c.setUint32(42, offset, true); // offset of the local header
    central.set(name, 46);
    locals.push(local, bytes);
    centrals.push(central);
    offset += local.length + bytes.length;
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0);
  if (offset + centralSize > 0xffffffff || entries.length > 0xffff) throw new Error('storedZip: over 4 GB or 65,535 files (zip64 is not written).');
  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true); // end of central directory signature
  e.setUint16(8, entries.length, true); // entries on this disk
  e.setUint16(10, entries.length, true); // entries in all
  e.setUint32(12, centralSize, true);
  e.setUint32(16, offset, true); // where the central directory starts
  const zip = new Uint8Array(offset + centralSize + end.length);
  let at = 0;
  for (const part of [...locals, ...centrals, end]) {
    zip.set(part, at);
    at += part.length;
  }
  return zip;
}
