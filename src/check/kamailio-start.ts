import { execa } from 'execa';
import path from 'node:path';
import { readKamailioUnit } from '../contract/kamailio-args.js';
import { kamailioErrorLines, type CheckOutcome } from './kamailio-check.js';
import { socketPathProblem } from '../try/run-dir.js';

export interface StartOptions {
  kamailio?: string;
  kamcmd?: string;
  /** unix:/path of the tree's ctl socket (from the boot include). */
  ctlSocket: string;
  /** How long Kamailio gets to come up. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts Kamailio in the foreground and waits until its ctl socket answers: module initialisation
 * errors (which `kamailio -c` cannot see) surface here. Always stops the process before returning.
 */
export async function kamailioStart(cfg: string, opts: StartOptions): Promise<CheckOutcome> {
  // Kamailio would only log "name too long" and stop: say it here, before it starts.
  const tooLong = socketPathProblem(opts.ctlSocket);
  if (tooLong) throw tooLong;
  // The tree's own unit command line (cfg is TREE/etc/kamailio/kamailio.cfg): the image's memory sizes.
  const [bin = 'kamailio', ...args] = await readKamailioUnit(path.resolve(path.dirname(cfg), '../..'), opts.kamailio);
  const child = execa(bin, args, {
    reject: false,
    all: true,
    buffer: true,
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  let exited = false;
  void child.finally(() => {
    exited = true;
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let up = false;
  while (!exited && Date.now() < deadline && !opts.signal?.aborted) {
    const r = await execa(opts.kamcmd ?? 'kamcmd', ['-s', opts.ctlSocket, 'core.uptime'], {
      reject: false,
      timeout: 2000,
    });
    if (r.exitCode === 0) {
      up = true;
      break;
    }
    await sleep(200);
  }
  if (!exited) child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  const res = await child;
  clearTimeout(killer);
  // Ctrl-C reaches Kamailio too (same process group): its exit then says nothing about the config.
  opts.signal?.throwIfAborted();
  const output = res.all ?? '';
  return {
    ok: up,
    errors: up ? [] : kamailioErrorLines(output),
    output: up ? output : output || 'kamailio did not come up in time',
  };
}
