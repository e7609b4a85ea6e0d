import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { commentText, kamailioString, sqlLiteral } from '../../src/contract/escape.js';
import { parseDispatcherList } from './ds-list.js';

// The injection matrix (issue 11 item 5): every string field of a fully-defaulted definition ×
// hostile payloads. Each cell is either refused by validate at that field (file:line:field), or
// rendered so that every file differs from the clean render only by the value in its own
// language's escaped form, and the dispatcher list still holds exactly the intended rows. A cell
// that throws anything but a user error is a crash (exit 70). Shared by the fast test, the live
// test (kamailio -c, PostgreSQL) and the before/after count in the closing note.

export const PAYLOADS: Record<string, string> = {
  newline: '\n1 sip:attacker.example.com:5060 0 0',
  'CR LF': '\r\n1 sip:attacker.example.com:5060 0 0',
  quote: '"',
  backslash: '\\',
  semicolon: ';duid=x',
  equals: '=x',
  'hash-bang': '\n#!define SIPBAKE_X 1',
  'dollar-paren': '$(ru)',
  backtick: '`id`',
  percent: '%n',
  NUL: '\0',
  'non-UTF-8': '\uE000', // replaced by the byte 0xFF when the file is written
};
const NON_UTF8_MARK = Buffer.from('\uE000', 'utf8');

/** Definitions that between them carry every string field (defaults filled in by the schema). */
export const BASES: Record<string, string> = {
  'dispatcher-postgres': `name: img
description: recorders
listen: { udp: 5080, tcp: 5080, tls: 5081 }
dispatcher:
  algorithm: 10
  destinations:
    - { host: 10.0.0.3, port: 5060, transport: udp, attrs: { duid: rec0, maxload: 50, socket: "udp:10.0.0.10:5080" }, description: recorder0 }
    - { host: 10.0.0.4, port: 5080, transport: tcp, attrs: { duid: rec1, maxload: 50 }, description: recorder1 }
  backend: { type: postgres, host: db.example.com, database: kamailio, user: kamailio, password: { source: secretsmanager, name: sipbake/img/db, jsonKey: password } }
media:
  rtpproxy: { enabled: true }
antiflood:
  exempt: [10.0.0.0/8]
tls:
  enabled: true
  certificateSecret: { source: ssm, name: /sipbake/img/tls-cert }
  privateKeySecret: { source: ssm, name: /sipbake/img/tls-key, jsonKey: key }
bake:
  subnetId: subnet-0abc123
  vpcId: vpc-0abc123
  amiRegions: [eu-west-1]
  amiUsers: ["123456789012"]
`,
  relay: `name: img
listen: { udp: 5060 }
advertise: { source: elastic-ip, elasticIp: 44.199.36.104 }
relay:
  destination: { domain: sip.example.com }
deploy:
  region: us-east-1
  asgName: kamailio-asg
  targetGroupArns: [arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef]
  refresh: { checkpointPercentages: [50, 100], alarms: [sipbake-5xx] }
`,
  'dispatcher-file': `name: img
listen: { udp: 5080 }
dispatcher:
  algorithm: 10
  destinations:
    - { host: 10.0.0.3, transport: udp, attrs: { duid: rec0 }, description: recorder0 }
    - { host: 10.0.0.4, transport: udp, attrs: { duid: rec1 }, description: recorder1 }
`,
};

export type Seg = string | number;
export interface Cell {
  base: string;
  path: Seg[];
  payload: string;
  value: string;
  outcome: 'refused' | 'refused-elsewhere' | 'render-refused' | 'crash' | 'escaped' | 'injected';
  detail: string;
  /** Accepted cells: the rendered files (path → text), for the live checks. */
  files?: Map<string, string>;
  image?: unknown;
  /** Accepted cells: the definition as written, and the files whose text differs from the clean render. */
  yaml?: Buffer;
  changed?: string[];
}

export interface Deps {
  loadImage: (root: string, name: string) => Promise<{ ok: true; image: unknown } | { ok: false; issues: { path: string; line: number; file: string }[] }>;
  planImage: (root: string, image: never) => Promise<{ files: { path: string; content: string }[] }>;
  isUserError: (e: unknown) => boolean;
  /** A root holding templates/ (the repository). */
  repoRoot: string;
}

/** Every string leaf of a value, as paths (list items included). */
export function stringPaths(v: unknown, at: Seg[] = []): Seg[][] {
  if (typeof v === 'string') return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => stringPaths(x, [...at, i]));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => stringPaths(x, [...at, k]));
  return [];
}

function setAt(obj: unknown, p: Seg[], value: unknown): void {
  let o = obj as Record<string | number, unknown>;
  for (const seg of p.slice(0, -1)) o = o[seg] as Record<string | number, unknown>;
  o[p[p.length - 1]!] = value;
}
function getAt(obj: unknown, p: Seg[]): unknown {
  return p.reduce<unknown>((o, seg) => (o as Record<string | number, unknown>)[seg], obj);
}

/** The same text with every occurrence of `a` replaced by `b`. */
const swap = (text: string, a: string, b: string): string => (a === b || a === '' ? text : text.split(a).join(b));

/**
 * Whether `got` differs from `clean` only by `value` written in the file's own escaped form.
 * The manifest is JSON (JSON.stringify); the rest by their escapers; a list comment by commentText.
 */
function containedIn(file: string, got: string, clean: string, value: string, original: string): boolean {
  try {
    return containedOrThrow(file, got, clean, value, original);
  } catch {
    return got === clean; // the value has no escaped form there: it must not appear at all
  }
}
function containedOrThrow(file: string, got: string, clean: string, value: string, original: string): boolean {
  if (file.endsWith('.json')) return swap(got, JSON.stringify(value).slice(1, -1), JSON.stringify(original).slice(1, -1)) === clean;
  if (file.endsWith('kamailio.cfg')) return swap(got, kamailioString(value), kamailioString(original)) === clean;
  if (file.endsWith('.sql'))
    return swap(swap(got, sqlLiteral(value), sqlLiteral(original)), `-- ${commentText(value)}`, `-- ${commentText(original)}`) === clean;
  if (file.endsWith('dispatcher.list')) return swap(got, `# ${commentText(value)}`, `# ${commentText(original)}`) === clean;
  return got === clean;
}

export async function runMatrix(deps: Deps, only?: { bases?: string[]; payloads?: string[] }): Promise<Cell[]> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'sipbake-inject-'));
  const cells: Cell[] = [];
  const done = new Set<string>();
  try {
    await mkdir(path.join(work, 'images'));
    for (const [baseName, yamlText] of Object.entries(BASES)) {
      if (only?.bases && !only.bases.includes(baseName)) continue;
      await writeFile(path.join(work, 'images', 'img.yaml'), yamlText);
      const base = await deps.loadImage(work, 'img');
      if (!base.ok) throw new Error(`base ${baseName} does not validate: ${JSON.stringify(base.issues)}`);
      const clean = new Map((await deps.planImage(deps.repoRoot, base.image as never)).files.map((f) => [f.path, f.content]));
      const cleanRows = clean.has('etc/kamailio/dispatcher.list') ? parseDispatcherList(clean.get('etc/kamailio/dispatcher.list')!) : undefined;
      for (const p of stringPaths(base.image)) {
        const key = p.map((s) => (typeof s === 'number' ? '[]' : s)).join('.');
        // Each field once, except the dispatcher's, which render differently per backend.
        const k = p[0] === 'dispatcher' ? `${baseName}:${key}` : key;
        if (done.has(k)) continue;
        done.add(k);
        const original = getAt(base.image, p) as string;
        for (const [pname, payload] of Object.entries(PAYLOADS)) {
          if (only?.payloads && !only.payloads.includes(pname)) continue;
          const data = structuredClone(base.image);
          const value = original + payload;
          setAt(data, p, value);
          let bytes = Buffer.from(stringify(data, { lineWidth: 0 }), 'utf8');
          if (pname === 'non-UTF-8') {
            const at = bytes.indexOf(NON_UTF8_MARK);
            bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at + NON_UTF8_MARK.length)]);
          }
          await writeFile(path.join(work, 'images', 'img.yaml'), bytes);
          const cell: Cell = { base: baseName, path: p, payload: pname, value, outcome: 'escaped', detail: '' };
          cells.push(cell);
          let r: Awaited<ReturnType<Deps['loadImage']>>;
          try {
            r = await deps.loadImage(work, 'img');
          } catch (e) {
            cell.outcome = deps.isUserError(e) ? 'refused-elsewhere' : 'crash';
            cell.detail = String(e);
            continue;
          }
          if (!r.ok) {
            const dotted = p.join('.');
            const at = r.issues.find((i) => i.path === dotted || dotted.startsWith(`${i.path}.`) || i.path.startsWith(`${dotted}.`));
            cell.outcome = at ? 'refused' : 'refused-elsewhere';
            cell.detail = r.issues.map((i) => `${i.file}:${i.line} ${i.path}`).join('; ');
            continue;
          }
          let files: Map<string, string>;
          try {
            files = new Map((await deps.planImage(deps.repoRoot, r.image as never)).files.map((f) => [f.path, f.content]));
          } catch (e) {
            cell.outcome = deps.isUserError(e) ? 'render-refused' : 'crash';
            cell.detail = e instanceof Error ? e.message : String(e);
            continue;
          }
          cell.files = files;
          cell.image = r.image;
          cell.yaml = bytes;
          cell.changed = [...files].filter(([f, text]) => clean.get(f) !== text).map(([f]) => f);
          const leaked = [...files]
            .filter(([f, text]) => f !== 'usr/local/lib/sipbake/agent.mjs' && !containedIn(f, text, clean.get(f) ?? '', value, original))
            .map(([f]) => f);
          const list = files.get('etc/kamailio/dispatcher.list');
          let rowsOk = true;
          if (list !== undefined && cleanRows) {
            try {
              rowsOk = JSON.stringify(parseDispatcherList(list)) === JSON.stringify(cleanRows);
            } catch {
              rowsOk = false;
            }
          }
          if (leaked.length || !rowsOk) {
            cell.outcome = 'injected';
            cell.detail = `${leaked.join(', ')}${rowsOk ? '' : ' (dispatcher rows changed)'}`;
          }
        }
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return cells;
}

export function summarise(cells: Cell[]): Record<Cell['outcome'], number> & { fields: number; cells: number } {
  const out = {
    refused: 0,
    'refused-elsewhere': 0,
    'render-refused': 0,
    crash: 0,
    escaped: 0,
    injected: 0,
    fields: 0,
    cells: cells.length,
  };
  for (const c of cells) out[c.outcome]++;
  out.fields = new Set(cells.map((c) => `${c.base}:${c.path.join('.')}`)).size;
  return out;
}
