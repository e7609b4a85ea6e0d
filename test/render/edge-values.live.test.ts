import { afterAll, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadImage } from '../../src/definition/load.js';
import { planImage, renderImage } from '../../src/render/index.js';
import { repoRoot } from './fixtures.js';
import { kamailioCheck } from '../../src/check/kamailio-check.js';
import { imageSchema } from '../../src/definition/schema.js';
import { schemaAt } from '../../src/definition/explain.js';
import { BASES, type Seg } from './injection-matrix.js';

// Every numeric field at the schema's own minimum and maximum, one at a time: what validates must
// also pass `kamailio -c` (found: ipbanExpire at 2^53 broke htable's parser; it is now capped).

let work: string | undefined;
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function numberPaths(v: unknown, at: Seg[] = []): Seg[][] {
  if (typeof v === 'number') return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => numberPaths(x, [...at, i]));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => numberPaths(x, [...at, k]));
  return [];
}
function leaf(s: unknown): { minValue: number; maxValue: number } {
  let c = s as { def: Record<string, unknown> & { type: string } };
  while (['optional', 'default', 'prefault', 'nullable', 'readonly', 'pipe'].includes(c.def.type)) c = (c.def.innerType ?? c.def.in) as typeof c;
  return c as never;
}

it('kamailio -c accepts every numeric field at its minimum and maximum', { timeout: 170_000 }, async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sipbake-edge-live-'));
  await mkdir(path.join(work, 'images'));
  const failed: string[] = [];
  let checked = 0;
  for (const b of ['dispatcher-file', 'relay']) {
    await writeFile(path.join(work, 'images', 'img.yaml'), BASES[b]!);
    const base = await loadImage(work, 'img');
    if (!base.ok) throw new Error(`base ${b} does not validate`);
    // Only variants that change what Kamailio reads need kamailio -c.
    const kamFiles = async (image: unknown) =>
      (await planImage(repoRoot, image as never)).files
        .filter((f) => f.path.startsWith('etc/kamailio/'))
        .map((f) => f.content)
        .join('\0');
    const clean = await kamFiles(base.image);
    for (const p of numberPaths(base.image)) {
      const s = leaf(schemaAt(imageSchema, p, base.image));
      for (const v of new Set([s.minValue, s.maxValue].map((x) => Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, x))))) {
        const d = structuredClone(base.image) as Record<string, unknown>;
        let o = d as Record<string | number, unknown>;
        for (const seg of p.slice(0, -1)) o = o[seg] as Record<string | number, unknown>;
        o[p[p.length - 1]!] = v;
        await writeFile(path.join(work, 'images', 'img.yaml'), stringify(d));
        const r = await loadImage(work, 'img', { local: true });
        if (!r.ok || (await kamFiles(r.image)) === clean) continue;
        const out = path.join(work, `t${checked}`);
        await renderImage(work, 'img', { out, local: { privateIp: '127.0.0.1', publicIp: '127.0.0.1' } });
        const c = await kamailioCheck(path.join(out, 'etc/kamailio/kamailio.cfg'));
        checked++;
        if (!c.ok) failed.push(`${b} ${p.join('.')} = ${v}: ${c.errors.slice(0, 2).join(' | ')}`);
        await rm(out, { recursive: true, force: true });
      }
    }
  }
  expect(failed).toEqual([]);
  expect(checked).toBeGreaterThan(30);
});
