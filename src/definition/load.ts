import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { imageSchema, type ImageDefinition } from './schema.js';
import { UserError } from '../core/errors.js';
import { YamlLocator, type PathSegment, type PointAt } from './locate.js';
import { explain, type RawIssue } from './explain.js';
import { checkRules, checkWarnings } from './rules.js';

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
  | { ok: true; file: string; image: ImageDefinition; source: string; warnings?: DefinitionIssue[] }
  | { ok: false; file: string; issues: DefinitionIssue[] };

/** `images/NAME.yaml:LINE:COL FIELD.PATH: what is wrong (got VALUE); what to do` */
export function formatIssue(i: DefinitionIssue): string {
  const got = i.got === undefined ? '' : ` (got ${i.got})`;
  return `${i.file}:${i.line}:${i.col} ${i.path || '(root)'}: ${i.message}${got}; ${i.fix}`;
}

/** IMAGE is a name under images/ or a path to a YAML file. */
export function resolveImagePath(root: string, nameOrPath: string): string {
  if (nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml') || nameOrPath.includes('/')) {
    // A path: relative to the repository first, then to the current directory.
    const fromRoot = path.resolve(root, nameOrPath);
    return existsSync(fromRoot) ? fromRoot : path.resolve(nameOrPath);
  }
  return path.join(root, 'images', `${nameOrPath}.yaml`);
}

export async function listImages(root: string): Promise<string[]> {
  const dir = path.join(root, 'images');
  if (!existsSync(dir)) return [];
  return (await readdir(dir)).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
}

function displayName(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}

export async function loadImage(root: string, nameOrPath: string): Promise<LoadResult> {
  const abs = resolveImagePath(root, nameOrPath);
  const file = displayName(root, abs);
  let source: string;
  try {
    source = await readFile(abs, 'utf8');
  } catch {
    const known = await listImages(root);
    return {
      ok: false,
      file,
      issues: [{ file, line: 1, col: 1, path: '', message: 'no such image definition', got: JSON.stringify(nameOrPath), fix: `create ${file}, or name one of: ${known.join(', ') || '(none under images/)'}` }],
    };
  }
  return parseImage(source, file);
}

/** The name a definition file must carry: its base name without .yaml/.yml. */
export function expectedName(file: string): string {
  return path.basename(file).replace(/\.ya?ml$/, '');
}

const dotted = (p: readonly PathSegment[]): string => p.join('.');

/** Pure: YAML text to a validated definition or every issue found, each positioned in the file. */
export function parseImage(source: string, file: string): LoadResult {
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const where = new YamlLocator(doc, lc);
  const fail = (issues: DefinitionIssue[]): LoadResult => ({ ok: false, file, issues });

  if (doc.errors.length > 0) {
    const seen = new Set<string>();
    const issues: DefinitionIssue[] = [];
    for (const e of doc.errors) {
      const pos = lc.linePos(e.pos[0]);
      if (seen.has(`${pos.line}:${pos.col}`)) continue;
      seen.add(`${pos.line}:${pos.col}`);
      const p = dotted(where.pathAt(e.pos[0]));
      if (e.code === 'DUPLICATE_KEY') {
        const key = p.split('.').pop() || source.slice(e.pos[0]).split(/[:\s]/)[0];
        issues.push({ file, ...pos, path: p, message: `duplicate key '${key}': YAML keeps only one of them`, fix: 'remove one of the two, or merge them' });
      } else if (/^Flow (map|sequence)/.test(e.message)) {
        // Reported where the parser gave up; point at the bracket that was never closed instead.
        const open = where.flowStartBefore(e.pos[0]) ?? pos;
        const kind = e.message.startsWith('Flow map') ? ['mapping', '{', '}'] : ['list', '[', ']'];
        issues.push({ file, ...open, path: p, message: `YAML syntax error: the flow ${kind[0]} opened with ${kind[1]} here is not closed by ${kind[2]} (or a line inside it is not indented enough)`, fix: `close it with ${kind[2]}, or write it as indented lines` });
      } else if (e.code === 'MISSING_CHAR' && /quote/.test(e.message) && p) {
        // An unclosed quote runs to the end of the file; point at where it opens.
        issues.push({ file, ...where.position(where.pathAt(e.pos[0])), path: p, message: 'YAML syntax error: the quoted string that starts here is never closed', fix: 'add the closing quote at the end of the value' });
      } else {
        issues.push({ file, ...pos, path: p, message: `YAML syntax error: ${e.message.split('\n')[0]!.replace(/;.*$/, '')}`, fix: 'fix the YAML at that line (check indentation, quotes and brackets just before it)' });
      }
    }
    return fail(issues);
  }

  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    return fail([{ file, line: 1, col: 1, path: '', message: 'the file is empty', fix: `write a definition starting with name: ${expectedName(file)} (see images/recorder-lb.yaml)` }]);
  }
  const position = (p: readonly PathSegment[], at: PointAt = 'value') => where.position(p, at);

  const parsed = imageSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const issues = (parsed.error.issues as unknown as RawIssue[]).flatMap((raw) =>
      explain(raw, imageSchema, data).map((x) => ({ file, ...position(x.path, x.at), path: dotted(x.path), message: x.message, ...(x.got === undefined ? {} : { got: x.got }), fix: x.fix })),
    );
    // The name check does not depend on the rest of the file.
    const name = (data as { name?: unknown }).name;
    if (typeof name === 'string' && !issues.some((i) => i.path === 'name') && name !== expectedName(file)) {
      issues.unshift(nameIssue(file, name, position(['name'])));
    }
    return fail(issues);
  }

  const broken = checkRules(parsed.data, { fileName: expectedName(file) });
  if (broken.length > 0) {
    return fail(broken.map((r) => ({ file, ...position(r.path, r.at ?? 'value'), path: dotted(r.path), message: r.message, ...(r.got === undefined ? {} : { got: r.got }), fix: r.fix })));
  }
  const warnings = checkWarnings(parsed.data).map((r) => ({ file, ...position(r.path, r.at ?? 'value'), path: dotted(r.path), message: r.message, ...(r.got === undefined ? {} : { got: r.got }), fix: r.fix }));
  return { ok: true, file, image: parsed.data, source, ...(warnings.length ? { warnings } : {}) };
}

function nameIssue(file: string, name: string, pos: { line: number; col: number }): DefinitionIssue {
  const want = expectedName(file);
  return { file, ...pos, path: 'name', message: `must equal the file name '${want}'`, got: JSON.stringify(name), fix: `set name: ${want}, or rename the file to images/${name}.yaml` };
}

/** Load or throw a UserError that lists every issue, one per line. */
export async function loadImageOrThrow(root: string, nameOrPath: string): Promise<{ file: string; image: ImageDefinition; source: string }> {
  const r = await loadImage(root, nameOrPath);
  if (!r.ok) throw new UserError(`${r.file} is not a valid image definition (${r.issues.length} issue${r.issues.length === 1 ? '' : 's'})`, 'fix the lines above and run `sipbake validate` again', { details: r.issues.map(formatIssue) });
  return r;
}
