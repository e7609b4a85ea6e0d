import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readBootResult, type BootResult } from '../contract/boot-result.js';
import { DRAIN_PROGRESS_PATH, type DrainProgress } from './drain-progress.js';
import { formatCall, lookupCall, type CallLookup } from './status-call.js';
import { formatRtpproxy, observeRtpproxy, type RtpproxyAsk, type RtpproxyStatus } from './status-rtpproxy.js';

// `sipbake-status` (agent.mjs status): one screen for the operator in Session Manager. Observe (ctl socket
// through kamcmd, the agent's state files), then format (pure). Never fails on a missing piece: it shows
// what it could not read.

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
  /** run/sipbake/drain.json, as the drain agent last wrote it (drain-progress.ts). */
  drainState?: Partial<DrainProgress>;
  /** A media image's RTPProxy, through its control socket. */
  rtpproxy?: RtpproxyStatus;
  /** --call: whether this instance holds that Call-ID. */
  call?: CallLookup;
  boot?: BootResult;
}

export interface StatusAsks {
  /** A media image: RTPProxy's control socket and how to ask it. */
  rtpproxy?: { socket: string; ask: RtpproxyAsk };
  callId?: string;
}

/** Pure: sipbake-status's arguments: --json, --call CALL-ID (or --call=CALL-ID). */
export function statusArgs(args: string[]): { json: boolean; callId?: string } | { usage: string } {
  const out: { json: boolean; callId?: string } = { json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--json') out.json = true;
    else if (a === '--call' || a.startsWith('--call=')) {
      const v = a === '--call' ? args[++i] : a.slice('--call='.length);
      if (!v) return { usage: '--call needs a Call-ID (as in the SIP trace or the CDR): sipbake-status --call CALL-ID' };
      out.callId = v;
    } else return { usage: `unknown argument ${JSON.stringify(a)}: sipbake-status [--json] [--call CALL-ID]` };
  }
  return out;
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

export async function observeStatus(root: string, kam: Kamcmd, withDispatcher: boolean, asks: StatusAsks = {}): Promise<StatusObservation> {
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
  if (asks.callId !== undefined)
    o.call = o.kamailio.up ? await lookupCall(kam, asks.callId) : { callId: asks.callId, dialogs: [], error: 'Kamailio is not answering' };
  if (asks.rtpproxy) o.rtpproxy = await observeRtpproxy(asks.rtpproxy.socket, asks.rtpproxy.ask);
  const drainState = (await readJson(path.join(root || '/', DRAIN_PROGRESS_PATH))) as Partial<DrainProgress> | undefined;
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

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;

/** Pure: the drain agent's progress file in a few lines (fields it lacks are left out, never guessed). */
function formatDrainProgress(d: Partial<DrainProgress>, now: number): string[] {
  const out: string[] = [];
  const started = d.started ? Date.parse(d.started) : NaN;
  const deadline = d.deadline ? Date.parse(d.deadline) : NaN;
  const head = [`agent ${d.state ?? '?'}`, d.lifecycle ? `lifecycle ${d.lifecycle}` : ''];
  if (Number.isFinite(started)) head.push(`started ${d.started}${ago(d.started, now)}`);
  if (Number.isFinite(deadline)) head.push(`deadline ${d.deadline} (${deadline > now ? `${secs(deadline - now)} left` : 'passed'})`);
  out.push(`  progress       ${head.filter(Boolean).join(', ')}`);
  const calls = [
    d.callsLeft !== undefined ? `${d.callsLeft} call(s) left` : '',
    d.transactionsInFlight ? `${d.transactionsInFlight} INVITE transaction(s) in flight` : '',
    d.peakCalls ? `peak ${d.peakCalls}` : '',
    d.peer ? `new calls to peer ${d.peer}` : d.peerNote ? `no peer: ${d.peerNote}` : '',
  ].filter(Boolean);
  if (calls.length > 0) out.push(`  calls          ${calls.join(', ')}`);
  if (d.lifecycleAction)
    out.push(`  lifecycle hook ${d.lifecycleAction}${d.completeAttempts ? ` (${d.completeAttempts} CompleteLifecycleAction attempt(s))` : ''}`);
  if (d.outcome) out.push(`  outcome        ${d.outcome.reason}: ${d.outcome.endedNormally} ended normally, ${d.outcome.cut} cut, ${d.outcome.drainSeconds} s`);
  if (d.updated) {
    const stale = now - Date.parse(d.updated) > 120_000 && d.state !== 'done';
    out.push(`  written        ${d.updated}${ago(d.updated, now)}${stale ? ' STALE: is sipbake-drain running? (systemctl status sipbake-drain)' : ''}`);
  }
  return out;
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
  lines.push(`Drain            ${drainBits.join('; ')}`);
  if (o.drainState) lines.push(...formatDrainProgress(o.drainState, now));
  if (o.rtpproxy) lines.push(formatRtpproxy(o.rtpproxy));
  if (o.call) lines.push(...formatCall(o.call));
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
