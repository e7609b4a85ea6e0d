// Where try, check --start and the rehearsal keep a rendered tree whose Kamailio opens its ctl unix socket.
// Kamailio's ctl module refuses a socket path over 104 bytes (src/modules/ctl/init_socks.c: UNIX_PATH_MAX,
// defined as 104 there, the BSD sun_path size, under Linux's 108 with its NUL), and says so only in its own
// log: to the user it looked like a rejected config. So the run directory goes under TMPDIR when the path
// fits there, else under /tmp; a path that fits nowhere is named as such before anything starts.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../core/errors.js';

const CTL_SOCKET_MAX = 104;
/** The ctl socket inside a rendered tree (src/contract/boot-include.ts runDir). */
export const CTL_SOCKET_IN_TREE = 'run/kamailio/kamailio_ctl';
/** mkdtemp's six random characters. */
const RANDOM = 'XXXXXX';

/** The error for a socket path Kamailio cannot open; null when it fits. */
export function socketPathProblem(socket: string): UserError | null {
  const bytes = Buffer.byteLength(socket.replace(/^unix:/, ''));
  if (bytes <= CTL_SOCKET_MAX) return null;
  return new UserError(
    `socket path ${socket.replace(/^unix:/, '')} is ${bytes} bytes, over the ${CTL_SOCKET_MAX} Kamailio's ctl socket allows (the kernel's limit is 107)`,
    'set TMPDIR shorter (e.g. TMPDIR=/tmp), or use a shorter image name',
  );
}

/**
 * A new temporary directory `PREFIX…` whose `inside` path (e.g. tree/run/kamailio/kamailio_ctl) Kamailio can
 * open: under `base` (TMPDIR) when it fits there, else under /tmp. Throws socketPathProblem when neither fits.
 */
export async function shortRunDir(prefix: string, inside: string, base = tmpdir()): Promise<string> {
  const fits = (dir: string): boolean => socketPathProblem(path.join(dir, `${prefix}${RANDOM}`, inside)) === null;
  const chosen = [base, '/tmp'].find(fits);
  if (chosen === undefined) throw socketPathProblem(path.join(base, `${prefix}${RANDOM}`, inside)) ?? new Error('unreachable');
  return mkdtemp(path.join(chosen, prefix));
}
