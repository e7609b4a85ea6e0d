import { markAudioLost, readRtpFigures } from './rtp-report.js';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { callOutcomes, timedMessages, type CallOutcome } from './calls.js';
import type { Fleet, FleetInstance } from './fleet.js';
import { bakesOf, bootSecondsOf } from './baked-instance.js'; // r4-baked: --baked
import type { RehearsalImage } from './image.js';
import type { Load } from './load.js';
import { callEnds, handedOff, handoffPeers, handoffsLogged, natPath, natTranslations } from './measure.js';
import { ADDR } from './net-plan.js';
import type { RehearsalPlan } from './plan.js';
import { cancellableSleep, event, type Rig } from './rig.js';
import type { RollRecord, RollResult } from './roll-phase.js';
import type { CallCounts, InstanceSummary, RehearsalSummary, RollTimes } from './types.js';
import { verdict } from './verdict.js';

// Measure and report: wait for the calls to end, read what the callers and callees saw, and decide each call's
// outcome, each drain against its bound, and the roll against its floor.

/** Kamailio tm's wt_timer default (https://www.kamailio.org/docs/modules/5.6.x/modules/tm.html#tm.p.wt_timer). */
const TM_WAIT_MS = 5000;

interface Observed {
  outcomes: CallOutcome[];
  trunkOutcomes: CallOutcome[];
  holderOutcomes: CallOutcome[];
  tcpOutcomes: CallOutcome[];
  /** When each call ended (its BYE's 200 at the callee). */
  ends: Map<string, number>;
  uasLogs: string[];
  trunkLog: string;
  /** Per instance, the peers its drain agent handed new INVITEs to (handoffPeers). */
  handoffs: Map<string, string[]>;
}

/** The calls end by themselves (bounded by the plan's window). Returns false when the rehearsal stopped waiting
 *  with callers still running: their calls still up were cut by the rehearsal, and are reported so. */
export async function awaitCalls(rig: Rig, plan: RehearsalPlan, load: Load): Promise<boolean> {
  await Promise.race([Promise.all(load.uacStarts), rig.interrupted]);
  const cap = cancellableSleep(plan.windowMs + plan.waitMs + 10_000);
  const callers = [...load.uacs, ...(load.trunk ? [load.trunk] : []), ...load.holders.flatMap((h) => (h.proc ? [h.proc] : [])), ...load.tcp.map((t) => t.proc)];
  const ended = await Promise.race([Promise.all(callers.map((u) => u.exited)).then(() => true), cap.done.then(() => false), rig.interrupted]).finally(
    cap.cancel,
  );
  clearInterval(load.natWatch);
  if (!ended) event(rig, 'calls', `${callers.filter((u) => u.running).length} caller(s) still running when the rehearsal stopped waiting`);
  return ended;
}

async function observe(rig: Rig, plan: RehearsalPlan, load: Load, instances: readonly FleetInstance[]): Promise<Observed> {
  const read = (f: string) => readFile(path.join(rig.dir, f), 'utf8').catch(() => '');
  const handoffs = new Map(await Promise.all(instances.map(async (i) => [i.id, handoffPeers(await read(`agent-${i.k}.log`))] as const)));
  const outcomes = callOutcomes(await Promise.all(plan.groups.map((_, gi) => read(`uac-${gi}.log`))));
  const uasLogs = await Promise.all(load.peers.map((p) => read(`uas-${p}.log`)));
  const ends = callEnds([...uasLogs]);
  const trunkLog = load.trunk ? await read('uac-trunk.log') : '';
  const trunkOutcomes = load.trunk ? callOutcomes([trunkLog]) : [];
  const holderOutcomes = callOutcomes(await Promise.all(load.holders.map((h) => readFile(h.log, 'utf8').catch(() => ''))));
  const tcpOutcomes = callOutcomes(await Promise.all(load.tcp.map((t) => readFile(t.log, 'utf8').catch(() => ''))));
  for (const c of [...outcomes, ...trunkOutcomes, ...holderOutcomes, ...tcpOutcomes]) {
    const e = ends.get(c.callId);
    if (e !== undefined) c.endedAt = e;
  }
  return { outcomes, trunkOutcomes, holderOutcomes, tcpOutcomes, ends, uasLogs, trunkLog, handoffs };
}

/** A call is cut when the instance that owned its dialog was terminated while the call was still up (its end, seen
 *  at the callee, came later or never): its media anchor and dialog state went with the instance. */
function markCut(seen: Observed, rec: RollRecord, callsEnded: boolean): Set<string> {
  const cut = new Set<string>();
  for (const [, h] of rec.heldAtTerminate) for (const c of h.calls) if ((seen.ends.get(c) ?? Infinity) > h.at) cut.add(c);
  for (const c of [...seen.outcomes, ...seen.trunkOutcomes, ...seen.holderOutcomes, ...seen.tcpOutcomes]) {
    if (cut.has(c.callId) && c.result !== 'refused') c.result = 'dropped';
    // Up, never ended, on no terminated instance, and the rehearsal stopped waiting: the harness cut it.
    else if (!callsEnded && c.result === 'dropped') c.cutByRehearsal = true;
  }
  return cut;
}

export interface DrainTimes {
  pickedAt: number;
  /** When the instance's drain agent started; later than pickedAt for an instance picked while still booting. */
  agentStartedAt?: number;
  terminatedAt: number;
  /** The end of the last call it held at the pick (pickedAt when none). */
  lastEnd: number;
  /** Until when handed-off INVITE transactions could hold it (0: none). */
  handoffsUntil: number;
  deregMs: number;
  pollMs: number;
}

/**
 * Pure: the drain's bound: termination within the deregistration delay + one poll + 1 s of the later of the pick,
 * its last call's end and its hand-offs. It counts from when the agent could first read IMDS target-lifecycle-state:
 * the pick, or, for an instance picked before its drain agent ran (a new one a rollback terminates mid-boot), the
 * agent's start. Before that nothing on the instance can act; and the rig's boot runs at this machine's speed, not
 * scaled (launches are in UNSCALED below), so 10 s of boot under load would otherwise count as 100 AWS seconds of drain.
 */
export function drainWithinBound(t: DrainTimes): boolean {
  const from = Math.max(t.pickedAt, t.agentStartedAt ?? t.pickedAt);
  return t.terminatedAt - from <= Math.max(from, t.lastEnd, t.handoffsUntil) - from + t.deregMs + t.pollMs + 1000;
}

function perInstance(
  rig: Rig,
  f: Fleet,
  plan: RehearsalPlan,
  load: Load,
  rec: RollRecord,
  seen: Observed,
  cut: Set<string>,
  pollSeconds: number,
): InstanceSummary[] {
  return f.cs.instances.map((i) => {
    const s: InstanceSummary = { id: i.id, image: i.image, heartbeats: i.heartbeats, ...(i.endedBy ? { endedBy: i.endedBy } : {}) };
    const boot = f.boots.get(i.id);
    if (boot !== undefined) s.boot = boot;
    const bootSeconds = bootSecondsOf(rig).get(i.id); // r4-baked: --baked
    if (bootSeconds !== undefined) s.bootSeconds = bootSeconds;
    const handedTo = seen.handoffs.get(i.id) ?? [];
    if (handedTo.length) s.handedTo = handedTo;
    const { pickedAt, terminatedAt } = i;
    if (pickedAt === undefined || terminatedAt === undefined) return s;
    const held = rec.callsAtPick.get(i.id) ?? [];
    const lastEnd = Math.max(pickedAt, ...held.map((c) => seen.ends.get(c) ?? pickedAt));
    s.drainSeconds = ((terminatedAt - pickedAt) / 1000) * rig.o.scale;
    s.longestRemainingCallSeconds = ((lastEnd - pickedAt) / 1000) * rig.o.scale;
    s.callsAtPick = held.length;
    s.callsCut = (rec.heldAtTerminate.get(i.id)?.calls ?? []).filter((c) => cut.has(c)).length;
    // An instance that kept the trunk's flow relayed new INVITEs to a peer until the cut; the drain waits for
    // those INVITE transactions, which Kamailio keeps for its wait timer after the answer (tm wt_timer, 5 s,
    // not scaled: the rehearsal scales AWS's timers and the calls, not Kamailio's).
    const handoffsUntil = Math.max(0, ...load.trunkDraining.filter((w) => w.id === i.id).map((w) => (w.to ?? terminatedAt) + TM_WAIT_MS));
    s.withinBound = drainWithinBound({
      pickedAt,
      ...(i.agentStartedAt !== undefined ? { agentStartedAt: i.agentStartedAt } : {}),
      terminatedAt,
      lastEnd,
      handoffsUntil,
      deregMs: plan.deregMs,
      pollMs: pollSeconds * 1000,
    });
    if (i.agentStartedAt !== undefined && i.agentStartedAt > pickedAt) s.agentAfterPickSeconds = Math.round(i.agentStartedAt - pickedAt) / 1000;
    return s;
  });
}

/** The sequential floor: each replacement's launch-to-healthy, its old instance's deregistration delay and what was
 *  left of its drain after the delay (AWS cannot do better in this order; src/contract/drain-timing.ts). */
function floorMs(f: Fleet, plan: RehearsalPlan, rec: RollRecord, seen: Observed): number {
  return f.cs.instances
    .filter((i) => i.image === 'old')
    .reduce((sum, i) => {
      const { pickedAt } = i;
      if (pickedAt === undefined) return sum;
      const held = rec.callsAtPick.get(i.id) ?? [];
      const left = Math.max(0, ...held.map((c) => (seen.ends.get(c) ?? pickedAt) - pickedAt));
      return sum + plan.deregMs + Math.max(0, left - plan.deregMs);
    }, 0);
}

/** What the rehearsal never scales (so × scale would overstate them). */
const UNSCALED = [
  "instance launch to healthy (a namespace boots as fast as it does; AWS's launch times are not emulated)",
  "Kamailio's timers (tm wait 5 s, INVITE 30 s)",
  "the NAT gateway's idle timeouts (its namespace's conntrack timers; the NLB's 120 s UDP idle timeout is scaled)",
];

/** Pure: the replacements' launch-to-healthy, real time; one that never became healthy launched until the roll
 *  ended (its launch timeout, which is not scaled either). */
export function launchWallMs(instances: ReadonlyArray<{ image: 'old' | 'new'; launchedAt: number; inServiceAt?: number }>, rollEndedAt: number): number {
  return instances.filter((i) => i.image === 'new').reduce((sum, i) => sum + ((i.inServiceAt ?? rollEndedAt) - i.launchedAt), 0);
}

/** Pure: the roll's time, launches (real time) apart from the scaled rest. */
export function rollTimes(rollMs: number, launchMs: number, scale: number): RollTimes {
  const scaledMs = Math.max(0, rollMs - launchMs);
  return { wallSeconds: rollMs / 1000, launchWallSeconds: launchMs / 1000, scaledAsAwsSeconds: (scaledMs / 1000) * scale, unscaled: UNSCALED };
}

async function trunkSummary(rig: Rig, load: Load, seen: Observed): Promise<NonNullable<RehearsalSummary['trunk']>> {
  const kamLogs = await Promise.all(
    (await readdir(rig.dir)).filter((f) => /^kamailio-\d+\.log$/.test(f)).map((f) => readFile(path.join(rig.dir, f), 'utf8').catch(() => '')),
  );
  // When each trunk call's INVITE left the trunk (its first send).
  const invitedAt = new Map<string, number>();
  for (const m of timedMessages(seen.trunkLog)) {
    const id = /^Call-ID:\s*(\S+)/im.exec(m.text)?.[1];
    if (m.direction === 'sent' && /^INVITE /.test(m.text) && id !== undefined && !invitedAt.has(id)) invitedAt.set(id, m.at);
  }
  const end = Date.now();
  const t = seen.trunkOutcomes;
  const trunkIds = new Set(t.map((c) => c.callId));
  const natLogs = seen.uasLogs.join('\n');
  const s = {
    source: `${ADDR.trunk}:5060`,
    ...countCalls(t),
    handedOff: handedOff(natLogs, trunkIds).length,
    handoffsLogged: handoffsLogged(kamLogs, trunkIds),
    placedWhileDraining: [...invitedAt.values()].filter((at) => load.trunkDraining.some((w) => at >= w.from && at < (w.to ?? end))).length,
  };
  event(
    rig,
    'trunk',
    `${s.placed} call(s): ${s.completed} completed, ${s.refused} refused, ${s.dropped} dropped; ${s.placedWhileDraining} placed while its flow's instance drained, ${s.handedOff} handed off`,
  );
  return s;
}

/** Pure: calls by outcome; planned: how many the callers were to place (undefined: open-ended, as the trunk's). */
export function countCalls(calls: readonly CallOutcome[], planned?: number): CallCounts {
  const count = (r: CallOutcome['result']) => calls.filter((c) => c.result === r).length;
  return {
    placed: calls.length,
    completed: count('completed'),
    dropped: count('dropped'),
    refused: count('refused'),
    unanswered: count('unanswered'),
    unplaced: planned === undefined ? 0 : Math.max(0, planned - calls.length),
    cutByRehearsal: calls.filter((c) => c.cutByRehearsal).length,
    answeredAfterRetransmission: calls.filter((c) => c.result === 'completed' && (c.inviteRetransmissions ?? 0) > 0).length,
    callerBye: calls.filter((c) => c.result === 'completed' && c.endedBy === 'caller').length,
    calleeBye: calls.filter((c) => c.result === 'completed' && c.endedBy === 'callee').length,
  };
}

export async function summarize(
  rig: Rig,
  f: Fleet,
  plan: RehearsalPlan,
  load: Load,
  rolled: RollResult,
  imgs: { old: RehearsalImage; new: RehearsalImage },
  callsEnded: boolean,
): Promise<RehearsalSummary> {
  const { o } = rig;
  const { rec } = rolled;
  const seen = await observe(rig, plan, load, f.cs.instances);
  const cut = markCut(seen, rec, callsEnded);
  const times = rollTimes(rec.rollMs, launchWallMs(f.cs.instances, rec.rollEndedAt), o.scale);
  const poll = imgs.old.pollSeconds;
  const rtp = await readRtpFigures(rig.dir); // r3-media (rtp-report.ts)
  // A call whose audio stopped is dropped, even if its BYE went through.
  for (const list of [seen.outcomes, seen.trunkOutcomes, seen.holderOutcomes, seen.tcpOutcomes]) markAudioLost(list, rtp);
  const trunk = load.trunk ? await trunkSummary(rig, load, seen) : undefined;
  const measured: Omit<RehearsalSummary, 'verdict'> = {
    engine: 'sipbake roll',
    ...(o.baked ? { baked: true, ...(bakesOf(rig) ? { bakes: bakesOf(rig) } : {}) } : {}),
    ...(imgs.old.rtpproxy || imgs.new.rtpproxy ? { mediaAddress: o.mediaAddress ?? 'instance' } : {}),
    ...(o.break ? { break: o.break } : {}),
    outcome: rolled.outcome,
    fleetAtEnd: rolled.fleetAtEnd,
    image: imgs.old.name,
    to: imgs.new.name,
    instances: o.instances,
    scale: o.scale,
    deregistrationDelaySeconds: o.deregistrationDelaySeconds,
    hookTimeoutSeconds: o.hookTimeoutSeconds,
    pollSeconds: poll,
    calls: countCalls(
      seen.outcomes,
      plan.groups.reduce((n, g) => n + g.calls, 0),
    ),
    perInstance: perInstance(rig, f, plan, load, rec, seen, cut, poll),
    rollSeconds: times.scaledAsAwsSeconds,
    floorSeconds: (floorMs(f, plan, rec, seen) / 1000) * o.scale,
    times,
    hooksTimedOut: f.cs.instances.filter((i) => i.endedBy === 'timeout').length,
    timeline: rig.timeline,
    droppedCalls: [...seen.outcomes, ...seen.trunkOutcomes, ...seen.holderOutcomes, ...seen.tcpOutcomes].filter((c) => c.result === 'dropped'),
    ...(trunk ? { trunk } : {}),
    ...(load.holders.length ? { holders: { ...countCalls(seen.holderOutcomes), sources: Object.fromEntries(load.holders.map((h) => [h.id, h.src])) } } : {}),
    ...(load.tcp.length ? { tcp: countCalls(seen.tcpOutcomes) } : {}),
    ...(rtp ? { rtp } : {}),
    natPath: { ...natPath(seen.uasLogs.join('\n')), ...natTranslations(load.natFlows) },
    ...(rolled.failed !== undefined ? { failed: rolled.failed } : {}),
  };
  const summary = { ...measured, verdict: verdict(measured) };
  const agentCalls = f.agentWire?.requests ?? [];
  const completes = agentCalls.filter((c) => c.action === 'CompleteLifecycleAction');
  if (agentCalls.length)
    event(
      rig,
      'asg',
      `${completes.filter((c) => !c.ok).length} CompleteLifecycleAction(s) refused before Terminating:Wait, ${completes.filter((c) => c.ok).length} accepted`,
    );
  return summary;
}
