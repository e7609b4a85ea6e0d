// Pure: the drain agent's decisions. One observation in, the next state and the effects to run out.
// The runner (drain.ts) observes, calls step(), and performs the actions in order.
//
// The order this follows is AWS's (docs/drain-timeline.md, "How lifecycle hooks work", steps 4-5):
// IMDS autoscaling/target-lifecycle-state turns Terminated first; the load balancer then deregisters the
// instance and waits out its deregistration delay; only then does the termination hook put the instance into
// Terminating:Wait, which is when a lifecycle action exists. So the drain starts at Terminated, and once the
// calls are gone the agent keeps offering CompleteLifecycleAction every poll ("No active Lifecycle Action" is
// the normal answer until Terminating:Wait) instead of giving up after a few tries.
//
// Hand-off: the NLB keeps existing flows (a trunk's one UDP 5-tuple) on this instance for the whole
// deregistration delay, so while it drains Kamailio hands new INVITEs to a serving peer ($shv(handoff)).
// The runner looks the peers up every peerCheckEveryMs (peersDue); a failed lookup or no peer clears the
// hand-off (new INVITEs get 503, as without it). A handed-off INVITE is a transaction here, not a dialog:
// the drain is over only when both counts are 0, and CompleteLifecycleAction waits while transactions last.
//
// Spot: EC2 gives a Spot Instance a two-minute interruption notice (IMDS spot/instance-action, "Spot Instance
// interruption notices", Amazon EC2 user guide) and then stops or terminates it whatever the hooks say. The
// notice starts the same drain, with its deadline moved to the notice's time less SPOT_MARGIN_MS.

import type { PeerResult } from './peers.js';

type Phase = 'serving' | 'draining' | 'completing' | 'done';

type EndReason = 'no-calls-left' | 'deadline' | 'kamailio-down';

/** What the last CompleteLifecycleAction returned: accepted, refused because there is no action yet, or failed otherwise. */
export type CompleteResult = 'accepted' | 'no-action' | 'failed';

export interface DrainState {
  phase: Phase;
  /** When EC2 reclaims this Spot Instance (the notice's time); the drain must end before it. */
  spotAt?: number;
  healthOpen: boolean;
  drainStartedAt?: number;
  lastHeartbeatAt?: number;
  /** Highest dialog count seen since the drain started (calls the drain had to wait for). */
  peakDialogs: number;
  lastDialogs?: number;
  /** Consecutive observations in which Kamailio did not answer its RPC (failed or too slow). */
  rpcFailures: number;
  /** Set when the calls are over (or cut): what the drain achieved. */
  outcome?: Outcome;
  completeAttempts: number;
  /** No-action answers seen so far (the action does not exist until Terminating:Wait). */
  noActionAnswers: number;
  /** After a no-action answer, CompleteLifecycleAction is not offered again before this (back-off). */
  nextCompleteAt?: number;
  /** The peer Kamailio hands new INVITEs to ($shv(handoff)); undefined: none (503). */
  handoffPeer?: string;
  /** Why there is no peer, as last logged (logged again only when it changes). */
  peerNote?: string;
  lastPeerCheckAt?: number;
  /** INVITE server transactions (tm.list) at the last read. */
  lastTransactions?: number;
}

export interface Observation {
  now: number;
  /** autoscaling/target-lifecycle-state, undefined when unknown (no hook, IMDS error). */
  lifecycle?: string;
  /** Kamailio answered core.uptime in time. One miss is not "down": see rpcFailures and processAlive. */
  kamailioAlive: boolean;
  /** The Kamailio process is there (its ctl socket accepts a connection); undefined when not checked. */
  processAlive?: boolean;
  /** dlg.stats_active "all"; undefined when it was not read or the read failed. */
  dialogs?: number;
  /** INVITE server transactions tm holds (tm.list), handed-off INVITEs among them; undefined when not read. */
  transactions?: number;
  /** A stats read (dialogs or transactions) failed although core.uptime answered: counts as a failed RPC. */
  statsFailed?: boolean;
  /** The serving-peer lookup, when peersDue() asked for one. */
  peers?: PeerResult;
  /** The answer to the 'complete' action of the previous step, if one was performed. */
  completeResult?: CompleteResult;
  /** IMDS spot/instance-action's time, when EC2 has sent a Spot interruption notice. */
  spotInterruptionAt?: number;
}

export interface DrainParams {
  maxMs: number;
  heartbeatEveryMs: number;
  /** Consecutive failed RPCs before Kamailio may count as down (with the process check). */
  downAfterFailures: number;
  /**
   * How long after the drain deadline the agent still offers CompleteLifecycleAction when the action has not
   * appeared (a deregistration delay longer than drain.maxSeconds). After it, Auto Scaling's hook timeout decides.
   */
  completeGraceMs: number;
  /** How often the serving peers are looked up again while draining (a peer may start leaving too). */
  peerCheckEveryMs: number;
  /** First back-off between CompleteLifecycleAction offers (default 5 s: half the default poll); it doubles up to 6×.
   *  The runner sets it from its poll interval, so a scaled-down poll (the rehearsal) scales the back-off too. */
  completeBackoffBaseMs?: number;
}

interface Outcome {
  reason: EndReason;
  endedNormally: number;
  cut: number;
  drainMs: number;
}

export interface Report extends Outcome {
  completed: boolean;
  completeAttempts: number;
  /** From the drain start to the accepted CompleteLifecycleAction (or to giving up). */
  totalMs: number;
}

export type Action =
  | { type: 'health-open' }
  | { type: 'health-fail' }
  | { type: 'set-draining' }
  /** $shv(handoff): the peer's private address, or cleared (no peer: 503). */
  | { type: 'set-handoff'; peer?: string }
  | { type: 'heartbeat' }
  | { type: 'complete' }
  | { type: 'done'; report: Report }
  | { type: 'log'; line: string };

export const DEFAULT_DOWN_AFTER_FAILURES = 3;
/** EC2's Spot interruption notice comes this long before the instance is stopped or terminated. */
export const SPOT_NOTICE_MS = 120_000;
/** The drain ends this long before the notice's time, so calls are closed while the instance still runs. */
export const SPOT_MARGIN_MS = 10_000;
/**
 * Back-off between CompleteLifecycleAction offers while Auto Scaling answers "No active Lifecycle Action" (the
 * deregistration delay is still running): 5 s, 10 s, 20 s, then every 30 s. A 300 s delay costs about a dozen
 * calls instead of one per poll; Terminating:Wait is met at most 30 s late.
 */
function completeBackoffMs(noActionAnswers: number, baseMs = 5_000): number {
  return Math.min(6 * baseMs, baseMs * 2 ** Math.max(0, Math.min(noActionAnswers - 1, 3)));
}

export const initialState: DrainState = {
  phase: 'serving',
  healthOpen: false,
  peakDialogs: 0,
  rpcFailures: 0,
  completeAttempts: 0,
  noActionAnswers: 0,
};

/** Auto Scaling sets the target state to Terminated when a scale-in/refresh picks this instance. */
export function isLeaving(lifecycle: string | undefined): boolean {
  return lifecycle !== undefined && (lifecycle === 'Terminated' || lifecycle.startsWith('Terminating') || lifecycle === 'Warmed:Terminated');
}

/** Leaving: the group picked this instance, or EC2 is reclaiming it (Spot). */
export function leavingNow(o: Pick<Observation, 'lifecycle' | 'spotInterruptionAt'>): boolean {
  return isLeaving(o.lifecycle) || o.spotInterruptionAt !== undefined;
}

/** When the drain must be over: drain.maxSeconds after it started, or earlier for a Spot notice. */
function drainDeadline(s: DrainState, started: number, p: DrainParams): number {
  const normal = started + p.maxMs;
  return s.spotAt === undefined ? normal : Math.min(normal, s.spotAt - SPOT_MARGIN_MS);
}

/** When CompleteLifecycleAction stops being offered: after the grace, or when EC2 takes a Spot Instance. */
function completeDeadline(s: DrainState, started: number, p: DrainParams): number {
  const normal = started + p.maxMs + p.completeGraceMs;
  return s.spotAt === undefined ? normal : Math.min(normal, s.spotAt);
}

/** A Spot notice seen for the first time: remembered, logged once. */
function noteSpot(s: DrainState, o: Observation, next: DrainState, actions: Action[]): void {
  if (o.spotInterruptionAt === undefined || s.spotAt !== undefined) return;
  next.spotAt = o.spotInterruptionAt;
  const left = Math.round((o.spotInterruptionAt - o.now) / 1000);
  actions.push({
    type: 'log',
    line: `Spot interruption notice: EC2 reclaims this instance in ${left} s (a two-minute notice); the drain ends ${SPOT_MARGIN_MS / 1000} s before`,
  });
}

/** Pure: whether the runner should look the serving peers up in this observation. */
export function peersDue(s: DrainState, leaving: boolean, now: number, p: DrainParams): boolean {
  if (s.phase === 'done') return false;
  if (s.phase === 'serving' && !leaving) return false;
  return s.lastPeerCheckAt === undefined || now - s.lastPeerCheckAt >= p.peerCheckEveryMs;
}

/**
 * The hand-off part of a step: a new peer is set and logged once; no peer (or a failed lookup) clears it
 * and logs why once per distinct reason. A known peer is re-asserted every poll (idempotent; survives a
 * Kamailio restart, which resets $shv(handoff) to 0).
 */
function handoff(s: DrainState, o: Observation, next: DrainState, actions: Action[]): void {
  const r = o.peers;
  if (r === undefined) {
    if (s.handoffPeer !== undefined) actions.push({ type: 'set-handoff', peer: s.handoffPeer });
    return;
  }
  next.lastPeerCheckAt = o.now;
  if ('peer' in r) {
    if (r.peer !== s.handoffPeer)
      actions.push({
        type: 'log',
        line: `handing new INVITEs to ${r.instanceId} (${r.peer})${s.handoffPeer ? ` instead of ${s.handoffPeer}` : ''}`,
      });
    next.handoffPeer = r.peer;
    delete next.peerNote;
    actions.push({ type: 'set-handoff', peer: r.peer });
    return;
  }
  const why = 'none' in r ? r.none : r.failed;
  if (s.handoffPeer !== undefined || s.peerNote !== why) {
    actions.push({ type: 'log', line: `no peer to hand new INVITEs to: ${why}; they get the drain's 503 until one is found` });
    actions.push({ type: 'set-handoff' });
  }
  delete next.handoffPeer;
  next.peerNote = why;
}

/** Kamailio is down only when several RPCs in a row failed and its process is gone too. */
function kamailioDown(failures: number, o: Observation, p: DrainParams): boolean {
  return failures >= p.downAfterFailures && o.processAlive === false;
}

/** No call is up and no transaction (a handed-off INVITE ringing on a peer) is in flight. */
function callsOver(o: Observation): boolean {
  return o.dialogs === 0 && o.transactions === 0;
}

function drainOver(s: DrainState, o: Observation, reason: EndReason, cut: number, p?: DrainParams): { state: DrainState; actions: Action[] } {
  const started = s.drainStartedAt ?? o.now;
  const outcome: Outcome = { reason, cut, endedNormally: Math.max(0, s.peakDialogs - cut), drainMs: o.now - started };
  const why = {
    'no-calls-left': 'no calls left',
    deadline:
      s.spotAt !== undefined && p !== undefined && s.spotAt - SPOT_MARGIN_MS <= started + p.maxMs
        ? `the Spot interruption notice's two minutes ran out (${Math.round((o.now - started) / 1000)} s of drain)`
        : `drain.maxSeconds (${Math.round((o.now - started) / 1000)} s) ran out`,
    'kamailio-down': 'Kamailio is not running',
  }[reason];
  return {
    state: { ...s, phase: 'completing', outcome, completeAttempts: s.completeAttempts + 1 },
    actions: [{ type: 'log', line: `drain over: ${why}; ${outcome.endedNormally} call(s) ended normally, ${cut} cut` }, { type: 'complete' }],
  };
}

function heartbeatIfDue(s: DrainState, o: Observation, p: DrainParams, next: DrainState, actions: Action[], waitingFor: string): void {
  const started = s.drainStartedAt ?? o.now;
  if (o.now - (s.lastHeartbeatAt ?? started) >= p.heartbeatEveryMs) {
    next.lastHeartbeatAt = o.now;
    actions.push({ type: 'heartbeat' }, { type: 'log', line: `${waitingFor}: lifecycle heartbeat` });
  }
}

function completing(s: DrainState, o: Observation, p: DrainParams): { state: DrainState; actions: Action[] } {
  const started = s.drainStartedAt ?? o.now;
  const outcome = s.outcome;
  // drainOver sets the outcome as it enters 'completing'.
  if (outcome === undefined) throw new Error('drain plan: completing without an outcome');
  const finish = (completed: boolean, line: string) => ({
    state: { ...s, phase: 'done' as const },
    actions: [
      { type: 'log' as const, line },
      {
        type: 'done' as const,
        report: { ...outcome, completed, completeAttempts: s.completeAttempts, totalMs: o.now - started },
      },
    ],
  });
  if (o.completeResult === 'accepted') return finish(true, `CompleteLifecycleAction CONTINUE accepted (attempt ${s.completeAttempts})`);
  const next: DrainState = { ...s, ...(o.transactions !== undefined ? { lastTransactions: o.transactions } : {}) };
  const actions: Action[] = [];
  handoff(s, o, next, actions);
  if (o.completeResult === 'no-action') {
    next.noActionAnswers = s.noActionAnswers + 1;
    next.nextCompleteAt = o.now + completeBackoffMs(next.noActionAnswers, p.completeBackoffBaseMs);
    if (s.noActionAnswers === 0)
      actions.push({
        type: 'log',
        line: 'no lifecycle action yet (the load balancer is still deregistering this instance): offering CompleteLifecycleAction with a back-off (5 s doubling to 30 s) until Terminating:Wait',
      });
  }
  if (o.now >= completeDeadline(s, started, p)) {
    return finish(
      false,
      `giving up on CompleteLifecycleAction after ${s.completeAttempts} attempt(s): Auto Scaling will apply the hook's default result when its timeout ends`,
    );
  }
  // New INVITEs may still arrive (and be handed off) until the deregistration delay ends: their replies
  // come back through here, so the action is not completed while a transaction is in flight.
  if (o.transactions !== undefined && o.transactions > 0) {
    if (!(s.lastTransactions !== undefined && s.lastTransactions > 0))
      actions.push({ type: 'log', line: `${o.transactions} INVITE transaction(s) in flight (handed-off calls): CompleteLifecycleAction waits for them` });
    heartbeatIfDue(s, o, p, next, actions, `waiting for ${o.transactions} transaction(s)`);
    return { state: next, actions };
  }
  heartbeatIfDue(s, o, p, next, actions, 'waiting for the lifecycle action');
  if (next.nextCompleteAt !== undefined && o.now < next.nextCompleteAt) return { state: next, actions };
  next.completeAttempts = s.completeAttempts + 1;
  actions.push({ type: 'complete' });
  return { state: next, actions };
}

type Stepped = { state: DrainState; actions: Action[] };

/** Serving, and the group just picked this instance (or a Spot notice came): the drain starts. */
function startDrain(s: DrainState, o: Observation, rpcFailures: number, down: boolean): Stepped {
  const dialogs = o.dialogs ?? 0;
  const next: DrainState = {
    ...s,
    rpcFailures,
    phase: 'draining',
    healthOpen: false,
    drainStartedAt: o.now,
    peakDialogs: dialogs,
    ...(o.dialogs !== undefined ? { lastDialogs: o.dialogs } : {}),
    ...(o.transactions !== undefined ? { lastTransactions: o.transactions } : {}),
  };
  const actions: Action[] = [];
  noteSpot(s, o, next, actions);
  actions.push({
    type: 'log',
    line: `lifecycle state ${o.lifecycle ?? 'unknown'}: draining ${o.dialogs ?? 'an unknown number of'} call(s); new INVITEs handed to a peer or turned away, health-check port failing`,
  });
  // The peer first, so no INVITE meets the drain flag without it.
  handoff(s, o, next, actions);
  actions.push({ type: 'set-draining' }, { type: 'health-fail' });
  const reason: EndReason | undefined = down ? 'kamailio-down' : callsOver(o) ? 'no-calls-left' : undefined;
  if (reason === undefined) return { state: next, actions };
  const c = drainOver(next, o, reason, 0);
  return { state: c.state, actions: [...actions, ...c.actions] };
}

/** Serving and staying: the health-check port follows Kamailio's answers. */
function serving(s: DrainState, o: Observation, p: DrainParams, rpcFailures: number): Stepped {
  const next = { ...s, rpcFailures };
  if (o.kamailioAlive && !s.healthOpen)
    return {
      state: { ...next, healthOpen: true },
      actions: [{ type: 'health-open' }, { type: 'log', line: 'Kamailio is up: health-check port open' }],
    };
  // The health port closes after consecutive misses (a wedged Kamailio is unhealthy even if its process lives).
  if (rpcFailures >= p.downAfterFailures && s.healthOpen) {
    return {
      state: { ...next, healthOpen: false },
      actions: [{ type: 'health-fail' }, { type: 'log', line: `Kamailio did not answer ${rpcFailures} RPCs in a row: health-check port closed` }],
    };
  }
  return { state: next, actions: [] };
}

/** Draining: the drain ends (Kamailio down, no calls left, deadline) or waits on, re-asserting the drain flag. */
function draining(s: DrainState, o: Observation, p: DrainParams, rpcFailures: number, down: boolean): Stepped {
  const started = s.drainStartedAt ?? o.now;
  const next: DrainState = {
    ...s,
    rpcFailures,
    peakDialogs: Math.max(s.peakDialogs, o.dialogs ?? 0),
    ...(o.dialogs !== undefined ? { lastDialogs: o.dialogs } : {}),
    ...(o.transactions !== undefined ? { lastTransactions: o.transactions } : {}),
  };
  const spotNote: Action[] = [];
  noteSpot(s, o, next, spotNote);
  const withPeers = (r: Stepped): Stepped => {
    const pre: Action[] = [...spotNote];
    handoff(s, o, r.state, pre);
    return { state: r.state, actions: [...pre, ...r.actions] };
  };
  if (down) return withPeers(drainOver(next, o, 'kamailio-down', next.lastDialogs ?? 0));
  if (callsOver(o)) return withPeers(drainOver(next, o, 'no-calls-left', 0));
  if (o.now >= drainDeadline(next, started, p)) return withPeers(drainOver(next, o, 'deadline', next.lastDialogs ?? 0, p));
  const actions: Action[] = [...spotNote];
  handoff(s, o, next, actions);
  // Re-asserted every poll: idempotent, and survives a failed RPC or a Kamailio restart.
  actions.push({ type: 'set-draining' });
  if (rpcFailures > 0)
    actions.push({
      type: 'log',
      line: `Kamailio did not answer (${rpcFailures} in a row, process ${o.processAlive === false ? 'gone' : o.processAlive ? 'still there' : 'not checked'}): still draining`,
    });
  const tx = next.lastTransactions ? ` and ${next.lastTransactions} INVITE transaction(s)` : '';
  heartbeatIfDue(s, o, p, next, actions, `still waiting for ${next.lastDialogs ?? '?'} call(s)${tx}`);
  return { state: next, actions };
}

export function step(s: DrainState, o: Observation, p: DrainParams): Stepped {
  if (s.phase === 'done') return { state: s, actions: [] };
  if (s.phase === 'completing') return completing(s, o, p);
  const rpcFailures = o.kamailioAlive && !o.statsFailed ? 0 : s.rpcFailures + 1;
  const down = kamailioDown(rpcFailures, o, p);
  if (s.phase === 'serving') return leavingNow(o) ? startDrain(s, o, rpcFailures, down) : serving(s, o, p, rpcFailures);
  return draining(s, o, p, rpcFailures, down);
}

/** Pure: how long to sleep before the next observation (never past the deadline or a heartbeat). */
export function nextDelayMs(s: DrainState, now: number, pollMs: number, p: DrainParams): number {
  if ((s.phase !== 'draining' && s.phase !== 'completing') || s.drainStartedAt === undefined) return pollMs;
  const deadline = s.phase === 'completing' ? completeDeadline(s, s.drainStartedAt, p) : drainDeadline(s, s.drainStartedAt, p);
  const toDeadline = deadline - now;
  const toHeartbeat = (s.lastHeartbeatAt ?? s.drainStartedAt) + p.heartbeatEveryMs - now;
  return Math.max(0, Math.min(pollMs, toDeadline, toHeartbeat));
}
