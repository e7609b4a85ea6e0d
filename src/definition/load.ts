import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, isPair, type Document } from 'yaml';
import { imageSchema, type ImageDefinition } from './schema.js';
import { UserError } from '../cli/errors.js';

/** One thing wrong with a definition, positioned in its file. */
export interface DefinitionIssue {
  file: string; // as shown to the user, e.g. images/recorder-lb.yaml
  line: number;
  col: number;
  path: string; // dotted field path, e.g. dispatcher.destinations.0.port
  message: string; // what is wrong
  got?: string; // the offending value, printable
  fix: string; // what to do
}

export type LoadResult =
  | { ok: true; file: string; image: ImageDefinition; source: string }
  | { ok: false; file: string; issues: DefinitionIssue[] };

/** `images/NAME.yaml:LINE:COL FIELD.PATH: what is wrong (got VALUE); what to do` */
export function formatIssue(i: DefinitionIssue): string {
  const got = i.got === undefined ? '' : ` (got ${i.got})`;
  return `${i.file}:${i.line}:${i.col} ${i.path || '(root)'}: ${i.message}${got}; ${i.fix}`;
}

/** IMAGE is a name under images/ or a path to a YAML file. */
export function resolveImagePath(root: string, nameOrPath: string): string {
  if (nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml') || nameOrPath.includes('/')) return path.resolve(nameOrPath);
  return path.join(root, 'images', `${nameOrPath}.yaml`);
}

export async function listImages(root: string): Promise<string[]> {
  const dir = path.join(root, 'images');
  if (!existsSync(dir)) return [];
  return (await readdir(dir)).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
}

function displayName(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel.startsWith('..') ? file : rel;
}

export async function loadImage(root: string, nameOrPath: string): Promise<LoadResult> {
  const abs = resolveImagePath(root, nameOrPath);
  const file = displayName(root, abs);
  let source: string;
  try {
    source = await readFile(abs, 'utf8');
  } catch {
    return {
      ok: false,
      file,
      issues: [{ file, line: 1, col: 1, path: '', message: 'no such image definition', got: nameOrPath, fix: `create ${file}, or pick one of: ${(await listImages(root)).join(', ') || '(none)'}` }],
    };
  }
  return parseImage(source, file);
}

/** Pure: YAML text to a validated definition or every issue found. */
export function parseImage(source: string, file: string): LoadResult {
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      file,
      issues: doc.errors.map((e) => {
        const pos = lc.linePos(e.pos[0]);
        return { file, line: pos.line, col: pos.col, path: '', message: `YAML syntax error: ${e.message.split('\n')[0]}`, fix: 'fix the YAML syntax at that position' };
      }),
    };
  }
  const data: unknown = doc.toJS();
  const parsed = imageSchema.safeParse(data);
  if (!parsed.success) {
    return { ok: false, file, issues: parsed.error.issues.map((i) => zodIssue(i, doc, lc, file)) };
  }
  return { ok: true, file, image: parsed.data, source };
}

function positionOf(doc: Document, lc: LineCounter, p: readonly PropertyKey[], key = false): { line: number; col: number } {
  // Walk as far down the path as the document goes; point at the key when asked.
  let node: unknown = doc.contents;
  let offset = 0;
  for (const seg of p) {
    if (!isMap(node) && !(node && typeof node === 'object' && 'items' in node)) break;
    const coll = node as { items: unknown[]; range?: [number, number, number] };
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair || !isPair(pair)) break;
      offset = key && seg === p[p.length - 1] ? ((pair.key as { range?: number[] }).range?.[0] ?? offset) : ((pair.value as { range?: number[] } | null)?.range?.[0] ?? (pair.key as { range?: number[] }).range?.[0] ?? offset);
      next = pair.value;
    } else {
      next = coll.items[Number(seg)];
      offset = (next as { range?: number[] } | undefined)?.range?.[0] ?? offset;
    }
    node = next;
  }
  if (offset === 0 && (doc.contents as { range?: number[] } | null)?.range) offset = (doc.contents as { range: number[] }).range[0] ?? 0;
  return lc.linePos(offset);
}

function zodIssue(i: { code: string; path: PropertyKey[]; message: string; keys?: string[]; input?: unknown }, doc: Document, lc: LineCounter, file: string): DefinitionIssue {
  const p = i.path;
  if (i.code === 'unrecognized_keys' && i.keys?.length) {
    const k = i.keys[0]!;
    const pos = positionOf(doc, lc, [...p, k], true);
    return { file, ...pos, path: [...p, k].join('.'), message: 'unknown field', got: k, fix: 'remove it, or check the field reference in the README' };
  }
  const pos = positionOf(doc, lc, p);
  const got = i.input === undefined ? 'nothing' : JSON.stringify(i.input);
  return { file, ...pos, path: p.join('.'), message: i.message, got, fix: 'see the field reference in the README' };
}

/** Load or throw a UserError that lists every issue, one per line. */
export async function loadImageOrThrow(root: string, nameOrPath: string): Promise<{ file: string; image: ImageDefinition; source: string }> {
  const r = await loadImage(root, nameOrPath);
  if (!r.ok) throw new UserError(`${r.file} is not a valid image definition (${r.issues.length} issue${r.issues.length === 1 ? '' : 's'})`, 'fix the lines above and run `sipbake validate` again', { details: r.issues.map(formatIssue) });
  return r;
}
