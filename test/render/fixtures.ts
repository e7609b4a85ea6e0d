import { cp, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { deepMerge } from '../../src/definition/merge.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** A throwaway repository root with a copy of templates/ and the given definitions under images/. */
export async function tempRoot(images: Record<string, object>): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sipbake-test-'));
  await cp(path.join(repoRoot, 'templates'), path.join(root, 'templates'), { recursive: true });
  await mkdir(path.join(root, 'images'));
  for (const [name, def] of Object.entries(images)) {
    await writeFile(path.join(root, 'images', `${name}.yaml`), stringify(def));
  }
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export async function seed(name: 'twilio-relay' | 'recorder-lb'): Promise<Record<string, unknown>> {
  return parse(await readFile(path.join(repoRoot, 'images', `${name}.yaml`), 'utf8')) as Record<string, unknown>;
}

/** `base` with `patch` deep-merged in (objects merge, everything else replaces). */
export function variant(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  return deepMerge(base, patch);
}
