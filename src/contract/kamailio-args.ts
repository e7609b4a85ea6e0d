// Kamailio's command line, in one place. The unit (templates/systemd/kamailio.service.eta) is rendered from here,
// and everything else that starts Kamailio from a rendered tree (try, check --start, the rehearsal) reads the
// unit's own ExecStart= back from the tree with `kamailioArgvFromUnit`: the memory sizes a runner uses are the
// image's (memory.sharedMb/privateMb), never a number of its own. `check`'s `kamailio -c` and render's "run it"
// hint are built here too. Pure, except `readKamailioUnit`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const KAMAILIO_BIN = '/usr/local/sbin/kamailio';
const KAMAILIO_CFG = '/etc/kamailio/kamailio.cfg';
export const KAMAILIO_UNIT = 'etc/systemd/system/kamailio.service';

export interface KamailioMemory {
  /** -m: shared memory, MB. */
  sharedMb: number;
  /** -M: private memory per process, MB. */
  privateMb: number;
}

const memoryArgs = (m: KamailioMemory): string[] => ['-m', String(m.sharedMb), '-M', String(m.privateMb)];

/** `kamailio -c`: parse and check the config `cfg`, start nothing. */
export function kamailioCheckArgs(cfg: string): string[] {
  return ['-c', '-f', cfg];
}

/** The unit's two command lines: the config check before the start, and the foreground daemon. */
export function kamailioUnitCommands(m: KamailioMemory): { execStartPre: string; execStart: string } {
  return {
    execStartPre: [KAMAILIO_BIN, ...kamailioCheckArgs(KAMAILIO_CFG), ...memoryArgs(m)].join(' '),
    execStart: [KAMAILIO_BIN, '-DD', '-f', KAMAILIO_CFG, ...memoryArgs(m)].join(' '),
  };
}

/**
 * A runner's argv from the unit's text: its ExecStart= as it stands, with the binary `bin` (default: kamailio on
 * PATH), logs on stderr (-E, the journal's job on an instance) and the config read from `tree` instead of /.
 */
export function kamailioArgvFromUnit(unit: string, tree: string, bin = 'kamailio'): string[] {
  const line = /^ExecStart=(.+)$/m.exec(unit)?.[1];
  if (!line) throw new Error('kamailio.service has no ExecStart= line; render the image again');
  const [, ...args] = line.trim().split(/\s+/);
  const out = args.map((a) => (a === KAMAILIO_CFG ? path.join(tree, KAMAILIO_CFG) : a));
  if (!out.includes('-E')) out.splice(out.indexOf('-DD') + 1, 0, '-E');
  return [bin, ...out];
}

/** The runner's argv for a tree rendered with these memory sizes, without reading its unit (render's hint). */
export function kamailioTreeArgv(m: KamailioMemory, tree: string, bin = 'kamailio'): string[] {
  return kamailioArgvFromUnit(`ExecStart=${kamailioUnitCommands(m).execStart}\n`, tree, bin);
}

/** Reads TREE/etc/systemd/system/kamailio.service and returns the runner's argv (see kamailioArgvFromUnit). */
export async function readKamailioUnit(tree: string, bin?: string): Promise<string[]> {
  return kamailioArgvFromUnit(await readFile(path.join(tree, KAMAILIO_UNIT), 'utf8'), tree, bin);
}
