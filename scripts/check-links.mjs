#!/usr/bin/env node
// Checks the links of the repository's markdown: the root README.md, every packages/*/README.md and docs/**/*.md
// (the generated API reference in docs/api included), or the files named on the command line.
//
// - A relative link (or one from the repository root, `/path`) must name a file or folder that exists; with a
//   #fragment into a markdown file (or a folder, meaning its README.md), the fragment must be one of that file's
//   heading anchors (GitHub's rules: lower case, punctuation dropped, spaces to hyphens, -1, -2... for repeats) or
//   an explicit <a id="..."> / <a name="...">.
// - https://github.com/mann-js/mann/blob/main/<path> and /tree/main/<path> links (used where npm renders a README
//   outside the repository) are checked the same way against <path> in this checkout.
// - Other absolute links (http, https, mailto...) are not fetched.
//
// Code blocks and inline code are skipped. Prints each broken link as file:line and exits with 1 if there is any.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO_URL = /^https:\/\/github\.com\/mann-js\/mann\/(?:blob|tree)\/main(?:\/([^?#]*))?(?:\?[^#]*)?(?:#(.*))?$/;

/** The markdown files checked by default, relative to the repository root. */
export function defaultFiles(root = ROOT) {
  const files = ['README.md'];
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    if (existsSync(join(root, 'packages', name, 'README.md'))) files.push(`packages/${name}/README.md`);
  }
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  return files;
}

/** The text's lines, those of fenced code blocks (fences included) as null. */
function unfencedLines(text) {
  let fence = null;
  return text.split(/\r?\n/).map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && /^ {0,3}(`+|~+)\s*$/.test(line)) fence = null;
      return null;
    }
    if (marker) {
      fence = marker;
      return null;
    }
    return line;
  });
}

/** The text's lines with code blocks blanked out (line numbers kept) and inline code spans removed. */
function proseLines(text) {
  return unfencedLines(text).map((line) => (line === null ? '' : line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, '')));
}

/** GitHub's anchor for a heading's text (github-slugger's rules). */
export function slug(heading) {
  const text = heading
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1') // images: their alt text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // links: their text
    .replace(/\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    .replace(/<[^>]+>/g, '') // HTML tags
    .replace(/`+/g, '') // code spans: their text
    .replace(/\\([!-/:-@[-`{-~])/g, '$1') // backslash escapes
    .replace(/(^|[^\p{L}\p{N}_])_([^_]+)_(?=$|[^\p{L}\p{N}_])/gu, '$1$2') // _emphasis_
    .replace(/(^|[^\p{L}\p{N}_])__([^_]+)__(?=$|[^\p{L}\p{N}_])/gu, '$1$2')
    .trim();
  return text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

const anchorCache = new Map();

/** Every anchor a markdown file defines: its headings' slugs (numbered as GitHub numbers repeats) and HTML ids. */
export function anchorsOf(path) {
  if (anchorCache.has(path)) return anchorCache.get(path);
  const anchors = new Set();
  const counts = new Map();
  const add = (base) => {
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  };
  const text = readFileSync(path, 'utf8');
  const lines = unfencedLines(text);
  const prose = proseLines(text);
  lines.forEach((line, i) => {
    if (line === null) return;
    const atx = /^ {0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$/.exec(line);
    if (atx) add(slug(atx[1] ?? ''));
    else if (line.trim() !== '' && !/^\s*([-*+>|]|\d+[.)])/.test(line) && /^ {0,3}(=+|-+)\s*$/.test(lines[i + 1] ?? '')) {
      add(slug(line)); // setext heading: a line of text underlined with === or ---
    }
    for (const m of prose[i].matchAll(/<a\s[^>]*?(?:id|name)\s*=\s*["']([^"']+)["'][^>]*>/gi)) anchors.add(m[1]);
  });
  anchorCache.set(path, anchors);
  return anchors;
}

/** The link targets of one markdown file: { url, line } for inline links and images, reference definitions and HTML. */
export function linksOf(text) {
  const links = [];
  const lines = proseLines(text);
  lines.forEach((line, i) => {
    // Reference definitions, [name]: url. ([text][name] without a definition is plain text on GitHub.)
    const definition = /^ {0,3}\[([^\]]+)\]:\s*<?([^\s>]+)>?/.exec(line);
    if (definition) links.push({ url: definition[2], line: i + 1 });
  });
  const inline = /\[((?:[^[\]]|\[[^\]]*\])*)\]\(\s*(?:<([^>]*)>|([^\s()]*(?:\([^\s()]*\)[^\s()]*)*))(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  lines.forEach((line, i) => {
    const scan = (s) => {
      for (const m of s.matchAll(inline)) {
        links.push({ url: m[2] ?? m[3], line: i + 1 });
        scan(m[1]); // a link inside the text, e.g. an image inside a link
      }
    };
    scan(line);
    for (const m of line.matchAll(/<(?:a|img|source)\s[^>]*?(?:href|src|srcset)\s*=\s*["']([^"']+)["']/gi)) {
      links.push({ url: m[1], line: i + 1 });
    }
  });
  return links;
}

/** Why `url`, linked from the markdown file `from` (absolute), is broken, or null when it is fine. */
export function checkLink(url, from, root = ROOT) {
  if (url === '') return 'empty link';
  let path;
  let fragment;
  const repo = REPO_URL.exec(url);
  if (repo) {
    path = join(root, decodeURIComponent(repo[1] ?? ''));
    fragment = repo[2];
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) {
    return null; // another site, mailto:...: not fetched
  } else {
    const hash = url.indexOf('#');
    const target = (hash < 0 ? url : url.slice(0, hash)).replace(/\?.*$/, '');
    fragment = hash < 0 ? undefined : url.slice(hash + 1);
    let decoded;
    try {
      decoded = decodeURIComponent(target);
    } catch {
      return 'malformed URL';
    }
    path = target === '' ? from : decoded.startsWith('/') ? join(root, decoded) : resolve(dirname(from), decoded);
  }
  const where = relative(root, path).split(sep).join('/') || '.';
  if (from.startsWith(root + sep) && path !== root && !path.startsWith(root + sep)) return `${where} is outside the repository`;
  if (!existsSync(path)) return `${where} does not exist`;
  if (fragment === undefined || fragment === '') return null;
  let markdown = path;
  if (statSync(path).isDirectory()) {
    markdown = join(path, 'README.md');
    if (!existsSync(markdown)) return null; // GitHub's folder view has no anchors of ours
  }
  if (!markdown.endsWith('.md')) return null; // #L10 line anchors in source files and the like
  let anchor;
  try {
    anchor = decodeURIComponent(fragment);
  } catch {
    return `malformed #${fragment}`;
  }
  if (!anchorsOf(markdown).has(anchor)) {
    return `${relative(root, markdown).split(sep).join('/')} has no heading or anchor #${anchor}`;
  }
  return null;
}

/** Checks `files` (relative to `root`); returns the broken links as "file:line: url: why" lines. */
export function checkFiles(files, root = ROOT) {
  const problems = [];
  for (const file of files) {
    const path = resolve(root, file);
    const text = readFileSync(path, 'utf8');
    for (const link of linksOf(text).sort((a, b) => a.line - b.line)) {
      const why = checkLink(link.url, path, root);
      if (why) problems.push(`${relative(root, path).split(sep).join('/')}:${link.line}: ${link.url}: ${why}`);
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.length > 2 ? process.argv.slice(2) : defaultFiles();
  const problems = checkFiles(files);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`check-links: ${problems.length} broken link${problems.length === 1 ? '' : 's'} in ${files.length} files.`);
    process.exit(1);
  }
  console.log(`check-links: ${files.length} markdown files, every relative and repository link resolves.`);
}
