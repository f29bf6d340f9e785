/** Where one PNG sits in the official layout `<top>/<Alphabet>/<characterNN>/<id>_<drawer>.png`. */
export interface OmniglotEntry {
  readonly top: string;
  readonly alphabet: string;
  readonly character: string;
  readonly drawer: number;
}

const DRAWING = /^(\d+)_(\d+)\.png$/;
const CHARACTER = /^character\d+$/;

/**
 * True for archive entries a reader should skip: directory entries (the authors' small zips have them) and
 * the metadata macOS adds to zips (`__MACOSX/`, `.DS_Store`, `._*` files).
 */
export function isIgnoredEntry(path: string): boolean {
  if (path.endsWith('/')) return true;
  const parts = path.split('/');
  return parts[0] === '__MACOSX' || parts.some((part) => part === '.DS_Store' || part.startsWith('._'));
}

/**
 * Parses an entry path of the official layout, or throws an error naming the entry and the layout expected.
 *
 * ```ts
 * parseEntryPath('images_background/Latin/character01/0001_03.png', 'x.zip');
 * // { top: 'images_background', alphabet: 'Latin', character: 'character01', drawer: 3 }
 * ```
 */
export function parseEntryPath(path: string, source: string): OmniglotEntry {
  const parts = path.split('/');
  const layout = '<images_set>/<Alphabet>/<characterNN>/<id>_<drawer>.png';
  if (parts.length !== 4 || parts.some((part) => part.length === 0)) {
    throw new Error(`${source}: entry '${path}' does not follow the Omniglot layout ${layout}`);
  }
  const [top, alphabet, character, file] = parts;
  const drawing = DRAWING.exec(file);
  if (!CHARACTER.test(character) || drawing === null) {
    throw new Error(`${source}: entry '${path}' does not follow the Omniglot layout ${layout}`);
  }
  return { top, alphabet, character, drawer: Number(drawing[2]) };
}
