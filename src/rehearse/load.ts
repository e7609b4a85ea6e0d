import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ManagedProcess } from '../try/process.js';
import type { RehearsalImage } from './image.js';
import { ADDR, instanceIp, targetKey } from './net-plan.js';
import type { RehearsalPlan } from './plan.js';
import { cancellableSleep, check, ctlSocket, event, run, sleep, start, type Rig } from './rig.js';
import { uacCalleeBye, uacCallerBye, uacTrunk, uas, withCallerMedia, type Hold } from './scenarios.js';
import { routable, type Fleet } from './fleet.js';
import { holderSources, nlbBucket } from './sources.js';
import { callerMediaCtlFile, callerRtpStatsFile, rtpStatsFile } from './rtp-report.js';

// The load: the callees (the destination or the recorders), the callers (SIPp UACs from several source addresses,
// half ending with a caller BYE, half with a callee BYE), the busy trunk, and a watch on the NAT gateway's flows.

export interface Load {
  /** The callees' addresses. */
  peers: string[];
  uacs: ManagedProcess[];
  /** Resolve once every caller group's SIPp started (they start staggered). */
  uacStarts: Promise<void>[];
  trunk?: ManagedProcess;
  /** One holder caller per old instance (holderPlan): its SIPp and message log, and the source it calls from. */
  holders: Array<{ id: string; src: string; log: string; proc?: ManagedProcess }>;
  /** TCP callers (tcpPlan), one per holder source: their SIPp and message log. */
  tcp: Array<{ log: string; proc: ManagedProcess }>;
  /** While the instance holding the trunk's flow is deregistered and keeps it: [from, to) per such instance. */
  trunkDraining: Array<{ id: string; from: number; to?: number }>;
  /** NAT gateway translations seen (one line of tuples per flow). */
  natFlows: string[];
  natWatch: NodeJS.Timeout;
}

const inetOf = (rig: Rig) => ['ip', 'netns', 'exec', rig.names.inet];
const sippCommon = (rig: Rig, logName: string) => ['-nostdin', '-skip_rlimit', '-trace_msg', '-message_file', path.join(rig.dir, logName)];

/** The callers' scenario files; media: their calls carry RTP (withCallerMedia). */
interface CallerFiles {
  caller: string;
  callee: string;
  media: boolean;
}

async function writeScn(rig: Rig, name: string, xml: string): Promise<string> {
  const f = path.join(rig.dir, `${name}.xml`);
  await writeFile(f, xml);
  return f;
}

/** Pure: the callees both images send calls to (a roll from a relay to a dispatcher image needs both kinds). */
export function calleesOf(imgs: readonly Pick<RehearsalImage, 'relay'>[]): string[] {
  return [...new Set(imgs.flatMap((i) => (i.relay ? [ADDR.destination] : ADDR.recorders)))];
}

async function startPeers(rig: Rig, plan: RehearsalPlan, img: RehearsalImage, newImg: RehearsalImage): Promise<string[]> {
  const uasFile = await writeScn(rig, 'uas', uas(plan.hold, ADDR.nlbEip, img.port, plan.waitMs));
  const peers = calleesOf([img, newImg]);
  for (const p of peers) {
    const argv = [...inetOf(rig), 'sipp', '-sf', uasFile, '-i', p, '-p', '5060', '-mp', '17000', '-t', 'u1', '-bind_local', ...sippCommon(rig, `uas-${p}.log`)];
    // r3-media: with RTPProxy, the recorders echo the calls' RTP back to its sender (rtp-stream.ts counts it).
    if (img.rtpproxy || newImg.rtpproxy) argv.push('-rtp_echo');
    start(rig, [...argv, '-timeout', '600s'], `sipp peer ${p}`);
  }
  return peers;
}

/** Pure: the media address of caller n (a group, a holder, a TCP caller) when its calls carry RTP: one of the media
 *  sources, never its signalling address (the trunk's media address, mediaSources[0], stays the trunk's). */
export function callerMediaIp(n: number): string {
  const pool = ADDR.mediaSources.slice(1);
  return pool[n % pool.length] ?? ADDR.mediaSources[0] ?? '';
}

/** Pure: one caller group's SIPp arguments. `-l` is the group's whole count: SIPp's default limit on simultaneous
 *  calls (3 × call length × rate) would hold calls back, unplaced and unseen, when calls are long. */
export function callerArgs(plan: RehearsalPlan, gi: number, target: string, file: string, dir: string, mediaIp?: string): string[] {
  const g = plan.groups[gi];
  if (g === undefined) throw new Error(`callerArgs: no caller group ${gi}`);
  return [
    'sipp',
    target,
    ...['-sf', file, '-s', g.service, '-i', g.src, '-p', String(7000 + gi), '-mp', String(16000 + gi * 10), '-t', 'un'],
    ...(mediaIp ? ['-mi', mediaIp] : []),
    ...['-m', String(g.calls), '-l', String(Math.max(1, g.calls)), '-r', '1', '-rp', String(plan.periodMs)],
    ...['-nostdin', '-skip_rlimit', '-trace_msg', '-message_file', path.join(dir, `uac-${gi}.log`)],
    ...['-trace_stat', '-stf', path.join(dir, `uac-${gi}.csv`), '-fd', '1'],
    ...['-recv_timeout', `${plan.waitMs}ms`, '-timeout', `${Math.round((plan.windowMs + plan.waitMs * 2) / 1000) + 60}s`],
  ];
}

function startCallers(rig: Rig, plan: RehearsalPlan, img: RehearsalImage, files: CallerFiles): Pick<Load, 'uacs' | 'uacStarts'> {
  const uacs: ManagedProcess[] = [];
  const uacStarts: Promise<void>[] = [];
  plan.groups.forEach((g, gi) => {
    if (g.calls === 0) return;
    const argv = [...inetOf(rig), ...callerArgs(plan, gi, `${ADDR.nlbEip}:${img.port}`, files[g.kind], rig.dir, files.media ? callerMediaIp(gi) : undefined)];
    const staggered = cancellableSleep(g.delayMs);
    rig.cancels.push(staggered.cancel);
    uacStarts.push(
      staggered.done.then(() => {
        if (!rig.closing) uacs.push(start(rig, argv, `sipp ${g.kind}-bye from ${g.src}`));
      }),
    );
  });
  return { uacs, uacStarts };
}

/** The busy trunk: one SIPp on one socket (198.51.100.30:5060), a call every quarter of the deregistration delay
 *  from now until the roll ends (then SIGUSR1: SIPp places no new call and ends when its calls have), so calls
 *  arrive while each instance that holds the trunk's flow is deregistered and keeps it. */
async function startTrunk(rig: Rig, plan: RehearsalPlan, img: RehearsalImage): Promise<ManagedProcess> {
  const trunkFile = await writeScn(rig, 'uac-trunk', uacTrunk(plan.hold, plan.waitMs, { ip: ADDR.trunk, port: 5060 }, { ip: ADDR.nlbEip, port: img.port }));
  // The trunk's edge owns 198.51.100.30:5060 (one socket, one flow to the NLB) and answers requests where they
  // came from, as a real trunk does by the Via's received/rport; SIPp sits behind it on loopback.
  const edge = start(
    rig,
    [
      ...inetOf(rig),
      process.execPath,
      rig.helper,
      // r3-media: the trunk's calls carry RTP from its media address, not its signalling one (rtp-stream.ts).
      ...(img.rtpproxy ? ['--trunk-rtp', `${ADDR.mediaSources[0]}=${rtpStatsFile(rig.dir)}`] : []),
      '--trunk-edge',
      `${ADDR.trunk}:5060=127.0.0.1:5061=127.0.0.1:5062=${ADDR.nlbEip}:${img.port}`,
    ],
    'trunk edge',
  );
  await edge.waitForLine(/^ready$/, 10_000);
  const trunk = start(
    rig,
    [
      ...inetOf(rig),
      'sipp',
      '127.0.0.1:5061',
      ...['-sf', trunkFile, '-i', '127.0.0.1', '-p', '5062', '-mp', '18000', '-t', 'u1'],
      ...['-m', String(plan.trunkCap), '-l', String(plan.trunkCap), '-r', '1', '-rp', String(plan.trunkPeriodMs)],
      ...sippCommon(rig, 'uac-trunk.log'),
      ...['-recv_timeout', `${plan.waitMs}ms`, '-timeout', `${Math.round((plan.trunkCap * plan.trunkPeriodMs + plan.waitMs * 2) / 1000) + 60}s`],
    ],
    `sipp trunk from ${ADDR.trunk}:5060`,
  );
  event(rig, 'calls', `trunk ${ADDR.trunk}:5060: one call every ${(plan.trunkPeriodMs / 1000).toFixed(2)} s over one UDP flow until the roll ends`);
  return trunk;
}

/** The SIPp callers' RTP (ns-helper --caller-rtp in the internet namespace): their exec actions name each call's
 *  media address and answer in the control file; the helper streams and counts (rtp-stream.ts followMediaCtl). */
async function startCallerRtp(rig: Rig): Promise<void> {
  const p = start(
    rig,
    [...inetOf(rig), process.execPath, rig.helper, '--caller-rtp', `${callerMediaCtlFile(rig.dir)}=${callerRtpStatsFile(rig.dir)}`],
    'caller rtp',
  );
  await p.waitForLine(/^ready$/, 10_000);
  event(rig, 'calls', `RTP: every caller's calls stream 50 packets/s from ${ADDR.mediaSources.slice(1).join(', ')} (not their signalling addresses)`);
}

/** The NAT gateway's translations, polled once a second (conntrack forgets a flow when it ends). */
function watchNat(rig: Rig, natFlows: string[]): NodeJS.Timeout {
  const natWatch = setInterval(() => {
    void run(['ip', 'netns', 'exec', rig.names.nat, 'conntrack', '-L', '-p', 'udp']).then(
      (out) => {
        for (const l of out.split('\n')) {
          // One entry per flow: the tuples only (state, timers, flags and counters change as it lives).
          const flow = [...l.matchAll(/(?:src|dst|sport|dport)=\S+/g)].map((m) => m[0]).join(' ');
          if (l.includes(`dst=${ADDR.natEip}`) && !natFlows.includes(flow)) natFlows.push(flow);
        }
      },
      () => undefined,
    );
  }, 1000);
  rig.timers.push(natWatch);
  return natWatch;
}

/** Pure: a holder's pace. A call every half of the shortest hold, so once its first call is up one is always up on its
 *  instance, until that instance is picked (then the source's calls go to others) or the roll ends (SIGUSR1). */
export function holderPlan(plan: Pick<RehearsalPlan, 'hold' | 'estimateMs'>): { periodMs: number; cap: number } {
  const periodMs = Math.max(200, Math.round(plan.hold.minMs / 2));
  return { periodMs, cap: Math.ceil((plan.estimateMs * 4 + 60_000) / periodMs) };
}

/** Pure: one holder's SIPp arguments (caller-BYE calls; a new source port per call, as the callers). */
export function holderArgs(plan: RehearsalPlan, hi: number, src: string, target: string, file: string, log: string, mediaIp?: string): string[] {
  const h = holderPlan(plan);
  return [
    'sipp',
    target,
    ...['-sf', file, '-s', 'callerbye', '-i', src, '-p', String(7100 + hi), '-mp', String(16500 + hi * 10), '-t', 'un'],
    ...(mediaIp ? ['-mi', mediaIp] : []),
    ...['-m', String(h.cap), '-l', String(h.cap), '-r', '1', '-rp', String(h.periodMs)],
    ...['-nostdin', '-skip_rlimit', '-trace_msg', '-message_file', log],
    ...['-recv_timeout', `${plan.waitMs}ms`, '-timeout', `${Math.round((h.cap * h.periodMs + plan.waitMs * 2) / 1000) + 60}s`],
  ];
}

/** Every old instance holds calls when it is picked: per old instance a holder caller from a source that hashes to
 *  it (sources.ts), placing calls from now until the roll ends. */
async function startHolders(rig: Rig, plan: RehearsalPlan, f: Fleet, img: RehearsalImage, files: CallerFiles): Promise<Load['holders']> {
  const olds = f.cs.instances.filter((i) => i.image === 'old' && routable(f, i.id));
  const keyOf = (k: number) => targetKey({ ip: instanceIp(k), port: f.sipPort.old });
  const srcs = holderSources(
    f.buckets,
    olds.map((i) => keyOf(i.k)),
  );
  return Promise.all(
    olds.map(async (i, hi) => {
      const src = srcs.get(keyOf(i.k));
      if (src === undefined) throw new Error(`rehearsal: no holder source for ${i.id}`); // holderSources names every target
      f.pinnedBuckets.set(nlbBucket(src), keyOf(i.k));
      const log = path.join(rig.dir, `uac-hold-${i.k}.log`);
      await run(['ip', '-n', rig.names.inet, 'addr', 'add', `${src}/32`, 'dev', 'lo']);
      const argv = holderArgs(plan, hi, src, `${ADDR.nlbEip}:${img.port}`, files.caller, log, files.media ? callerMediaIp(hi) : undefined);
      const proc = start(rig, [...inetOf(rig), ...argv], `sipp holder for ${i.id} from ${src}`);
      return { id: i.id, src, log, proc };
    }),
  );
}

/** Pure: the TCP calls. The NLB resets a deregistered target's TCP connections at the delay's end (connection
 *  termination), so a TCP call outlives a drain only if it is shorter than the deregistration delay: TCP calls hold
 *  at most 4/5 of it (a deployment with TCP sets the delay above its longest TCP call; docs/rehearse.md). A third
 *  of --calls, spread over the roll from one source per old instance. */
export function tcpPlan(
  plan: Pick<RehearsalPlan, 'hold' | 'deregMs' | 'estimateMs'>,
  calls: number,
  sources: number,
): { hold: Hold; perSource: number; periodMs: number } {
  const maxMs = Math.max(200, Math.min(plan.hold.maxMs, Math.round((plan.deregMs * 4) / 5)));
  const hold = { minMs: Math.min(plan.hold.minMs, Math.round(maxMs / 2)), maxMs };
  const perSource = Math.max(1, Math.ceil(calls / 3 / Math.max(1, sources)));
  return { hold, perSource, periodMs: Math.max(200, Math.round(plan.estimateMs / perSource)) };
}

/** Pure: one TCP caller's SIPp arguments: `-t tn`, a TCP connection per call (each call a new flow at the NLB). */
export function tcpCallerArgs(
  plan: RehearsalPlan,
  ti: number,
  t: ReturnType<typeof tcpPlan>,
  src: string,
  target: string,
  file: string,
  log: string,
  mediaIp?: string,
): string[] {
  return [
    'sipp',
    target,
    ...['-sf', file, '-s', 'callerbye', '-i', src, '-p', String(7200 + ti), '-mp', String(17500 + ti * 10), '-t', 'tn'],
    ...(mediaIp ? ['-mi', mediaIp] : []),
    ...['-m', String(t.perSource), '-l', String(t.perSource), '-r', '1', '-rp', String(t.periodMs)],
    ...['-nostdin', '-skip_rlimit', '-trace_msg', '-message_file', log],
    ...['-recv_timeout', `${plan.waitMs}ms`, '-timeout', `${Math.round((t.perSource * t.periodMs + plan.waitMs * 2) / 1000) + 60}s`],
  ];
}

/** TCP calls from the holders' sources (so some reach every old instance), each on its own connection. */
async function startTcpCallers(rig: Rig, plan: RehearsalPlan, img: RehearsalImage, holders: Load['holders'], media: boolean): Promise<Load['tcp']> {
  const t = tcpPlan(plan, rig.o.calls, holders.length);
  const scn = uacCallerBye(t.hold);
  const file = await writeScn(rig, 'uac-tcp', media ? withCallerMedia(scn, callerMediaCtlFile(rig.dir)) : scn);
  event(
    rig,
    'calls',
    `TCP: ${t.perSource * holders.length} call(s) of ${t.hold.minMs / 1000}-${t.hold.maxMs / 1000} s, a connection each, from ${holders.length} source(s)`,
  );
  return holders.map((h, ti) => {
    const log = path.join(rig.dir, `uac-tcp-${ti}.log`);
    const argv = tcpCallerArgs(plan, ti, t, h.src, `${ADDR.nlbEip}:${img.port}`, file, log, media ? callerMediaIp(ti) : undefined);
    return { log, proc: start(rig, [...inetOf(rig), ...argv], `sipp tcp from ${h.src}`) };
  });
}

/** The roll ended: the trunk and the holders place no new call (SIGUSR1) and end when their calls have. */
export function endLoad(load: Load): void {
  for (const p of [load.trunk, ...load.holders.map((h) => h.proc)]) if (p?.pid !== undefined && p.running) process.kill(p.pid, 'SIGUSR1');
}

/** The load for a roll from img (the callers dial its port) to newImg; f: the fleet as it is up (its NLB buckets aim
 *  the holders). */
export async function loadUp(rig: Rig, plan: RehearsalPlan, img: RehearsalImage, newImg: RehearsalImage, f?: Fleet): Promise<Load> {
  const peers = await startPeers(rig, plan, img, newImg);
  // r3-media: with RTPProxy every caller's calls carry RTP, from a media address other than their signalling one.
  const media = img.rtpproxy;
  if (media) await startCallerRtp(rig);
  const scn = (xml: string) => (media ? withCallerMedia(xml, callerMediaCtlFile(rig.dir)) : xml);
  const files: CallerFiles = {
    caller: await writeScn(rig, 'uac-caller', scn(uacCallerBye(plan.hold))),
    callee: await writeScn(rig, 'uac-callee', scn(uacCalleeBye(plan.waitMs))),
    media,
  };
  const callers = startCallers(rig, plan, img, files);
  const holders = f ? await startHolders(rig, plan, f, img, files) : [];
  if (holders.length)
    event(
      rig,
      'calls',
      `holders: ${holders.map((h) => `${h.id} ← ${h.src}`).join(', ')}, a call every ${(holderPlan(plan).periodMs / 1000).toFixed(1)} s each until the roll ends`,
    );
  const natFlows: string[] = [];
  const natWatch = watchNat(rig, natFlows);
  event(
    rig,
    'calls',
    `${rig.o.calls} call(s) from ${ADDR.sources.length} source address(es), one every ${(plan.periodMs / plan.groups.length / 1000).toFixed(1)} s; half end with a caller BYE, half with a callee BYE`,
  );
  const trunk = (rig.o.trunk ?? true) ? await startTrunk(rig, plan, img) : undefined;
  const tcp = (rig.o.tcp ?? true) ? await startTcpCallers(rig, plan, img, holders, media) : [];
  return { peers, ...callers, holders, tcp, ...(trunk ? { trunk } : {}), trunkDraining: [], natFlows, natWatch };
}

/** Active dialogs on instance k (kamcmd through its ctl socket). */
async function dialogsOn(rig: Rig, k: number): Promise<number> {
  const out = await run(['kamcmd', '-s', ctlSocket(path.join(rig.dir, `i${k}`)), 'dlg.stats_active']).catch(() => '');
  return Number(/all:\s*(\d+)/.exec(out)?.[1] ?? 0);
}

/** The roll starts once calls are up on every old instance (bounded: without holders, stickiness may leave an
 *  instance without callers). */
export async function awaitFirstCalls(rig: Rig, f: Fleet, plan: RehearsalPlan): Promise<void> {
  if (rig.o.stopDrainAgents) {
    for (const l of rig.live.values()) await l.agent?.stop('SIGKILL', 500);
    event(rig, 'control', 'drain agents of the old instances stopped (negative control)');
  }
  if (f.cs.instances.length === 0) throw new Error('rehearsal: a group without instances (--instances is 1-20)');
  const readyBy = Date.now() + Math.round(plan.periodMs * 2);
  while (Date.now() < readyBy) {
    check(rig);
    const up = await Promise.all(f.cs.instances.map((i) => dialogsOn(rig, i.k)));
    if (up.every((n) => n > 0)) break;
    await sleep(200);
  }
}
