import { isMap, isPair, isScalar, isSeq, type Document } from 'yaml';
import type { PathSegment } from './locate.js';

// What a definition file may be before it is parsed at all: small, UTF-8, shallow, and without
// alias bombs. Each check is linear in the input and answers well under a second (bench/definition.json: the
// worst cases in test/definition/limits.test.ts). Pure.

/** The largest definition read. The seeds are about 2 KiB; 64 KiB is thirty times the largest seed, and small enough that the largest accepted file validates well under a second (bench/definition.json). */
export const MAX_DEFINITION_BYTES = 64 * 1024;
/** The deepest nesting the schema can use is 5 (dispatcher.destinations[i].attrs.weight); leave room for mistakes. */
export const MAX_NESTING = 16;
/** Alias expansions a definition may make (yaml's toJS maxAliasCount). Definitions need few, if any. */
export const MAX_ALIAS_COUNT = 50;

export interface InputProblem {
  offset: number;
  message: string;
  fix: string;
}

/** Line and column (1-based) of a byte offset in raw bytes, counting UTF-8 characters where they decode. */
export function bytePosition(buf: Uint8Array, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  const col = new TextDecoder('utf-8').decode(buf.subarray(lineStart, offset)).length + 1;
  return { line, col };
}

/** The first offset that is not well-formed UTF-8, or -1. */
function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  for (let b = buf[i]; b !== undefined; b = buf[i]) {
    let n = 0;
    let min = 0;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [n, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [n, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    if (i + n >= buf.length) return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** Size and encoding: the file's text, or why it cannot be read as a definition. */
export function decodeDefinition(buf: Uint8Array): { text: string } | InputProblem {
  if (buf.length > MAX_DEFINITION_BYTES) {
    return {
      offset: 0,
      message: `is ${buf.length.toLocaleString('en')} bytes; a definition may be at most ${MAX_DEFINITION_BYTES.toLocaleString('en')} bytes (64 KiB)`,
      fix: 'is this the right file? A definition is a few kilobytes of YAML (see images/recorder-lb.yaml)',
    };
  }
  const utf16 = (buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff);
  // UTF-16 without a byte-order mark: ASCII text with a NUL beside every character.
  const nulPairs = buf.length >= 4 && ((buf[1] === 0 && buf[3] === 0) || (buf[0] === 0 && buf[2] === 0));
  if (utf16 || nulPairs) {
    return {
      offset: 0,
      message: 'is encoded as UTF-16, and definitions are read as UTF-8',
      fix: 'save the file as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8 FILE > FILE.new, or "UTF-8" in your editor\'s encoding menu)',
    };
  }
  const bad = firstInvalidUtf8(buf);
  const badByte = buf[bad]; // undefined when bad is -1 (all well-formed)
  if (badByte !== undefined) {
    const hex = `0x${badByte.toString(16).toUpperCase().padStart(2, '0')}`;
    return {
      offset: bad,
      message: `byte ${hex} here is not UTF-8 (the file looks saved as Latin-1 or Windows-1252)`,
      fix: 'save the file as UTF-8 (e.g. iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE.new), or replace that character with plain ASCII',
    };
  }
  const text = new TextDecoder('utf-8').decode(buf); // drops a UTF-8 byte-order mark
  const nul = text.indexOf('\0');
  if (nul >= 0)
    return {
      offset: Buffer.byteLength(text.slice(0, nul)),
      message: 'holds a NUL byte, which no definition contains',
      fix: 'is this a binary file? Save the definition as plain UTF-8 text',
    };
  return { text };
}

/**
 * Nesting of flow collections ([…] and {…}), scanned before parsing: a deep bracket pyramid makes
 * the YAML parser itself slow (seconds per megabyte). Quoted strings and comments are skipped.
 * Returns the offset where the nesting passes `max`, or -1.
 */
export function flowTooDeep(text: string, max = MAX_NESTING): number {
  let depth = 0;
  let quote: string | undefined;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (comment) {
      if (c === '\n') comment = false;
      continue;
    }
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") {
      // Only a quote that starts a scalar opens a string (not an apostrophe inside a plain word).
      const prev = text[i - 1];
      if (prev === undefined || /[\s[{,:]/.test(prev)) quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(text.charAt(i - 1)))) comment = true;
    else if (c === '[' || c === '{') {
      if (++depth > max) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return -1;
}

/** The first node nested deeper than `max` in a parsed document (block or flow), as a source offset; or -1. */
export function treeTooDeep(doc: Document, max = MAX_NESTING): number {
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 0 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { node, depth } = top;
    if (!(isMap(node) || isSeq(node))) continue;
    if (depth >= max) return (node as { range?: [number, number, number] }).range?.[0] ?? 0;
    for (const it of node.items as unknown[]) {
      if (isPair(it)) stack.push({ node: it.value, depth: depth + 1 }, { node: it.key, depth: depth + 1 });
      else stack.push({ node: it, depth: depth + 1 });
    }
  }
  return -1;
}

/** The full path of the key that starts at `offset` (a duplicate key the parser reported), or undefined. */
export function keyPathAt(doc: Document, offset: number): PathSegment[] | undefined {
  const walk = (node: unknown, path: PathSegment[]): PathSegment[] | undefined => {
    if (isMap(node)) {
      for (const p of node.items) {
        const k = isScalar(p.key) ? String(p.key.value) : undefined;
        if (k === undefined) continue;
        if ((p.key as { range?: [number, number, number] }).range?.[0] === offset) return [...path, k];
        const r = (p.value as { range?: [number, number, number] } | null)?.range;
        if (r && r[0] <= offset && offset <= r[2]) {
          const found = walk(p.value, [...path, k]);
          if (found) return found;
        }
      }
    } else if (isSeq(node)) {
      for (const [i, it] of node.items.entries()) {
        const r = (it as { range?: [number, number, number] } | null)?.range;
        if (r && r[0] <= offset && offset <= r[2]) return walk(it, [...path, i]);
      }
    }
    return undefined;
  };
  return walk(doc.contents, []);
}
