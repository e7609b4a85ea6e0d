// Which repository a command works on. Like git finding .git: walk up from the working directory to the
// nearest folder with an images/ directory. --root overrides; with neither, sipbake's own checkout (its
// sample images), so the README's first commands work from anywhere.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Repository {
  root: string;
  /** How it was found: --root, walking up from the cwd, or the fallback to sipbake's own samples. */
  how: 'explicit' | 'cwd' | 'parent' | 'package';
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** The nearest directory at or above `from` that holds images/, or undefined. */
function findUp(from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    if (isDir(path.join(dir, 'images'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function findRepository(explicit: string | undefined, cwd = process.cwd()): Repository {
  if (explicit) return { root: path.resolve(cwd, explicit), how: 'explicit' };
  const found = findUp(cwd);
  if (found) return { root: found, how: path.resolve(found) === path.resolve(cwd) ? 'cwd' : 'parent' };
  return { root: packageRoot, how: 'package' };
}

/** The line that says which repository is in use when it is not the cwd (undefined when it is). */
export function repositoryNote(r: Repository, cwd = process.cwd()): string | undefined {
  if (r.how === 'parent') return `using the repository at ${r.root} (images/ found above ${path.resolve(cwd)})`;
  if (r.how === 'package') return `no images/ in ${path.resolve(cwd)} or above: using sipbake's sample images in ${r.root} (pass --root DIR for another)`;
  return undefined;
}

/** Whether the repository can bake: the provisioning scripts live in its scripts/. */
export function scriptsFix(root: string): string {
  return `copy sipbake's provisioning scripts into the repository and commit them: cp -r ${path.join(packageRoot, 'scripts')} ${path.join(root, 'scripts')} (then \`sipbake packer\` writes packer.pkr.hcl)`;
}
