import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readBootResult, type BootResultFile } from './boot-result.js';

// `sipbake-status` (agent.mjs status): one screen for the operator in Session Manager. Observe (ctl socket
// through kamcmd, the agent's state files), then format (pure). Never fails on a missing piece: it shows
// what it could not read.

/** The drain agent's state file, when it writes one (see docs/design.md). */
const DRAIN_STATE_PATH = 'run/sipbake/drain.json';

export interface Destination {
  setId?: number;
  uri: string;
  flags: string;
}

export interface StatusObservation {
  /** kamcmdMissing: the ctl socket could not be asked at all, so whether Kamailio is up is unknown. */
  kamailio: { up: boolean; uptimeSeconds?: number; error?: string; kamcmdMissing?: boolean };
  activeDialogs?: number;
  draining?: boolean;
  /** $shv(handoff): the serving peer a draining instance hands new INVITEs to. */
  handoff?: string;
  destinations?: Destination[];
  destinationsError?: string;
  drainState?: Record<string, unknown>;
  boot?: BootResultFile;
}

export type Kamcmd = (args: string[]) => Promise<string>;

export function kamcmdRunner(kamcmd: string, socket: string, timeoutMs = 3000): Kamcmd {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile(kamcmd, ['-s', socket, ...args], { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        // A missing kamcmd says nothing about Kamailio: keep ENOENT so the screen can tell the two apart.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(Object.assign(new Error(`${kamcmd} not found`), { code: 'ENOENT' }));
        reject(new Error((stderr.trim() || stdout.trim() || err.message).slice(0, 200)));
      });
    });
}

/** Pure: `kamcmd dispatcher.list` (5.5/5.6 print SET { ID: n TARGETS { DEST { URI: … FLAGS: … } } }). */
export function parseDispatcherList(out: string): Destination[] {
  const dests: Destination[] = [];
  let setId: number | undefined;
  let cur: Destination | undefined;
  for (const line of out.split('\n')) {
    const id = /^\s*ID:\s*(\d+)\s*$/.exec(line);
    if (id && !cur) setId = Number(id[1]);
    const uri = /^\s*URI:\s*(\S+)/.exec(line)?.[1];
    if (uri !== undefined) {
      cur = { ...(setId !== undefined ? { setId } : {}), uri, flags: '' };
      dests.push(cur);
    }
    const flags = /^\s*FLAGS:\s*(\S+)/.exec(line)?.[1];
    if (flags !== undefined && cur) {
      cur.flags = flags;
      cur = undefined;
    }
  }
  return dests;
}

/** Pure: dispatcher flags (A active, I inactive, D disabled, P probing, T trying) in words. */
export function describeFlags(flags: string): string {
  const state = flags.startsWith('A')
    ? 'active'
    : flags.startsWith('I')
      ? 'inactive'
      : flags.startsWith('D')
        ? 'disabled'
        : flags.startsWith('T')
          ? 'trying'
          : 'unknown';
  return flags.includes('P') ? `${state}, probing` : state;
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function observeStatus(root: string, kam: Kamcmd, withDispatcher: boolean): Promise<StatusObservation> {
  const o: StatusObservation = { kamailio: { up: false } };
  try {
    const up = /uptime:\s*(\d+)/.exec(await kam(['core.uptime']));
    o.kamailio = { up: Boolean(up), ...(up ? { uptimeSeconds: Number(up[1]) } : {}) };
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    o.kamailio = { up: false, error: e instanceof Error ? e.message : String(e), ...(missing ? { kamcmdMissing: true } : {}) };
  }
  if (o.kamailio.up) {
    const [dlg, drain, ds, peer] = await Promise.allSettled([
      kam(['dlg.stats_active']),
      kam(['pv.shvGet', 'draining']),
      withDispatcher ? kam(['dispatcher.list']) : Promise.resolve(''),
      kam(['pv.shvGet', 'handoff']),
    ]);
    if (dlg.status === 'fulfilled') {
      const m = /^\s*all:\s*(\d+)/m.exec(dlg.value);
      if (m) o.activeDialogs = Number(m[1]);
    }
    if (drain.status === 'fulfilled') {
      const m = /value:\s*(-?\d+)/.exec(drain.value);
      if (m) o.draining = Number(m[1]) !== 0;
    }
    if (peer.status === 'fulfilled') {
      const m = /value:\s*(\d+\.\d+\.\d+\.\d+)/.exec(peer.value);
      if (m) o.handoff = m[1];
    }
    if (withDispatcher) {
      if (ds.status === 'fulfilled') o.destinations = parseDispatcherList(ds.value);
      else o.destinationsError = ds.reason instanceof Error ? ds.reason.message : String(ds.reason);
    }
  }
  const drainState = await readJson(path.join(root || '/', DRAIN_STATE_PATH));
  if (drainState) o.drainState = drainState;
  const boot = await readBootResult(root);
  if (boot) o.boot = boot;
  return o;
}

function ago(iso: string | undefined, now: number): string {
  const t = iso ? Date.parse(iso) : NaN;
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  return s < 120 ? ` (${s} s ago)` : s < 7200 ? ` (${Math.round(s / 60)} min ago)` : ` (${Math.round(s / 3600)} h ago)`;
}

/** Pure: the screen. */
export function formatStatus(name: string, o: StatusObservation, now = Date.now()): string {
  const lines: string[] = [`sipbake-status: ${name}`];
  const k = o.kamailio;
  const kamailio = k.up
    ? `up ${k.uptimeSeconds !== undefined ? `${k.uptimeSeconds} s` : ''}`.trim()
    : k.kamcmdMissing
      ? `UNKNOWN (${k.error}: the ctl socket cannot be asked; \`systemctl is-active kamailio\` says whether it runs)`
      : `DOWN (${k.error ?? 'no answer on the ctl socket'})`;
  lines.push(`Kamailio         ${kamailio}`);
  lines.push(`Active dialogs   ${o.activeDialogs ?? '?'}`);
  const drainBits = [
    o.draining === undefined
      ? k.up
        ? 'unknown'
        : '?'
      : o.draining
        ? o.handoff
          ? `DRAINING (new calls handed to ${o.handoff})`
          : 'DRAINING (new calls get 503)'
        : 'not draining',
  ];
  if (o.drainState)
    drainBits.push(
      Object.entries(o.drainState)
        .map(([a, b]) => `${a}=${typeof b === 'string' ? b : JSON.stringify(b)}`)
        .join(' '),
    );
  lines.push(`Drain            ${drainBits.join('; ')}`);
  if (o.destinations !== undefined || o.destinationsError !== undefined) {
    if (o.destinationsError || o.destinations === undefined) lines.push(`Destinations     ? (${o.destinationsError ?? 'not read'})`);
    else {
      const active = o.destinations.filter((d) => d.flags.startsWith('A')).length;
      lines.push(`Destinations     ${active}/${o.destinations.length} active`);
      for (const d of o.destinations)
        lines.push(`  ${d.setId !== undefined ? `set ${d.setId}  ` : ''}${d.uri.padEnd(32)} ${d.flags.padEnd(3)} ${describeFlags(d.flags)}`);
    }
  }
  const b = o.boot;
  if (!b) lines.push('Last boot        no result file (sipbake-boot has not run on this boot)');
  else if (b.ok)
    lines.push(`Last boot        ok at ${b.at}${ago(b.at, now)}: private ${b.privateIp}, advertised ${b.publicIp} (${b.advertise}), peers ${b.peerNet}`);
  else lines.push(`Last boot        FAILED at ${b.at}${ago(b.at, now)}: ${b.error}`);
  lines.push('Logs             journalctl -u sipbake-boot -u kamailio -u rtpproxy -u sipbake-drain -f');
  return `${lines.join('\n')}\n`;
}
