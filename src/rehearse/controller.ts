// Pure: one Auto Scaling group rolling every instance onto a new image, in AWS's documented order (README.md
// here cites the pages). observe → step(state, observation) → actions → perform, as src/agent/drain-machine.ts.
// Per old instance, like an instance refresh with MinHealthyPercentage 100 (launch before terminate):
//   launch a replacement from the new image; register it with the NLB once its health check passes;
//   then pick the old one: IMDS target-lifecycle-state → Terminated; deregister from the NLB (new flows stop);
//   wait the deregistration delay; cut its remaining flows (conntrack); Terminating:Wait with the hook timeout
//   (heartbeats extend it, up to the global timeout); CompleteLifecycleAction or the timeout; terminate.

import { globalTimeoutSeconds } from '../contract/drain-timing.js';

type InstanceState = 'Pending' | 'InService' | 'Terminating' | 'Terminating:Wait' | 'Terminating:Proceed' | 'Terminated';

interface Instance {
  id: string;
  /** Index in the subnet (address 10.0.1.(10+k)) and namespace name. */
  k: number;
  image: 'old' | 'new';
  state: InstanceState;
  registered: boolean;
  healthyChecks: number;
  launchedAt: number;
  inServiceAt?: number;
  pickedAt?: number;
  deregisteredAt?: number;
  waitStartedAt?: number;
  timeoutAt?: number;
  globalTimeoutAt?: number;
  heartbeats: number;
  endedBy?: 'complete' | 'timeout';
  terminatedAt?: number;
}

export interface ControllerParams {
  deregistrationDelayMs: number;
  hookTimeoutMs: number;
  /** Consecutive passing health checks before a target is registered (NLB HealthyThresholdCount). */
  healthyThreshold: number;
  /** A launch that is not healthy within this fails the roll. */
  launchTimeoutMs: number;
}

export interface ControllerState {
  instances: Instance[];
  /** Old instances still to replace, in order. */
  queue: string[];
  nextK: number;
  /** The replacement being launched for queue[0], and the old instance being terminated. */
  launching?: string;
  /** The replacement for queue[0] is InService: queue[0] may leave. */
  ready?: string;
  leaving?: string;
  done: boolean;
  failed?: string;
}

export interface Observation {
  now: number;
  /** Health-check result per instance id this poll (Pending and InService ones). */
  health: Record<string, boolean>;
  /** CompleteLifecycleAction calls accepted since the last step (the endpoint validated them). */
  completed: string[];
  /** Accepted RecordLifecycleActionHeartbeat calls since the last step. */
  heartbeats: string[];
}

export type Action =
  | { type: 'launch'; id: string; k: number; image: 'old' | 'new' }
  | { type: 'register'; id: string }
  | { type: 'set-target-state'; id: string; state: 'Terminated' }
  | { type: 'deregister'; id: string }
  | { type: 'cut-flows'; id: string }
  | { type: 'terminate'; id: string }
  | { type: 'event'; id: string; what: string };

const instanceId = (k: number): string => `i-0rehearse${String(k).padStart(6, '0')}`;

/** The group at the start: n old instances, already InService and registered. */
export function initialController(n: number, now: number): ControllerState {
  const instances: Instance[] = Array.from({ length: n }, (_, i) => ({
    id: instanceId(i + 1),
    k: i + 1,
    image: 'old',
    state: 'InService',
    registered: true,
    healthyChecks: 0,
    launchedAt: now,
    inServiceAt: now,
    heartbeats: 0,
  }));
  return { instances, queue: instances.map((i) => i.id), nextK: n + 1, done: false };
}

/** What an instance's Auto Scaling calls may do now: a lifecycle action exists only in Terminating:Wait. */
export function hasActiveAction(s: ControllerState, id: string): boolean {
  return s.instances.find((i) => i.id === id)?.state === 'Terminating:Wait';
}

/** A time the instance's state implies was recorded (waitStartedAt in Terminating:Wait, …); its absence is a bug here. */
function recorded(i: Instance, field: 'pickedAt' | 'deregisteredAt' | 'waitStartedAt' | 'timeoutAt'): number {
  const v = i[field];
  if (v === undefined) throw new Error(`controller: ${i.id} is ${i.state} without ${field}`);
  return v;
}

function patch(s: ControllerState, id: string, p: Partial<Instance>): ControllerState {
  return { ...s, instances: s.instances.map((i) => (i.id === id ? { ...i, ...p } : i)) };
}

export function step(s0: ControllerState, o: Observation, p: ControllerParams): { state: ControllerState; actions: Action[] } {
  if (s0.done) return { state: s0, actions: [] };
  let s = s0;
  const actions: Action[] = [];
  const ev = (id: string, what: string) => actions.push({ type: 'event', id, what });
  const find = (id: string) => s.instances.find((i) => i.id === id);
  // For the ids the controller itself keeps (launching, leaving): always one of its instances.
  const get = (id: string) => {
    const i = find(id);
    if (i === undefined) throw new Error(`controller: ${id} is not an instance of the group`);
    return i;
  };

  // Heartbeats and completions first: they belong to the action that exists now.
  for (const id of o.heartbeats) {
    const i = find(id);
    if (i?.state !== 'Terminating:Wait') continue;
    s = patch(s, id, {
      heartbeats: i.heartbeats + 1,
      timeoutAt: Math.min(o.now + p.hookTimeoutMs, i.globalTimeoutAt ?? Infinity),
    });
  }
  for (const id of o.completed) {
    const i = find(id);
    if (i?.state !== 'Terminating:Wait') continue;
    s = patch(s, id, { state: 'Terminating:Proceed', endedBy: 'complete' });
    ev(id, `CompleteLifecycleAction CONTINUE after ${((o.now - recorded(i, 'waitStartedAt')) / 1000).toFixed(1)} s in Terminating:Wait`);
  }

  // The replacement: health checks, then registration (InService).
  if (s.launching) {
    const r = get(s.launching);
    const ok = o.health[r.id] === true;
    const checks = ok ? r.healthyChecks + 1 : 0;
    s = patch(s, r.id, { healthyChecks: checks });
    if (checks >= p.healthyThreshold) {
      s = patch(s, r.id, { state: 'InService', registered: true, inServiceAt: o.now });
      actions.push({ type: 'register', id: r.id });
      ev(r.id, `healthy (${checks} checks): registered with the NLB, InService`);
      s = { ...s, launching: undefined, ready: r.id };
    } else if (o.now - r.launchedAt > p.launchTimeoutMs) {
      ev(r.id, `not healthy ${Math.round(p.launchTimeoutMs / 1000)} s after launch: roll failed`);
      return {
        state: { ...s, done: true, failed: `replacement ${r.id} never became healthy`, launching: undefined },
        actions,
      };
    }
  }

  // The instance leaving: deregistration delay, then the hook, then termination.
  const leaving = s.leaving;
  if (leaving) {
    const i = get(leaving);
    if (i.state === 'Terminating' && o.now - recorded(i, 'deregisteredAt') >= p.deregistrationDelayMs) {
      actions.push({ type: 'cut-flows', id: i.id });
      s = patch(s, i.id, {
        state: 'Terminating:Wait',
        waitStartedAt: o.now,
        timeoutAt: o.now + p.hookTimeoutMs,
        globalTimeoutAt: o.now + globalTimeoutSeconds(p.hookTimeoutMs / 1000) * 1000,
      });
      ev(i.id, `deregistration delay over: remaining flows cut; Terminating:Wait (hook timeout ${p.hookTimeoutMs / 1000} s)`);
    } else if (i.state === 'Terminating:Wait' && o.now >= recorded(i, 'timeoutAt')) {
      s = patch(s, i.id, { state: 'Terminating:Proceed', endedBy: 'timeout' });
      ev(i.id, `lifecycle hook timed out after ${((o.now - recorded(i, 'waitStartedAt')) / 1000).toFixed(1)} s (default result)`);
    }
    const j = get(leaving);
    if (j.state === 'Terminating:Proceed') {
      actions.push({ type: 'terminate', id: j.id });
      s = patch(s, j.id, { state: 'Terminated', terminatedAt: o.now });
      ev(j.id, `terminated ${((o.now - recorded(j, 'pickedAt')) / 1000).toFixed(1)} s after it was picked`);
      s = { ...s, leaving: undefined, queue: s.queue.slice(1) };
    }
  }

  // Next: launch a replacement for queue[0], or pick queue[0] once its replacement is InService.
  if (!s.launching && !s.leaving) {
    const old = s.queue[0];
    if (old === undefined) return { state: { ...s, done: true }, actions };
    if (!s.ready) {
      const k = s.nextK;
      const id = instanceId(k);
      s = {
        ...s,
        nextK: k + 1,
        launching: id,
        instances: [
          ...s.instances,
          {
            id,
            k,
            image: 'new',
            state: 'Pending',
            registered: false,
            healthyChecks: 0,
            launchedAt: o.now,
            heartbeats: 0,
          },
        ],
      };
      actions.push({ type: 'launch', id, k, image: 'new' });
      ev(id, `launched from the new image to replace ${old}`);
    } else {
      s = patch(s, old, { state: 'Terminating', registered: false, pickedAt: o.now, deregisteredAt: o.now });
      s = { ...s, leaving: old, ready: undefined };
      actions.push({ type: 'set-target-state', id: old, state: 'Terminated' }, { type: 'deregister', id: old });
      ev(old, 'picked for termination: IMDS target-lifecycle-state Terminated; deregistered from the NLB (new flows go elsewhere)');
    }
  }
  return { state: s, actions };
}

/** Pure: when the next observation is due (a poll, or sooner when a delay or timeout ends). */
export function nextDelayMs(s: ControllerState, now: number, pollMs: number, p: ControllerParams): number {
  const l = s.leaving ? s.instances.find((i) => i.id === s.leaving) : undefined;
  let due = now + pollMs;
  if (l?.state === 'Terminating') due = Math.min(due, recorded(l, 'deregisteredAt') + p.deregistrationDelayMs);
  if (l?.state === 'Terminating:Wait') due = Math.min(due, recorded(l, 'timeoutAt'));
  return Math.max(0, due - now);
}
