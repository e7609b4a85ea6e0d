import { describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadImage } from '../../src/definition/load.js';
import { planImage } from '../../src/render/index.js';
import { imageSchema } from '../../src/definition/schema.js';
import { schemaAt } from '../../src/definition/explain.js';
import { repoRoot } from './fixtures.js';
import { BASES, stringPaths, type Seg } from './injection-matrix.js';

// A value the schema lets through must never crash render: every numeric field at its minimum and
// maximum (Number.MAX_SAFE_INTEGER where the schema sets none), and every string field at its
// longest, one at a time, in each base definition. Whatever validates must render.

function numberPaths(v: unknown, at: Seg[] = []): Seg[][] {
  if (typeof v === 'number') return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => numberPaths(x, [...at, i]));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => numberPaths(x, [...at, k]));
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
/** The innermost number/string schema (through optional, default and pipes). */
function leaf(s: unknown): { minValue?: number; maxValue?: number; maxLength?: number | null } | undefined {
  let cur = s as { def: Record<string, unknown> & { type: string } } | undefined;
  while (cur && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'pipe'].includes(cur.def.type))
    cur = (cur.def.innerType ?? cur.def.in) as typeof cur;
  return cur as never;
}

describe('render at the schema edges', () => {
  it('renders every definition that validates, with each field at its extremes', { timeout: 120_000 }, async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'sipbake-edge-'));
    const crashes: string[] = [];
    let rendered = 0;
    try {
      await mkdir(path.join(work, 'images'));
      for (const yamlText of Object.values(BASES)) {
        await writeFile(path.join(work, 'images', 'img.yaml'), yamlText);
        const base = await loadImage(work, 'img');
        if (!base.ok) throw new Error('base does not validate');
        const variants: [Seg[], unknown][] = [];
        for (const p of numberPaths(base.image)) {
          const s = leaf(schemaAt(imageSchema, p, base.image));
          const lo = Number.isFinite(s?.minValue) ? s!.minValue! : -Number.MAX_SAFE_INTEGER;
          const hi = Number.isFinite(s?.maxValue) ? s!.maxValue! : Number.MAX_SAFE_INTEGER;
          variants.push([p, Math.max(lo, -Number.MAX_SAFE_INTEGER)], [p, Math.min(hi, Number.MAX_SAFE_INTEGER)]);
        }
        for (const p of stringPaths(base.image)) {
          const s = leaf(schemaAt(imageSchema, p, base.image));
          const max = typeof s?.maxLength === 'number' ? s.maxLength : 4096;
          const v = getAt(base.image, p) as string;
          variants.push([p, v.padEnd(max, v.includes('.') ? 'a' : 'x')]);
        }
        for (const [p, value] of variants) {
          const data = structuredClone(base.image);
          setAt(data, p, value);
          await writeFile(path.join(work, 'images', 'img.yaml'), stringify(data, { lineWidth: 0 }));
          const r = await loadImage(work, 'img');
          if (!r.ok) continue;
          try {
            await planImage(repoRoot, r.image);
            rendered++;
          } catch (e) {
            crashes.push(`${p.join('.')} = ${JSON.stringify(value).slice(0, 40)}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
          }
        }
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    expect(crashes).toEqual([]);
    expect(rendered).toBeGreaterThan(100);
  });
});
