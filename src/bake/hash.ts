// The content hash: what the AMI is made of. Equal hash, equal image: the build is skipped.
// Parts are hashed separately so `--plan` can say which of them changed since the last AMI.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ImageDefinition } from '../definition/schema.js';

const PART_NAMES = ['definition', 'tree', 'scripts', 'pins', 'template'] as const;
export type PartName = (typeof PART_NAMES)[number];
export type ContentParts = Record<PartName, string>;

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** JSON with sorted keys, so the hash does not depend on key order. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** What in the definition shapes the image: not where it is built or deployed, except the architecture. */
function definitionForHash(image: ImageDefinition): unknown {
  const { deploy: _deploy, bake, ...rest } = image as ImageDefinition & { deploy?: unknown };
  return { ...rest, bake: { architecture: bake.architecture } };
}

/** sha256 over (relative path, executable bit, content sha256) of every file under `dir`, sorted by path. */
async function hashDir(dir: string, skip: (rel: string) => boolean = () => false): Promise<string> {
  const entries: string[] = [];
  async function walk(rel: string): Promise<void> {
    for (const d of (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (skip(r)) continue;
      if (d.isDirectory()) await walk(r);
      else if (d.isFile()) {
        const full = path.join(dir, r);
        const exec = ((await stat(full)).mode & 0o111) !== 0 ? 'x' : '-';
        entries.push(`${r}\t${exec}\t${sha256(await readFile(full))}`);
      }
    }
  }
  await walk('');
  return sha256(entries.sort().join('\n'));
}

export interface HashInputs {
  image: ImageDefinition;
  treeDir: string;
  scriptsDir: string;
  template: string;
  plugins: string;
}

export async function contentParts(i: HashInputs): Promise<ContentParts> {
  return {
    definition: sha256(stableJson(definitionForHash(i.image))),
    tree: await hashDir(i.treeDir),
    scripts: await hashDir(i.scriptsDir, (rel) => rel === 'pins.env'),
    pins: sha256(await readFile(path.join(i.scriptsDir, 'pins.env'))),
    template: sha256(`${i.template}\0${i.plugins}`),
  };
}

/** The content hash: sha256 over the parts, in a fixed order. */
export function combineParts(p: ContentParts): string {
  return sha256(PART_NAMES.map((n) => `${n}=${p[n]}`).join('\n'));
}

/** The sipbake:content-parts tag: `definition=<12 hex> tree=<12 hex> ...` (fits a 256-character tag value). */
export function partsTag(p: ContentParts): string {
  return PART_NAMES.map((n) => `${n}=${p[n].slice(0, 12)}`).join(' ');
}

function parsePartsTag(tag: string | undefined): Partial<Record<PartName, string>> {
  const out: Partial<Record<PartName, string>> = {};
  for (const kv of (tag ?? '').split(/\s+/)) {
    const [k, v] = kv.split('=');
    if (k && v && (PART_NAMES as readonly string[]).includes(k)) out[k as PartName] = v;
  }
  return out;
}

/** Which parts differ from an earlier AMI's sipbake:content-parts tag (unknown when it has none). */
export function changedParts(current: ContentParts, previousTag: string | undefined): PartName[] | 'unknown' {
  const prev = parsePartsTag(previousTag);
  if (Object.keys(prev).length === 0) return 'unknown';
  return PART_NAMES.filter((n) => prev[n] !== current[n].slice(0, 12));
}
