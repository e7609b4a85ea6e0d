import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RenderPlan } from './plan.js';
import { MANIFEST_PATH } from '../contract/image-manifest.js';
import { UserError } from '../core/errors.js';

/** Errors that mean "you cannot write there", as opposed to a bug: exit 1 with the path. */
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'EDQUOT', 'ENAMETOOLONG', 'ELOOP']);

function unwritable(e: unknown, out: string, where: string): never {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && UNWRITABLE.has(code)) {
    const why: Record<string, string> = {
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EROFS: 'read-only file system',
      ENOTDIR: 'a part of the path is a regular file, not a directory',
      EEXIST: 'a part of the path is a regular file, not a directory',
      ENOSPC: 'no space left on the device',
      EDQUOT: 'disk quota exceeded',
      ENAMETOOLONG: 'the path is too long',
      ELOOP: 'too many symbolic links',
    };
    throw new UserError(`cannot write --out ${out}: ${where}: ${why[code]} (${code})`, 'choose a directory you can write to, e.g. --out build/IMAGE', {
      cause: e,
    });
  }
  throw e;
}

const inside = (child: string, parent: string): boolean => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/**
 * Refuses an --out that would destroy something that is not a sipbake tree. render replaces --out
 * whole, so it may only be new, an empty directory, or an earlier tree (marked by etc/sipbake/image.json).
 * Returns the absolute target.
 */
export async function checkOutDir(out: string, cwd = process.cwd()): Promise<string> {
  if (out.trim() === '') {
    throw new UserError(
      '--out is empty, and render replaces --out whole: an empty path would mean the current directory',
      'pass the directory to write, e.g. --out build/IMAGE (is the variable you passed unset?)',
    );
  }
  const target = path.resolve(cwd, out);
  if (inside(cwd, target)) {
    throw new UserError(
      `--out ${out} is ${target === cwd ? 'the current directory' : `${target}, which holds the current directory`}, and render replaces --out whole`,
      'pass a new directory for the tree, e.g. --out build/IMAGE',
    );
  }
  let st;
  try {
    st = await stat(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return target;
    return unwritable(e, out, target);
  }
  if (!st.isDirectory())
    throw new UserError(`--out ${out} is a file, not a directory`, 'pass a directory for the tree (render replaces it whole), e.g. --out build/IMAGE');
  if (existsSync(path.join(target, ...MANIFEST_PATH.split('/')))) return target; // an earlier tree: replace it
  const entries = await readdir(target).catch((e: unknown) => unwritable(e, out, target));
  if (entries.length === 0) return target;
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} entries)` : '');
  throw new UserError(
    `--out ${out} holds files that are not a sipbake tree (${shown}; no ${MANIFEST_PATH}), and render replaces --out whole`,
    'pass a new or empty directory, or a tree an earlier render wrote; move your files first if this directory was meant',
  );
}

/**
 * Writes the plan to a temporary sibling of `out`, then renames it into place.
 * On any error nothing is left at `out` (a tree that was there before stays as it was).
 * `extra` runs on the temporary tree before the rename (e.g. generating local TLS keys).
 */
export async function writeTreeAtomic(plan: RenderPlan, out: string, extra?: (tmpRoot: string) => Promise<void>): Promise<void> {
  const target = await checkOutDir(out);
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true }).catch((e: unknown) => unwritable(e, out, parent));
  const tmp = await mkdtemp(path.join(parent, `.${path.basename(target)}.tmp-`)).catch((e: unknown) => unwritable(e, out, parent));
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
    return unwritable(e, out, target);
  }
  if (old) await rm(old, { recursive: true, force: true });
}
