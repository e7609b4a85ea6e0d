// Throwaway directories under the OS temp dir, removed by remove() (idempotent).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TmpDir {
  path: string;
  remove(): Promise<void>;
}

export async function makeTmpDir(prefix = 'sipbake-test-'): Promise<TmpDir> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
