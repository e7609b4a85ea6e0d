import type { z } from 'zod';
import { didYouMean, oneOf } from './suggest.js';
import { port as portSchema } from './primitives.js';
import type { PathSegment, PointAt } from './locate.js';

// Turns one zod issue into plain words: what is wrong, the value we got, and what to do.
// Pure; positions are added by load.ts.

export interface RawIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  keys?: string[];
  values?: unknown[];
  options?: unknown[];
  expected?: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  /** A refinement may say what to do: `.refine(fn, { message, params: { fix: '…' } })`. */
  params?: { fix?: string; got?: string };
}

export interface Explained {
  path: PathSegment[];
  at: PointAt;
  message: string;
  got?: string;
  fix: string;
}

/** Field names that only ever hold a secret; their literal values are never echoed back. */
const SECRET_KEY = /passw(or)?d|passphrase|^pass$|secret|token|api[-_]?key|credential/i;

type AnySchema = z.ZodType & { def: Record<string, unknown> & { type: string } };

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (;;) {
    const t = cur.def.type;
    if (t === 'optional' || t === 'default' || t === 'prefault' || t === 'nullable' || t === 'readonly') cur = cur.def.innerType as AnySchema;
    else if (t === 'pipe') cur = cur.def.in as AnySchema;
    else return cur;
  }
}

function isPort(s: AnySchema): boolean {
  let cur: AnySchema | undefined = s;
  while (cur) {
    if ((cur as unknown) === portSchema) return true;
    cur = (cur.def.innerType as AnySchema | undefined) ?? undefined;
  }
  return false;
}

/** The schema of the field at `path` (following discriminated unions through the data), or undefined. */
export function schemaAt(root: z.ZodType, path: readonly PathSegment[], data: unknown): AnySchema | undefined {
  let s = root as AnySchema;
  let d = data;
  for (const seg of path) {
    let u = unwrap(s);
    if (u.def.type === 'union' && typeof u.def.discriminator === 'string') {
      const disc = u.def.discriminator;
      const value = (d as Record<string, unknown> | undefined)?.[disc];
      const match = (u.def.options as AnySchema[]).find((o) => {
        const lit = (o as unknown as { shape: Record<string, AnySchema> }).shape[disc];
        return (lit?.def.values as unknown[] | undefined)?.includes(value);
      });
      if (!match) return seg === disc ? u : undefined;
      u = match;
    }
    if (u.def.type === 'object') s = (u as unknown as { shape: Record<string, AnySchema> }).shape[String(seg)] as AnySchema;
    else if (u.def.type === 'array') s = u.def.element as AnySchema;
    else return undefined;
    if (!s) return undefined;
    d = (d as Record<string, unknown> | undefined)?.[seg as string];
  }
  return s;
}

/** The keys an object field allows (for did-you-mean), following the data through unions. */
function allowedKeys(root: z.ZodType, path: readonly PathSegment[], data: unknown): string[] {
  const s = schemaAt(root, path, data);
  if (!s) return [];
  let u = unwrap(s);
  if (u.def.type === 'union' && typeof u.def.discriminator === 'string') {
    const value = (dataAt(data, path) as Record<string, unknown> | undefined)?.[u.def.discriminator];
    u =
      (u.def.options as AnySchema[]).find((o) =>
        ((o as unknown as { shape: Record<string, AnySchema> }).shape[u.def.discriminator as string]?.def.values as unknown[] | undefined)?.includes(value),
      ) ?? u;
  }
  return u.def.type === 'object' ? Object.keys((u as unknown as { shape: object }).shape) : [];
}

/** Every schema path (list items as '[]') that ends in an object field named `key`. */
function keyPaths(root: z.ZodType, key: string, maxDepth = 6): string[][] {
  const out: string[][] = [];
  const walk = (s: AnySchema, at: string[]) => {
    if (at.length > maxDepth) return;
    const u = unwrap(s);
    if (u.def.type === 'union') for (const o of u.def.options as AnySchema[]) walk(o, at);
    else if (u.def.type === 'array') walk(u.def.element as AnySchema, [...at, '[]']);
    else if (u.def.type === 'object') {
      for (const [k, v] of Object.entries((u as unknown as { shape: Record<string, AnySchema> }).shape)) {
        if (k === key) out.push([...at, k]);
        walk(v, [...at, k]);
      }
    }
  };
  walk(root as AnySchema, []);
  return out;
}

/** Where an unknown key really belongs: below the object it was written in, else anywhere in the schema. */
function misplaced(root: z.ZodType, path: readonly PathSegment[], key: string): { rel: string; how: string } | undefined {
  const here = path.map((p) => (typeof p === 'number' ? '[]' : p));
  const isHere = (p: string[]) => p.length === here.length + 1 && here.every((seg, i) => p[i] === seg);
  const found = keyPaths(root, key).filter((p) => (p.length > 1 || here.length > 0) && !isHere(p));
  if (!found.length) return undefined;
  const below = found.filter((p) => p.length > here.length + 1 && here.every((seg, i) => p[i] === seg)).sort((a, b) => a.length - b.length)[0];
  if (below) {
    const rel = below.slice(here.length).filter((x) => x !== '[]');
    const parent = rel.slice(0, -1).join('.');
    return { rel: rel.join('.'), how: `(${key} goes under ${parent}: write ${parent}: { ${key}: … })` };
  }
  const best = found.sort((a, b) => a.length - b.length)[0];
  if (best === undefined) return undefined; // found is not empty (checked above)
  const full = best.join('.').replace(/\.\[\]/g, '[]');
  return {
    rel: full,
    how: `(${key} belongs under ${
      best
        .slice(0, -1)
        .join('.')
        .replace(/\.\[\]/g, '[]') || 'the top level'
    }, not ${here.length ? here.join('.').replace(/\.\[\]/g, '[]') : 'the top level'})`,
  };
}

/** Fields that moved, by their old path: where they live now and how to move them. */
const MOVED: Record<string, { to: string; how: string }> = {
  'drain.lifecycleHookName': {
    to: 'deploy.lifecycleHook.name',
    how: 'write the name as deploy.lifecycleHook.name (the one hook name: the roll creates or checks that hook and the drain agent completes it), or remove it to use sipbake-drain',
  },
};

function dataAt(data: unknown, path: readonly PathSegment[]): unknown {
  return path.reduce<unknown>((d, seg) => (d as Record<string, unknown> | null | undefined)?.[seg as string], data);
}

/** A value as shown after `got`. */
function printable(v: unknown, path: readonly PathSegment[] = []): string {
  const last = path[path.length - 1];
  if (typeof last === 'string' && SECRET_KEY.test(last) && typeof v === 'string') return 'a literal secret, not shown';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v !== null && typeof v === 'object') return 'a mapping';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}..."` : s;
}

function rangeText(s: AnySchema): { what: string; use: string } {
  const n = s as unknown as { minValue: number | null; maxValue: number | null; isInt: boolean };
  const kind = n.isInt ? 'an integer' : 'a number';
  const lo = n.minValue !== null && Number.isFinite(n.minValue) && Math.abs(n.minValue) < Number.MAX_SAFE_INTEGER ? n.minValue : undefined;
  const hi = n.maxValue !== null && Number.isFinite(n.maxValue) && Math.abs(n.maxValue) < Number.MAX_SAFE_INTEGER ? n.maxValue : undefined;
  const range =
    lo !== undefined && hi !== undefined ? ` from ${lo} to ${hi}` : lo !== undefined ? ` of at least ${lo}` : hi !== undefined ? ` of at most ${hi}` : '';
  const noun = isPort(s) ? 'a port number' : kind;
  return { what: `must be ${kind}${range}`, use: `use ${noun}${range}` };
}

/** What a value of this schema looks like, for "must be …" and "use …". */
function expectation(s: AnySchema | undefined): { what: string; use: string } {
  if (!s) return { what: 'has the wrong type', use: 'see the field reference in docs/definition.md' };
  const u = unwrap(s);
  switch (u.def.type) {
    case 'number':
      return rangeText(u);
    case 'string':
      return { what: 'must be a string', use: 'write text (quote it if it looks like a number or true/false)' };
    case 'boolean':
      return { what: 'must be true or false', use: 'write true or false, without quotes' };
    case 'object':
      return {
        what: 'must be a mapping of fields',
        use: 'write the fields on indented lines below the key, or as { key: value }',
      };
    case 'array':
      return { what: 'must be a list', use: 'write it as [a, b] or as "- item" lines' };
    case 'enum': {
      const opts = (u as unknown as { options: string[] }).options;
      return { what: `must be one of ${oneOf(opts)}`, use: `use one of ${oneOf(opts)}` };
    }
    case 'union': {
      const disc = u.def.discriminator as string | undefined;
      return disc
        ? {
            what: `must be a mapping with ${disc}: ${oneOf(discValues(u))}`,
            use: `start it with ${disc}: ${discValues(u)[0]}`,
          }
        : { what: 'has the wrong type', use: 'see the field reference in docs/definition.md' };
    }
    default:
      return { what: `must be a ${u.def.type}`, use: 'see the field reference in docs/definition.md' };
  }
}

function discValues(u: AnySchema): string[] {
  const disc = u.def.discriminator as string;
  return (u.def.options as AnySchema[]).flatMap((o) => ((o as unknown as { shape: Record<string, AnySchema> }).shape[disc]?.def.values as string[]) ?? []);
}

/** "use …" from a custom message "must be X" / "must look like X". */
function fixFromMessage(message: string): string {
  const be = /^must be (.*)$/.exec(message);
  if (be) return `use ${be[1]}`;
  const like = /^must look like (.*)$/.exec(message);
  if (like) return `write it like ${like[1]}`;
  return 'see the field reference in docs/definition.md';
}

export function explain(issue: RawIssue, root: z.ZodType, data: unknown): Explained[] {
  const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  const field = String(path[path.length - 1] ?? '(root)');
  const parent = path.slice(0, -1);
  const leaf = schemaAt(root, path, data);
  const got = printable(issue.input, path);

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(root, path, data);
      return (issue.keys ?? []).map((k) => {
        const at = [...path, k];
        const guess = didYouMean(k, allowed);
        const where = path.length ? path.join('.') : 'the top level';
        const old = MOVED[at.join('.')];
        if (old) return { path: at, at: 'key', message: `'${k}' moved to ${old.to}`, fix: old.how };
        // A real field written at the wrong level (weight beside host, rtpproxy: at the top level).
        const moved = SECRET_KEY.test(k) ? undefined : misplaced(root, path, k);
        if (moved)
          return {
            path: at,
            at: 'key',
            message: `'${k}' is not a field here`,
            fix: `did you mean '${moved.rel}'? ${moved.how}`,
          };
        if (guess) return { path: at, at: 'key', message: `unknown field '${k}'`, fix: `did you mean '${guess}'?` };
        if (SECRET_KEY.test(k)) {
          return {
            path: at,
            at: 'key',
            message: `unknown field '${k}' looks like a literal secret, and secrets never go into a definition (the file ends up in the AMI and in git)`,
            fix: 'remove it; a secret is named by reference, e.g. password: { source: ssm, name: /sipbake/IMAGE/db-password }, and read at boot',
          };
        }
        return {
          path: at,
          at: 'key',
          message: `unknown field '${k}'`,
          fix: `remove it; the fields allowed in ${where} are ${allowed.join(', ')}`,
        };
      });
    }
    case 'invalid_type': {
      if (issue.input === undefined) {
        const e = expectation(leaf);
        const under = parent.length ? `under ${parent.join('.')}` : 'at the top level';
        return [
          {
            path,
            at: 'nearest',
            message: `required field '${field}' is missing`,
            fix: `add '${field}:' ${under} (it ${e.what})`,
          },
        ];
      }
      if (SECRET_KEY.test(field) && typeof issue.input === 'string') {
        return [
          {
            path,
            at: 'value',
            message: 'must be a secret reference, not a literal secret',
            got,
            fix: `replace it with { source: ssm, name: /sipbake/IMAGE/${field} } (or source: secretsmanager); the value is read at boot and never enters the image`,
          },
        ];
      }
      const e = expectation(leaf);
      if (typeof issue.input === 'string' && unwrap(leaf ?? (root as AnySchema)).def.type === 'number' && /^-?\d+(\.\d+)?$/.test(issue.input.trim())) {
        return [{ path, at: 'value', message: `${e.what}, not a quoted string`, got, fix: 'remove the quotes' }];
      }
      if (typeof issue.input === 'string' && e.what === 'must be true or false') {
        return [
          {
            path,
            at: 'value',
            message: `${e.what}, and YAML reads "${issue.input}" as text`,
            got,
            fix: 'write true or false, without quotes',
          },
        ];
      }
      if (issue.input === null)
        return [
          {
            path,
            at: 'value',
            message: `is empty; it ${e.what}`,
            got: 'nothing',
            fix: `${e.use}, or remove the line to take the default`,
          },
        ];
      return [{ path, at: 'value', message: e.what, got, fix: e.use }];
    }
    case 'too_small':
    case 'too_big': {
      if (issue.origin === 'array') {
        return [
          {
            path,
            at: 'value',
            message:
              issue.code === 'too_small'
                ? `must list at least ${Number(issue.minimum)} item${Number(issue.minimum) === 1 ? '' : 's'}`
                : `must list at most ${Number(issue.maximum)} items`,
            got,
            fix: issue.code === 'too_small' ? 'add an entry' : 'remove entries',
          },
        ];
      }
      if (issue.origin === 'string') {
        return [
          {
            path,
            at: 'value',
            message:
              Number(issue.minimum) === 1
                ? 'must not be empty'
                : `must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${Number(issue.minimum ?? issue.maximum)} characters`,
            got,
            fix: 'write a value, or remove the line to take the default',
          },
        ];
      }
      const e = leaf ? expectation(leaf) : { what: issue.message, use: 'see the field reference in docs/definition.md' };
      return [{ path, at: 'value', message: e.what, got, fix: e.use }];
    }
    case 'invalid_value': {
      const values = (issue.values ?? []).map(String);
      const guess = typeof issue.input === 'string' ? didYouMean(issue.input, values) : undefined;
      // An enum may explain a tempting wrong value itself (e.g. tls.method: TLSv1.3).
      const why = /^Invalid/.test(issue.message) ? '' : `: ${issue.message}`;
      return [
        {
          path,
          at: 'value',
          message: `must be one of ${oneOf(values)}${why}`,
          got,
          fix: guess && !why ? `did you mean '${guess}'?` : `use one of ${oneOf(values)}`,
        },
      ];
    }
    case 'invalid_union': {
      const values = (issue.options ?? []).map(String);
      if (values.length) {
        const input = (issue.input as Record<string, unknown> | undefined)?.[field];
        const guess = typeof input === 'string' ? didYouMean(input, values) : undefined;
        if (input === undefined) {
          return [
            {
              path,
              at: 'nearest',
              message: `required field '${field}' is missing`,
              fix: `add ${field}: ${oneOf(values)} under ${parent.join('.')}`,
            },
          ];
        }
        return [
          {
            path,
            at: 'value',
            message: `must be one of ${oneOf(values)}`,
            got: printable(input, path),
            fix: guess ? `did you mean '${guess}'?` : `use one of ${oneOf(values)}`,
          },
        ];
      }
      return [
        {
          path,
          at: 'value',
          message: 'does not match any allowed form',
          got,
          fix: 'see the field reference in docs/definition.md',
        },
      ];
    }
    case 'invalid_format':
    case 'custom': {
      const custom = !/^Invalid/.test(issue.message);
      const pattern = (issue as { pattern?: string }).pattern;
      const message = custom ? issue.message : pattern ? `does not match the pattern ${pattern}` : 'has the wrong format';
      const fix =
        issue.params?.fix ??
        (custom
          ? fixFromMessage(issue.message)
          : `write it in the form the field reference (docs/definition.md) shows for ${path.filter((p) => typeof p === 'string').join('.')}`);
      return [{ path, at: 'value', message, got: issue.params?.got ?? got, fix }];
    }
    default:
      return [{ path, at: 'value', message: issue.message, got, fix: 'see the field reference in docs/definition.md' }];
  }
}
