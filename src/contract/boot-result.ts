import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

// The last boot's outcome (/run/sipbake/boot.json; tmpfs: it always describes this boot), written by the boot
// agent (or by `render --local` for a loopback tree) and read by the drain agent (its private address and peer
// network), `sipbake-status` and the operator at 3 a.m. Never holds a secret. One schema for writer and readers.

export const BOOT_RESULT_PATH = 'run/sipbake/boot.json';

const bootResultSchema = z.looseObject({
  ok: z.boolean(),
  at: z.string(),
  durationMs: z.number(),
  /** The address Kamailio listens on (the include's SIPBAKE_PRIVATE_IP). */
  privateIp: z.string().optional(),
  publicIp: z.string().optional(),
  advertise: z.string().optional(),
  /** The network peers share (the include's SIPBAKE_PEER_NET): new INVITEs are handed only inside it. */
  peerNet: z.string().optional(),
  /** Absolute paths of the files boot wrote. */
  files: z.array(z.string()).optional(),
  /** The one-line reason boot failed, as the journal has it. */
  error: z.string().optional(),
});
export type BootResult = z.infer<typeof bootResultSchema>;

/** Pure: the file's text. */
export function renderBootResult(r: BootResult): string {
  return `${JSON.stringify(bootResultSchema.parse(r), null, 2)}\n`;
}

/** Pure: the file's text → the result, or undefined when it is not one (a half-written or foreign file). */
export function parseBootResult(text: string): BootResult | undefined {
  try {
    const r = bootResultSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeBootResult(root: string, r: BootResult): Promise<void> {
  const file = path.join(root || '/', BOOT_RESULT_PATH);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  await writeFile(file, renderBootResult(r), { mode: 0o644 });
}

/** The last boot's result under `root`; undefined before boot wrote one. */
export async function readBootResult(root: string): Promise<BootResult | undefined> {
  const text = await readFile(path.join(root || '/', BOOT_RESULT_PATH), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseBootResult(text);
}
