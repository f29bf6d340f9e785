import { zipSync } from 'fflate';
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { readOmniglotZip } from './read_omniglot_zip';
import { drawingPng, syntheticEntries, zipEntries } from './test_support/synthetic';

describe('readOmniglotZip on small synthetic archives', () => {
  it('sorts characters and drawers whatever the entry order, with or without directory entries', () => {
    const entries = syntheticEntries();
    const reversed = Object.fromEntries(Object.entries(entries).reverse());
    const plain = readOmniglotZip(zipEntries(entries), { name: 'plain.zip' });
    const withDirectories = readOmniglotZip(zipEntries(reversed, { directories: true }), { name: 'dirs.zip' });
    expect(plain.characters.map((c) => `${c.alphabet}/${c.character}`)).toEqual([
      'Alpha/character01',
      'Alpha/character02',
      'Beta/character01',
      'Beta/character02',
    ]);
    expect(plain.characters[0].set).toBe('synthetic');
    expect(plain.characters[0].drawers).toEqual([1, 2, 3]);
    expect(plain.imageSize).toBe(20);
    expect(plain.source).toBe('plain.zip');
    expect(withDirectories.characters).toEqual(plain.characters);
  });

  it('resizes a hand-made drawing to hand-computed values (ink 255, paper 0)', () => {
    // Ink in input column 5, every row. Output column 0 covers [0, 5.25): 0.25 of it is column 5, so
    // 0.25 / 5.25 = 1/21 -> round(255 / 21) = round(12.14) = 12. Output column 1 covers [5.25, 10.5): 0.75 of
    // column 5 -> 0.75 / 5.25 = 1/7 -> round(36.43) = 36. Every other column is 0. Same for every output row.
    const png = drawingPng((x) => x === 5);
    const set = readOmniglotZip(zipSync({ 'images_t/A/character01/0001_01.png': png }), { name: 'hand.zip' });
    const pixels = set.characters[0].pixels;
    expect(pixels.length).toBe(400);
    for (let row = 0; row < 20; row++) {
      const expected = new Array(20).fill(0);
      expected[0] = 12;
      expected[1] = 36;
      expect(Array.from(pixels.subarray(row * 20, row * 20 + 20))).toEqual(expected);
    }
  });

  it('reads a 1-bit PNG like the authors\' files (bit 0 = black = ink)', () => {
    // 105 pixels per row packed into 14 bytes; all white (bits 1) except the first 8 pixels of row 0 black.
    const data = new Uint8Array(14 * 105).fill(0xff);
    data[0] = 0x00;
    const png = encode({ width: 105, height: 105, data, depth: 1, channels: 1 });
    const set = readOmniglotZip(zipSync({ 'images_t/A/character01/0001_01.png': png }), { imageSize: 105 });
    const pixels = set.characters[0].pixels;
    expect(Array.from(pixels.subarray(0, 9))).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 0]);
    expect(pixels.reduce((sum, value) => sum + value, 0)).toBe(8 * 255);
  });

  it('treats transparent pixels as paper', () => {
    // RGBA: black but fully transparent -> ink 0; black opaque -> ink 1.
    const data = new Uint8Array(105 * 105 * 4);
    data[3] = 255; // pixel 0 opaque black; every other pixel transparent black
    const png = encode({ width: 105, height: 105, data, depth: 8, channels: 4 });
    const set = readOmniglotZip(zipSync({ 'images_t/A/character01/0001_01.png': png }), { imageSize: 105 });
    expect(set.characters[0].pixels[0]).toBe(255);
    expect(set.characters[0].pixels.subarray(1).every((value) => value === 0)).toBe(true);
  });
});

describe('readOmniglotZip refuses bad input with a message naming the file', () => {
  const good = syntheticEntries();
  const firstPath = Object.keys(good)[0];

  it('a truncated zip', () => {
    const bytes = zipEntries(good);
    expect(() => readOmniglotZip(bytes.slice(0, Math.floor(bytes.length / 2)), { name: 'cut.zip' })).toThrow(
      /^cut\.zip: not a readable zip archive, truncated or corrupt\?/,
    );
  });

  it('garbage that is not a zip', () => {
    expect(() => readOmniglotZip(new Uint8Array(100).fill(7), { name: 'garbage.zip' })).toThrow(/garbage\.zip: not a readable zip/);
  });

  it('a corrupt entry inside the zip', () => {
    // Stored (level 0) so the PNG bytes sit verbatim in the zip; flipping one inside the first PNG's IDAT breaks
    // its chunk checksum (or its deflate stream), which the reader reports with the entry's path.
    const bytes = zipSync(good, { level: 0 });
    const png = good[firstPath];
    const idat = Buffer.from(png).indexOf('IDAT');
    const start = Buffer.from(bytes).indexOf(Buffer.from(png.subarray(0, idat + 8)));
    expect(start).toBeGreaterThan(0);
    bytes[start + idat + 10] ^= 0xff;
    expect(() => readOmniglotZip(bytes, { name: 'flip.zip' })).toThrow(
      new RegExp(`flip\\.zip: ${firstPath}: not a readable PNG`),
    );
  });

  it('a corrupt 1-bit PNG (the fast path the authors\' files take)', () => {
    const data = new Uint8Array(14 * 105).fill(0xff);
    const png = encode({ width: 105, height: 105, data, depth: 1, channels: 1 });
    const idat = Buffer.from(png).indexOf('IDAT');
    png[idat + 6] ^= 0x55; // a byte of the IDAT data: its chunk CRC no longer matches
    const path = 'images_t/A/character01/0001_01.png';
    expect(() => readOmniglotZip(zipSync({ [path]: png }), { name: 'bits.zip' })).toThrow(
      `bits.zip: ${path}: not a readable PNG (CRC mismatch in its IDAT chunk)`,
    );
  });

  it('a PNG that does not decode', () => {
    const entries = { ...good, [firstPath]: new Uint8Array([1, 2, 3, 4]) };
    expect(() => readOmniglotZip(zipEntries(entries), { name: 'bad.zip' })).toThrow(
      new RegExp(`bad\\.zip: ${firstPath}: not a readable PNG`),
    );
  });

  it('an image of the wrong size', () => {
    const entries = { ...good, [firstPath]: drawingPng(() => false, 50) };
    expect(() => readOmniglotZip(zipEntries(entries), { name: 'small.zip' })).toThrow(
      new RegExp(`small\\.zip: ${firstPath}: image is 50x50, expected 105x105`),
    );
  });

  it('entries outside the layout', () => {
    const extraLevel = { ...good, 'images_synthetic/Alpha/character01/more/0001_04.png': good[firstPath] };
    expect(() => readOmniglotZip(zipEntries(extraLevel), { name: 'deep.zip' })).toThrow(
      "deep.zip: entry 'images_synthetic/Alpha/character01/more/0001_04.png' does not follow the Omniglot layout",
    );
    const badName = { ...good, 'images_synthetic/Alpha/character01/notes.txt': new Uint8Array(1) };
    expect(() => readOmniglotZip(zipEntries(badName), { name: 'txt.zip' })).toThrow(/txt\.zip: entry '.*notes\.txt' does not follow/);
    const twoTops = { ...good, 'images_other/Alpha/character01/0001_01.png': good[firstPath] };
    expect(() => readOmniglotZip(zipEntries(twoTops), { name: 'two.zip' })).toThrow(/two\.zip: entries under two top folders/);
  });

  it('a missing drawing', () => {
    const entries = { ...good };
    delete entries['images_synthetic/Alpha/character02/0004_02.png'];
    expect(() => readOmniglotZip(zipEntries(entries), { name: 'short.zip' })).toThrow(
      'short.zip: images_synthetic/Alpha/character02 has drawers [1, 3] but images_synthetic/Alpha/character01 has [1, 2, 3]',
    );
  });

  it('two drawings by the same drawer', () => {
    const entries = { ...good, 'images_synthetic/Alpha/character01/9999_02.png': good[firstPath] };
    expect(() => readOmniglotZip(zipEntries(entries), { name: 'dup.zip' })).toThrow(
      'dup.zip: images_synthetic/Alpha/character01 has two drawings by drawer 2',
    );
  });

  it('an official archive that is short of characters', () => {
    const entries = syntheticEntries({ top: 'images_background' });
    expect(() => readOmniglotZip(zipEntries(entries), { name: 'images_background.zip' })).toThrow(
      "images_background.zip: holds 4 characters under 'images_background', expected 964",
    );
    expect(() => readOmniglotZip(zipEntries(good), { name: 'x.zip', expectedCharacters: 5 })).toThrow(
      "x.zip: holds 4 characters under 'images_synthetic', expected 5",
    );
  });

  it('an archive with no drawings, and a bad imageSize', () => {
    expect(() => readOmniglotZip(zipSync({ 'readme.txt/': new Uint8Array(0) }), { name: 'empty.zip' })).toThrow(
      'empty.zip: no PNG drawings found',
    );
    expect(() => readOmniglotZip(zipEntries(good), { imageSize: 0 })).toThrow(/imageSize must be an integer in \[1, 105\], got 0/);
  });
});
