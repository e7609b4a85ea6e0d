import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RenderPlan } from './plan.js';

/**
 * Writes the plan to a temporary sibling of `out`, then renames it into place.
 * On any error nothing is left at `out` (a tree that was there before stays as it was).
 * `extra` runs on the temporary tree before the rename (e.g. generating local TLS keys).
 */
export async function writeTreeAtomic(plan: RenderPlan, out: string, extra?: (tmpRoot: string) => Promise<void>): Promise<void> {
  const target = path.resolve(out);
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(path.join(parent, `.${path.basename(target)}.tmp-`));
  let old: string | undefined;
  try {
    for (const f of plan.files) {
      const abs = path.join(tmp, ...f.path.split('/'));
      await mkdir(path.dirname(abs), { recursive: true });
      await writeFile(abs, f.content, { mode: f.mode });
      await chmod(abs, f.mode); // the umask must not change what the image gets
    }
    for (const d of plan.dirs) await mkdir(path.join(tmp, ...d.split('/')), { recursive: true });
    if (extra) await extra(tmp);
    if (existsSync(target)) {
      old = `${tmp}.old`;
      await rename(target, old);
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (old && !existsSync(target)) await rename(old, target);
    throw e;
  }
  if (old) await rm(old, { recursive: true, force: true });
}
