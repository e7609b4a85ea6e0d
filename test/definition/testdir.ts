import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A throwaway repository root whose images/ holds the given files (name → YAML text). Remove it with cleanup(). */
export async function testdir(files: Record<string, string | Buffer>): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sipbake-def-'));
  await mkdir(path.join(root, 'images'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(root, 'images', name), text);
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** A valid relay (seed 000 shape): lines 1-5; extra text starts at line 6. */
export const RELAY = `name: img
listen:
  udp: 5060
relay:
  destination: { domain: sip.example.com }
`;

/** A valid dispatcher (seed 004 shape): lines 1-7; extra text starts at line 8. */
export const DISPATCHER = `name: img
listen:
  udp: 5080
dispatcher:
  destinations:
    - { host: 10.0.0.3, transport: udp }
    - { host: 10.0.0.4, transport: udp }
`;
