import { execFile } from 'node:child_process';
import net from 'node:net';

// Kamailio over its ctl socket with kamcmd (BinRPC), argv arrays only. The contract is in
// docs/design.md: pv.shvSet draining int 1, pv.shvSet handoff str IP (int 0: none), dlg.stats_active,
// tm.list, core.uptime.

export interface KamailioRpc {
  /** True when Kamailio answers core.uptime on the ctl socket (in time). */
  alive(): Promise<boolean>;
  /**
   * The process check behind a failed RPC: true when the ctl socket accepts a connection (Kamailio is there,
   * only slow), false when it is refused or gone. A slow or failed RPC alone never means "down".
   */
  processAlive(): Promise<boolean>;
  setDraining(on: boolean): Promise<void>;
  /** $shv(handoff): the serving peer new INVITEs go to while draining; undefined clears it (503). */
  setHandoff(peer: string | undefined): Promise<void>;
  /** INVITE server transactions tm holds (tm.list, method INVITE, uas_request yes), handed-off INVITEs among them. */
  transactions(): Promise<number>;
  /** Dialogs in any state but ended (dlg.stats_active "all"). */
  activeDialogs(): Promise<number>;
}

class RpcError extends Error {
  override readonly name = 'RpcError';
}

/** Pure: the `all:` field of `kamcmd dlg.stats_active` (5.5 and 5.6 print the same struct). */
export function parseStatsActive(out: string): number {
  const m = /^\s*all:\s*(\d+)\s*$/m.exec(out);
  if (!m) throw new RpcError(`unexpected dlg.stats_active output: ${out.trim().slice(0, 200)}`);
  return Number(m[1]);
}

/**
 * Pure: the INVITE server transactions in `kamcmd tm.list` (tm's t_stats.c tm_rpc_list: one entry per
 * transaction, `uas_request: yes` when it was created for a received request). Only an INVITE's answer matters
 * to a caller (a ringing handed-off call's 200 comes back through here); a BYE relayed to a party that no longer
 * answers waits out fr_timer (30 s) and must not hold the drain. Local transactions (dispatcher OPTIONS pings)
 * have `uas_request: no`. A finished transaction stays listed for tm's wait timer (~5 s).
 * (tm.stats cannot tell: its `waiting` is "entered the wait timer - deleted", so current - waiting also counts,
 * forever, every transaction deleted without waiting.)
 */
export function parseTmList(out: string): number {
  if (out.trim() !== '' && !/^\s*tindex:/m.test(out)) throw new RpcError(`unexpected tm.list output: ${out.trim().slice(0, 200)}`);
  // Entries are `{ … }` blocks (several per hash slot share one block, in order: method comes before uas_request).
  let n = 0;
  let method = '';
  for (const line of out.split('\n')) {
    const m = /^\s*method:\s*(\S+)/.exec(line);
    if (m) method = m[1] ?? '';
    else if (/^\s*uas_request:\s*yes\s*$/.test(line) && method === 'INVITE') n++;
  }
  return n;
}

export interface KamcmdOptions {
  kamcmd: string;
  socket: string;
  timeoutMs?: number;
}

export function kamcmdRpc(o: KamcmdOptions): KamailioRpc {
  const call = (args: string[]) =>
    // tm.list of a busy instance (~1000 transactions in the wait timer at 100 calls/s) runs to a few hundred kB.
    new Promise<string>((resolve, reject) => {
      execFile(o.kamcmd, ['-s', o.socket, ...args], { timeout: o.timeoutMs ?? 5000, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const why =
            code === 'ENOENT'
              ? `${o.kamcmd} is not installed (it ships with kamailio; set SIPBAKE_KAMCMD to its path)`
              : (stderr.trim() || stdout.trim() || err.message).slice(0, 300);
          reject(new RpcError(`kamcmd ${args.join(' ')} on ${o.socket} failed: ${why}`));
        } else resolve(stdout);
      });
    });
  return {
    async alive() {
      try {
        return /uptime:\s*\d+/.test(await call(['core.uptime']));
      } catch {
        return false;
      }
    },
    processAlive: () => ctlAccepts(o.socket),
    async setDraining(on) {
      await call(['pv.shvSet', 'draining', 'int', on ? '1' : '0']);
    },
    async setHandoff(peer) {
      await call(peer === undefined ? ['pv.shvSet', 'handoff', 'int', '0'] : ['pv.shvSet', 'handoff', 'str', peer]);
    },
    async activeDialogs() {
      return parseStatsActive(await call(['dlg.stats_active']));
    },
    async transactions() {
      return parseTmList(await call(['tm.list']));
    },
  };
}

/** Does a listener accept on this ctl socket (unix:/path, or udp/tcp: which only a live process serves)? */
export function ctlAccepts(socket: string, timeoutMs = 2000): Promise<boolean> {
  const [, target, port] = /^unix:(.+)$/.exec(socket) ?? /^(?:tcp:)?([^:]+):(\d+)$/.exec(socket) ?? [];
  if (target === undefined) return Promise.resolve(true); // unknown form (udp): cannot tell, so never claim it is gone
  return new Promise((resolve) => {
    const s = port === undefined ? net.connect({ path: target }) : net.connect({ host: target, port: Number(port) });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(true)); // a listener that is slow to accept is still a process
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
