import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ManagedProcess } from '../try/process.js';
import type { RehearsalImage } from './image.js';
import { ADDR } from './net-plan.js';
import type { RehearsalPlan } from './plan.js';
import { cancellableSleep, check, ctlSocket, event, run, sleep, start, type Rig } from './rig.js';
import { uacCalleeBye, uacCallerBye, uacTrunk, uas } from './scenarios.js';
import { rtpStatsFile } from './rtp-report.js';
import type { Fleet } from './fleet.js';

// The load: the callees (the destination or the recorders), the callers (SIPp UACs from several source addresses,
// half ending with a caller BYE, half with a callee BYE), the busy trunk, and a watch on the NAT gateway's flows.

export interface Load {
  /** The callees' addresses. */
  peers: string[];
  uacs: ManagedProcess[];
  /** Resolve once every caller group's SIPp started (they start staggered). */
  uacStarts: Promise<void>[];
  trunk?: ManagedProcess;
  /** While the instance holding the trunk's flow is deregistered and keeps it: [from, to) per such instance. */
  trunkDraining: Array<{ id: string; from: number; to?: number }>;
  /** NAT gateway translations seen (one line of tuples per flow). */
  natFlows: string[];
  natWatch: NodeJS.Timeout;
}

const inetOf = (rig: Rig) => ['ip', 'netns', 'exec', rig.names.inet];
const sippCommon = (rig: Rig, logName: string) => ['-nostdin', '-skip_rlimit', '-trace_msg', '-message_file', path.join(rig.dir, logName)];

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

/** Pure: one caller group's SIPp arguments. `-l` is the group's whole count: SIPp's default limit on simultaneous
 *  calls (3 × call length × rate) would hold calls back, unplaced and unseen, when calls are long. */
export function callerArgs(plan: RehearsalPlan, gi: number, target: string, file: string, dir: string): string[] {
  const g = plan.groups[gi];
  if (g === undefined) throw new Error(`callerArgs: no caller group ${gi}`);
  return [
    'sipp',
    target,
    ...['-sf', file, '-s', g.service, '-i', g.src, '-p', String(7000 + gi), '-mp', String(16000 + gi * 10), '-t', 'un'],
    ...['-m', String(g.calls), '-l', String(Math.max(1, g.calls)), '-r', '1', '-rp', String(plan.periodMs)],
    ...['-nostdin', '-skip_rlimit', '-trace_msg', '-message_file', path.join(dir, `uac-${gi}.log`)],
    ...['-trace_stat', '-stf', path.join(dir, `uac-${gi}.csv`), '-fd', '1'],
    ...['-recv_timeout', `${plan.waitMs}ms`, '-timeout', `${Math.round((plan.windowMs + plan.waitMs * 2) / 1000) + 60}s`],
  ];
}

function startCallers(rig: Rig, plan: RehearsalPlan, img: RehearsalImage, files: Record<'caller' | 'callee', string>): Pick<Load, 'uacs' | 'uacStarts'> {
  const uacs: ManagedProcess[] = [];
  const uacStarts: Promise<void>[] = [];
  plan.groups.forEach((g, gi) => {
    if (g.calls === 0) return;
    const argv = [...inetOf(rig), ...callerArgs(plan, gi, `${ADDR.nlbEip}:${img.port}`, files[g.kind], rig.dir)];
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

/** The load for a roll from img (the callers dial its port) to newImg. */
export async function loadUp(rig: Rig, plan: RehearsalPlan, img: RehearsalImage, newImg: RehearsalImage): Promise<Load> {
  const peers = await startPeers(rig, plan, img, newImg);
  const files = {
    caller: await writeScn(rig, 'uac-caller', uacCallerBye(plan.hold)),
    callee: await writeScn(rig, 'uac-callee', uacCalleeBye(plan.waitMs)),
  };
  const callers = startCallers(rig, plan, img, files);
  const natFlows: string[] = [];
  const natWatch = watchNat(rig, natFlows);
  event(
    rig,
    'calls',
    `${rig.o.calls} call(s) from ${ADDR.sources.length} source address(es), one every ${(plan.periodMs / plan.groups.length / 1000).toFixed(1)} s; half end with a caller BYE, half with a callee BYE`,
  );
  const trunk = (rig.o.trunk ?? true) ? await startTrunk(rig, plan, img) : undefined;
  return { peers, ...callers, ...(trunk ? { trunk } : {}), trunkDraining: [], natFlows, natWatch };
}

/** Active dialogs on instance k (kamcmd through its ctl socket). */
async function dialogsOn(rig: Rig, k: number): Promise<number> {
  const out = await run(['kamcmd', '-s', ctlSocket(path.join(rig.dir, `i${k}`)), 'dlg.stats_active']).catch(() => '');
  return Number(/all:\s*(\d+)/.exec(out)?.[1] ?? 0);
}

/** The roll starts once calls are up on the first instance to leave (bounded: stickiness may leave an instance
 *  without callers). */
export async function awaitFirstCalls(rig: Rig, f: Fleet, plan: RehearsalPlan): Promise<void> {
  if (rig.o.stopDrainAgents) {
    for (const l of rig.live.values()) await l.agent?.stop('SIGKILL', 500);
    event(rig, 'control', 'drain agents of the old instances stopped (negative control)');
  }
  const [firstToLeave] = f.cs.instances;
  if (firstToLeave === undefined) throw new Error('rehearsal: a group without instances (--instances is 1-20)');
  const readyBy = Date.now() + Math.round(plan.periodMs * 2);
  while (Date.now() < readyBy) {
    check(rig);
    if ((await dialogsOn(rig, firstToLeave.k)) > 0) break;
    await sleep(200);
  }
}
