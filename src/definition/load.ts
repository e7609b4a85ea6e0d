import { readFile, readdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, visit, isAlias } from 'yaml';
import { imageSchema, type ImageDefinition } from './schema.js';
import { UserError } from '../core/errors.js';
import { YamlLocator, type PathSegment, type PointAt } from './locate.js';
import { explain, type RawIssue } from './explain.js';
import { checkRules, checkWarnings, nameMismatch, type RuleIssue } from './rules.js';
import { decodeDefinition, bytePosition, flowTooDeep, keyPathAt, MAX_ALIAS_COUNT, MAX_DEFINITION_BYTES, MAX_NESTING, treeTooDeep } from './input-limits.js';

/** One thing wrong with a definition, positioned in its file. */
export interface DefinitionIssue {
  file: string; // as shown to the user, e.g. images/recorder-lb.yaml
  line: number;
  col: number;
  path: string; // dotted field path, e.g. dispatcher.destinations.0.port
  message: string; // what is wrong
  got?: string; // the offending value, printable
  fix: string; // what to do
  /** A YAML syntax error: the file does not parse, so no field path is meaningful (path is ''). */
  syntax?: true;
}

export type LoadResult =
  /** warnings: things that pass but deserve a look (e.g. a destination that is a DNS name). */
  { ok: true; file: string; image: ImageDefinition; source: string; warnings: DefinitionIssue[] } | { ok: false; file: string; issues: DefinitionIssue[] };

/** `images/NAME.yaml:LINE:COL FIELD.PATH: what is wrong (got VALUE); what to do` */
export function formatIssue(i: DefinitionIssue): string {
  const got = i.got === undefined ? '' : ` (got ${i.got})`;
  const where = i.syntax ? '' : ` ${i.path || '(root)'}`;
  return `${i.file}:${i.line}:${i.col}${where}: ${i.message}${got}; ${i.fix}`;
}

/** IMAGE is a name under images/ or a path to a YAML file. */
export function resolveImagePath(root: string, nameOrPath: string): string {
  if (isPathLike(nameOrPath)) {
    // A path: relative to the repository first, then to the current directory.
    const fromRoot = path.resolve(root, nameOrPath);
    return existsSync(fromRoot) ? fromRoot : path.resolve(nameOrPath);
  }
  return path.join(root, 'images', `${nameOrPath}.yaml`);
}

export async function listImages(root: string): Promise<string[]> {
  const dir = path.join(root, 'images');
  if (!existsSync(dir)) return [];
  return (await readdir(dir))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** What the user sees for a file: a path as they typed it; a bare name as images/NAME.yaml. */
function displayName(root: string, file: string, typed?: string): string {
  if (typed !== undefined && isPathLike(typed)) return typed;
  const rel = path.relative(root, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}

const isPathLike = (s: string): boolean => /\.(ya?ml|json)$/i.test(s) || s.includes('/') || s.includes(path.sep) || s === '.' || s === '..';

export interface LoadOptions {
  /** For a loopback run (render --local, check, try): TLS needs no certificate source, a throwaway pair is made. */
  local?: boolean;
}

export async function loadImage(root: string, nameOrPath: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const abs = resolveImagePath(root, nameOrPath);
  const file = displayName(root, abs, nameOrPath);
  const one = (message: string, fix: string, got?: string, pos = { line: 1, col: 1 }): LoadResult => ({
    ok: false,
    file,
    issues: [{ file, ...pos, path: '', message, ...(got === undefined ? {} : { got }), fix }],
  });
  let bytes: Buffer;
  try {
    const st = await stat(abs);
    if (st.isDirectory()) {
      const known = await listImages(abs);
      const hint = known.length
        ? `pass --root ${nameOrPath} and a name (${known.join(', ')}), or the file itself, e.g. ${path.join(nameOrPath, 'images', `${known[0]}.yaml`)}`
        : 'pass the definition file itself, e.g. images/NAME.yaml';
      return one('is a directory, not an image definition', hint, JSON.stringify(nameOrPath));
    }
    if (!st.isFile()) return one('is not a regular file', 'pass an image definition file (images/NAME.yaml) or its name', JSON.stringify(nameOrPath));
    // Checked before reading: a huge file must not be read into memory to be refused.
    if (st.size > MAX_DEFINITION_BYTES)
      return one(
        `is ${st.size.toLocaleString('en')} bytes; a definition may be at most ${MAX_DEFINITION_BYTES.toLocaleString('en')} bytes (64 KiB)`,
        'is this the right file? A definition is a few kilobytes of YAML (see images/recorder-lb.yaml)',
      );
    bytes = await readFile(abs);
  } catch {
    const known = await listImages(root);
    return {
      ok: false,
      file,
      issues: [
        {
          file,
          line: 1,
          col: 1,
          path: '',
          message: 'no such image definition',
          got: JSON.stringify(nameOrPath),
          fix: `create ${file}, or name one of: ${known.join(', ') || '(none under images/)'}`,
        },
      ],
    };
  }
  const decoded = decodeDefinition(bytes);
  if (!('text' in decoded)) {
    const pos = bytePosition(bytes, decoded.offset);
    // Name the field the bad byte sits in: parse a lossy decoding just to locate it.
    const lossy = decoded.offset > 0 ? new TextDecoder('utf-8').decode(bytes.subarray(0, Math.min(bytes.length, MAX_DEFINITION_BYTES))) : '';
    const at = lossy ? fieldAt(lossy, pos) : '';
    return { ok: false, file, issues: [{ file, ...pos, path: at, message: decoded.message, fix: decoded.fix }] };
  }
  return parseImage(decoded.text, file, expectedName(abs), opts);
}

/** The name a definition file must carry: its base name without .yaml/.yml. */
function expectedName(file: string): string {
  return path.basename(file).replace(/\.(ya?ml|json)$/i, '');
}

const dotted = (p: readonly PathSegment[]): string => p.join('.');

/** The dotted field path at a line and column of some YAML text ('' when none). */
function fieldAt(text: string, pos: { line: number; col: number }): string {
  try {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
    const lines = text.split('\n');
    const offset = lines.slice(0, pos.line - 1).reduce((n, l) => n + l.length + 1, 0) + pos.col - 1;
    return dotted(new YamlLocator(doc, lc).pathAt(offset));
  } catch {
    return '';
  }
}

/** Pure: YAML text to a validated definition or every issue found, each positioned in the file. */
/** More issues than anyone reads: the rest are summarised in one line. */
const MAX_ISSUES = 50;

export function parseImage(source: string, file: string, fileName = expectedName(file), opts: LoadOptions = {}): LoadResult {
  const fail = (issues: DefinitionIssue[]): LoadResult => {
    const next = issues[MAX_ISSUES];
    if (next === undefined) return { ok: false, file, issues }; // MAX_ISSUES or fewer
    const more = {
      file,
      line: next.line,
      col: next.col,
      path: next.path,
      message: `and ${issues.length - MAX_ISSUES} more issues from here on`,
      fix: 'fix the ones above and run validate again',
    };
    return { ok: false, file, issues: [...issues.slice(0, MAX_ISSUES), more] };
  };
  const lineOf = (offset: number) => {
    const before = source.slice(0, offset);
    const nl = before.lastIndexOf('\n');
    return { line: before.split('\n').length, col: offset - nl };
  };
  if (source.length > MAX_DEFINITION_BYTES) {
    return fail([
      {
        file,
        line: 1,
        col: 1,
        path: '',
        message: `is ${source.length.toLocaleString('en')} characters; a definition may be at most ${MAX_DEFINITION_BYTES.toLocaleString('en')} bytes (64 KiB)`,
        fix: 'is this the right file? A definition is a few kilobytes of YAML',
      },
    ]);
  }
  const tooDeep = (offset: number): LoadResult =>
    fail([
      {
        file,
        ...lineOf(offset),
        path: '',
        message: `nests deeper than ${MAX_NESTING} levels, and no field of a definition is more than 5 deep`,
        fix: 'check the brackets and indentation around this line; a definition is a few levels of mappings and lists',
      },
    ]);
  const flow = flowTooDeep(source);
  if (flow >= 0) return tooDeep(flow);

  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const where = new YamlLocator(doc, lc);

  if (doc.errors.length > 0) {
    const seen = new Set<string>();
    const issues: DefinitionIssue[] = [];
    for (const e of doc.errors) {
      const pos = lc.linePos(e.pos[0]);
      if (seen.has(`${pos.line}:${pos.col}`)) continue;
      seen.add(`${pos.line}:${pos.col}`);
      const p = dotted(where.pathAt(e.pos[0]));
      if (e.code === 'DUPLICATE_KEY') {
        // Named by the key that starts where the parser points, not by whatever value spans it.
        const keyPath = keyPathAt(doc, e.pos[0]) ?? where.pathAt(e.pos[0]);
        const key = String(keyPath[keyPath.length - 1] ?? source.slice(e.pos[0]).split(/[:\s]/)[0]);
        const first = where.has(keyPath) ? where.position(keyPath, 'key') : undefined;
        const under = keyPath.length > 1 ? ` under ${keyPath.slice(0, -1).join('.')}` : keyPath.length === 1 ? ' at the top level' : '';
        issues.push({
          file,
          ...pos,
          path: dotted(keyPath),
          message: `duplicate key '${key}'${under}${first && first.line !== pos.line ? ` (first at line ${first.line})` : ''}: YAML keeps only one of them`,
          fix: `remove one of the two '${key}:' sections, or merge them into one`,
        });
      } else if (/^Flow (map|sequence)/.test(e.message)) {
        // Reported where the parser gave up; point at the bracket that was never closed instead.
        const open = where.flowStartBefore(e.pos[0]) ?? pos;
        const kind = e.message.startsWith('Flow map') ? ['mapping', '{', '}'] : ['list', '[', ']'];
        issues.push({
          file,
          ...open,
          path: '',
          syntax: true,
          message: `YAML syntax error: the flow ${kind[0]} opened with ${kind[1]} here is not closed by ${kind[2]} (or a line inside it is not indented enough)`,
          fix: `close it with ${kind[2]}, or write it as indented lines`,
        });
      } else if (e.code === 'MISSING_CHAR' && /quote/.test(e.message) && p) {
        // An unclosed quote runs to the end of the file; point at where it opens.
        issues.push({
          file,
          ...where.position(where.pathAt(e.pos[0])),
          path: '',
          syntax: true,
          message: 'YAML syntax error: the quoted string that starts here is never closed',
          fix: 'add the closing quote at the end of the value',
        });
      } else {
        issues.push({
          file,
          ...pos,
          path: '',
          syntax: true,
          message: `YAML syntax error: ${e.message.replace(/\n[\s\S]*$/, '').replace(/;.*$/, '')}`,
          fix: 'fix the YAML at that line (check indentation, quotes and brackets just before it)',
        });
      }
    }
    return fail(issues);
  }

  const deep = treeTooDeep(doc);
  if (deep >= 0) return tooDeep(deep);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // yaml throws on alias expansion past the budget (a "billion laughs" bomb).
    let firstAlias = 0;
    visit(doc, {
      Alias: (_k, n) => {
        if (isAlias(n)) {
          firstAlias = n.range?.[0] ?? 0;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    return fail([
      {
        file,
        ...lineOf(firstAlias),
        path: dotted(where.pathAt(firstAlias)),
        message: `expands YAML aliases (*name) more than ${MAX_ALIAS_COUNT} times${e instanceof Error ? '' : ''}, which only an alias bomb does`,
        fix: 'write the values out, or use fewer aliases; a definition needs few, if any',
      },
    ]);
  }
  if (data === null || data === undefined) {
    return fail([
      {
        file,
        line: 1,
        col: 1,
        path: '',
        message: 'the file is empty',
        fix: `write a definition starting with name: ${expectedName(file)} (see images/recorder-lb.yaml)`,
      },
    ]);
  }
  const position = (p: readonly PathSegment[], at: PointAt = 'value') => where.position(p, at);

  const parsed = imageSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    // Only the issues that will be shown are explained and positioned (a huge list of bad values must stay fast).
    const raws = parsed.error.issues as unknown as RawIssue[];
    const issues = raws.slice(0, MAX_ISSUES + 1).flatMap((raw) =>
      explain(raw, imageSchema, data).map((x) => ({
        file,
        ...position(x.path, x.at),
        path: dotted(x.path),
        message: x.message,
        ...(x.got === undefined ? {} : { got: x.got }),
        fix: x.fix,
      })),
    );
    if (raws.length > MAX_ISSUES + 1) {
      const last = issues.at(-1);
      if (last !== undefined) issues.push(...Array.from({ length: raws.length - MAX_ISSUES - 1 }, () => last)); // counted, not shown: fail() summarises
    }
    // The name check does not depend on the rest of the file.
    const name = (data as { name?: unknown }).name;
    if (typeof name === 'string' && !issues.some((i) => i.path === 'name') && name !== fileName) {
      issues.unshift(nameIssue(file, fileName, name, position(['name'])));
    }
    return fail(issues);
  }

  const broken = checkRules(parsed.data, { fileName, raw: data, ...(opts.local ? { local: true } : {}) });
  if (broken.length > 0) {
    return fail(
      broken.map((r) => ({
        file,
        ...position(r.path, r.at ?? 'value'),
        path: dotted(r.path),
        message: r.message,
        ...(r.got === undefined ? {} : { got: r.got }),
        fix: r.fix,
      })),
    );
  }
  const warnings = checkWarnings(parsed.data).map((r: RuleIssue) => ({
    file,
    ...position(r.path, r.at ?? 'value'),
    path: dotted(r.path),
    message: r.message,
    ...(r.got === undefined ? {} : { got: r.got }),
    fix: r.fix,
  }));
  return { ok: true, file, image: parsed.data, source, warnings };
}

function nameIssue(file: string, want: string, name: string, pos: { line: number; col: number }): DefinitionIssue {
  return { file, ...pos, path: 'name', ...nameMismatch(want, name), got: JSON.stringify(name) };
}

/** Load or throw a UserError that lists every issue, one per line. */
export async function loadImageOrThrow(
  root: string,
  nameOrPath: string,
  opts: LoadOptions = {},
): Promise<{ file: string; image: ImageDefinition; source: string; warnings: DefinitionIssue[] }> {
  const r = await loadImage(root, nameOrPath, opts);
  if (!r.ok)
    throw new UserError(
      `${r.file} is not a valid image definition (${r.issues.length} issue${r.issues.length === 1 ? '' : 's'})`,
      'fix the lines above and run `sipbake validate` again',
      { details: r.issues.map(formatIssue) },
    );
  return r;
}
