import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

// The last boot's outcome, for `sipbake-status` and the operator at 3 a.m.: /run/sipbake/boot.json
// (tmpfs: it always describes this boot). Never holds a secret.

const BOOT_RESULT_PATH = 'run/sipbake/boot.json';

export interface BootResultFile {
  ok: boolean;
  at: string;
  durationMs: number;
  privateIp?: string;
  publicIp?: string;
  advertise?: string;
  peerNet?: string;
  files?: string[];
  /** The one-line reason boot failed, as the journal has it. */
  error?: string;
}

export async function writeBootResult(root: string, r: BootResultFile): Promise<void> {
  const file = path.join(root || '/', BOOT_RESULT_PATH);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  await writeFile(file, `${JSON.stringify(r, null, 2)}\n`, { mode: 0o644 });
}

export async function readBootResult(root: string): Promise<BootResultFile | undefined> {
  try {
    return JSON.parse(await readFile(path.join(root || '/', BOOT_RESULT_PATH), 'utf8')) as BootResultFile;
  } catch {
    return undefined;
  }
}
