// Pure: the drain agent's decisions. One observation in, the next state and the effects to run out.
// The runner (drain.ts) observes, calls step(), and performs the actions in order.

export type Phase = 'serving' | 'draining' | 'completing';

export type EndReason = 'no-calls-left' | 'deadline' | 'kamailio-down';

export interface DrainState {
  phase: Phase;
  healthOpen: boolean;
  drainStartedAt?: number;
  lastHeartbeatAt?: number;
  /** Highest dialog count seen since the drain started (calls the drain had to wait for). */
  peakDialogs: number;
  lastDialogs?: number;
}

export interface Observation {
  now: number;
  /** autoscaling/target-lifecycle-state, undefined when unknown (no hook, IMDS error). */
  lifecycle?: string;
  kamailioAlive: boolean;
  /** dlg.stats_active "all"; undefined when it was not read or the read failed. */
  dialogs?: number;
}

export interface DrainParams {
  maxMs: number;
  heartbeatEveryMs: number;
}

export interface Outcome {
  reason: EndReason;
  endedNormally: number;
  cut: number;
  drainMs: number;
}

export type Action =
  | { type: 'health-open' }
  | { type: 'health-fail' }
  | { type: 'set-draining' }
  | { type: 'heartbeat' }
  | { type: 'complete'; outcome: Outcome }
  | { type: 'log'; line: string };

export const initialState: DrainState = { phase: 'serving', healthOpen: false, peakDialogs: 0 };

/** Auto Scaling sets the target state to Terminated when a scale-in/refresh picks this instance. */
export function isLeaving(lifecycle: string | undefined): boolean {
  return lifecycle !== undefined && (lifecycle === 'Terminated' || lifecycle.startsWith('Terminating') || lifecycle === 'Warmed:Terminated');
}

function complete(s: DrainState, o: Observation, reason: EndReason, cut: number): { state: DrainState; actions: Action[] } {
  const started = s.drainStartedAt ?? o.now;
  const outcome: Outcome = { reason, cut, endedNormally: Math.max(0, s.peakDialogs - cut), drainMs: o.now - started };
  const why = {
    'no-calls-left': 'no calls left',
    deadline: `drain.maxSeconds (${Math.round((o.now - started) / 1000)} s) ran out`,
    'kamailio-down': 'Kamailio is not running',
  }[reason];
  return {
    state: { ...s, phase: 'completing' },
    actions: [
      { type: 'log', line: `drain over: ${why}; ${outcome.endedNormally} call(s) ended normally, ${cut} cut` },
      { type: 'complete', outcome },
    ],
  };
}

export function step(s: DrainState, o: Observation, p: DrainParams): { state: DrainState; actions: Action[] } {
  if (s.phase === 'completing') return { state: s, actions: [] };

  if (s.phase === 'serving') {
    if (isLeaving(o.lifecycle)) {
      const dialogs = o.dialogs ?? 0;
      const next: DrainState = { ...s, phase: 'draining', healthOpen: false, drainStartedAt: o.now, peakDialogs: dialogs, lastDialogs: dialogs };
      const actions: Action[] = [{ type: 'log', line: `lifecycle state ${o.lifecycle}: draining ${o.dialogs ?? 'an unknown number of'} call(s); new INVITEs turned away, health-check port failing` }];
      if (o.kamailioAlive) actions.push({ type: 'set-draining' });
      actions.push({ type: 'health-fail' });
      if (!o.kamailioAlive) {
        const c = complete(next, o, 'kamailio-down', 0);
        return { state: c.state, actions: [...actions, ...c.actions] };
      }
      if (o.dialogs === 0) {
        const c = complete(next, o, 'no-calls-left', 0);
        return { state: c.state, actions: [...actions, ...c.actions] };
      }
      return { state: next, actions };
    }
    if (o.kamailioAlive && !s.healthOpen) return { state: { ...s, healthOpen: true }, actions: [{ type: 'health-open' }, { type: 'log', line: 'Kamailio is up: health-check port open' }] };
    if (!o.kamailioAlive && s.healthOpen) return { state: { ...s, healthOpen: false }, actions: [{ type: 'health-fail' }, { type: 'log', line: 'Kamailio is not answering: health-check port closed' }] };
    return { state: s, actions: [] };
  }

  // draining
  const started = s.drainStartedAt ?? o.now;
  const next: DrainState = {
    ...s,
    peakDialogs: Math.max(s.peakDialogs, o.dialogs ?? 0),
    ...(o.dialogs !== undefined ? { lastDialogs: o.dialogs } : {}),
  };
  if (!o.kamailioAlive) return complete(next, o, 'kamailio-down', next.lastDialogs ?? 0);
  if (o.dialogs === 0) return complete(next, o, 'no-calls-left', 0);
  if (o.now - started >= p.maxMs) return complete(next, o, 'deadline', next.lastDialogs ?? 0);
  // Re-asserted every poll: idempotent, and survives a failed RPC or a Kamailio restart.
  const actions: Action[] = [{ type: 'set-draining' }];
  if (o.now - (s.lastHeartbeatAt ?? started) >= p.heartbeatEveryMs) {
    next.lastHeartbeatAt = o.now;
    actions.push({ type: 'heartbeat' }, { type: 'log', line: `still waiting for ${next.lastDialogs ?? '?'} call(s): lifecycle heartbeat` });
  }
  return { state: next, actions };
}

/** Pure: how long to sleep before the next observation (never past the deadline or a heartbeat). */
export function nextDelayMs(s: DrainState, now: number, pollMs: number, p: DrainParams): number {
  if (s.phase !== 'draining' || s.drainStartedAt === undefined) return pollMs;
  const toDeadline = s.drainStartedAt + p.maxMs - now;
  const toHeartbeat = (s.lastHeartbeatAt ?? s.drainStartedAt) + p.heartbeatEveryMs - now;
  return Math.max(0, Math.min(pollMs, toDeadline, toHeartbeat));
}
