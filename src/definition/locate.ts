import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter } from 'yaml';

// Maps a field path (['dispatcher', 'destinations', 0, 'port']) to a line and column in the YAML
// source, and an offset back to a field path. Pure; used for schema issues, rules and YAML errors.

export type PathSegment = string | number;
export interface Position {
  line: number;
  col: number;
}
/** value: the offending value; key: the key itself (unknown fields); nearest: the deepest part that exists. */
export type PointAt = 'value' | 'key' | 'nearest';

type Ranged = { range?: [number, number, number] | null };
const start = (n: unknown): number | undefined => (n as Ranged | null | undefined)?.range?.[0];
const end = (n: unknown): number | undefined => (n as Ranged | null | undefined)?.range?.[2];

function deref(doc: Document, n: unknown): unknown {
  return isAlias(n) ? n.resolve(doc) : n;
}

function keyText(k: unknown): string | undefined {
  return isScalar(k) ? String(k.value) : undefined;
}

export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
  ) {}

  /** Line/col of a field. When the path does not exist in the file (a default), the deepest part that does. */
  position(path: readonly PathSegment[], at: PointAt = 'value'): Position {
    let node: unknown = deref(this.doc, this.doc.contents);
    let offset = start(node) ?? 0;
    for (const [i, seg] of path.entries()) {
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
        if (!pair) {
          break;
        }
        const keyAt = start(pair.key) ?? offset;
        const value = deref(this.doc, pair.value);
        const valueAt = isScalar(value) && value.value === null && !(value.source ?? '').length ? keyAt : (start(value) ?? keyAt);
        offset = last && at !== 'key' ? valueAt : keyAt;
        node = value;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        const item = deref(this.doc, node.items[seg]);
        offset = start(item) ?? offset;
        node = item;
      } else {
        break;
      }
    }
    return this.lc.linePos(offset);
  }

  /** Whether every segment of the path is written in the file. */
  has(path: readonly PathSegment[]): boolean {
    let node: unknown = deref(this.doc, this.doc.contents);
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
        if (!pair) return false;
        node = deref(this.doc, pair.value);
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        node = deref(this.doc, node.items[seg]);
      } else return false;
    }
    return true;
  }

  /** The field path of the deepest node that contains a source offset (for YAML errors). */
  pathAt(offset: number): PathSegment[] {
    const out: PathSegment[] = [];
    let node: unknown = this.doc.contents;
    for (;;) {
      if (isMap(node)) {
        const pair = node.items.find((p) => {
          const s = start(p.key) ?? start(p.value);
          const e = end(p.value) ?? end(p.key);
          return s !== undefined && e !== undefined && s <= offset && offset <= e;
        });
        const k = pair && keyText(pair.key);
        if (!pair || k === undefined) return out;
        out.push(k);
        node = pair.value;
      } else if (isSeq(node)) {
        const idx = node.items.findIndex((it) => {
          const s = start(it);
          const e = end(it);
          return s !== undefined && e !== undefined && s <= offset && offset <= e;
        });
        if (idx < 0) return out;
        out.push(idx);
        node = node.items[idx];
      } else return out;
    }
  }

  /** Start of the innermost flow collection ({…} or […]) on the way to an offset, for unclosed-bracket errors. */
  flowStartBefore(offset: number): Position | undefined {
    let found: number | undefined;
    let node: unknown = this.doc.contents;
    const contains = (n: unknown) => {
      const s = start(n);
      const e = end(n);
      return s !== undefined && e !== undefined && s <= offset && offset <= e;
    };
    while (node && (isMap(node) || isSeq(node))) {
      if (node.flow) found = start(node);
      const items: unknown[] = node.items;
      const next: unknown = isMap(node) ? node.items.find((p) => contains(p.value))?.value : items.find(contains);
      node = next;
    }
    return found === undefined ? undefined : this.lc.linePos(found);
  }

  linePos(offset: number): Position {
    return this.lc.linePos(offset);
  }
}
