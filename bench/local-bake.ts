// bench:local-bake: the boot test's bake steps (test/boot/machine.ts bakeBootImage) from an EMPTY cache, as on a
// fresh CI machine: debootstrap, the one shared compile, each image's config stage, then a second (cached) bake.
// Writes the figures, each with the load beside it, into bench/local-bake.json under "freshCache".
// Usage (as root, under the heavy lock): flock /tmp/sipbake-heavy.lock npx tsx bench/local-bake.ts [CACHE_DIR]
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOOT_IMAGES } from '../test/boot/images.js';
import { bakeBootImage } from '../test/boot/machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const load = async (): Promise<string> => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

const cacheDir = process.argv[2] ?? (await mkdtemp('/var/tmp/sipbake-bench-cache-'));
const defs = await mkdtemp(path.join(tmpdir(), 'sipbake-bench-defs-'));
const figures: Record<string, unknown>[] = [];
try {
  for (const pass of ['fresh cache', 'second run'] as const) {
    for (const seed of ['recorder-lb', 'twilio-relay'] as const) {
      const before = await load();
      const t = performance.now();
      const { r } = await bakeBootImage(BOOT_IMAGES[seed], defs, { cacheDir });
      const f = {
        pass,
        seed,
        action: r.action,
        cached: r.cached,
        seconds: { ...r.seconds, wall: Math.round((performance.now() - t) / 100) / 10 },
        loadavg: `${before} .. ${await load()}`,
      };
      console.log(JSON.stringify(f));
      figures.push(f);
    }
  }
} finally {
  await rm(defs, { recursive: true, force: true });
  if (!process.argv[2]) await rm(cacheDir, { recursive: true, force: true });
}
const file = path.join(here, 'local-bake.json');
const bench = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
bench.freshCache = {
  what: 'npx tsx bench/local-bake.ts: both boot images baked from an empty cache (one shared compile), then again',
  measuredAt: new Date().toISOString(),
  figures,
};
await writeFile(file, `${JSON.stringify(bench, null, 2)}\n`);
