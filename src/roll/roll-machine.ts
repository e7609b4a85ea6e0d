// The refresh machine (pure): one snapshot of AWS and the clock in, the next state and the actions out.
// Shape of src/agent/drain-machine.ts: perform.ts observes, calls step(), runs the actions in order.
import { badNewInstances, gateReasons, isHealthyEverywhere, isNew } from './gate.js';
import { progressEvents } from './progress.js';
import { formatGate, parseGate, rejectionTag, TAG_GATE } from './tags.js';
import { formatLkg, TAG_LAST_KNOWN_GOOD, TAG_LAST_ROLL, type RefreshInfo, type Snap } from './types.js';

export type { Snap } from './types.js';

export type { Action, MachineParams, MachineState, Phase } from './roll-machine-types.js';
import type { Action, MachineParams, MachineState, Outcome, Phase } from './roll-machine-types.js';

export function initialState(refreshId: string, phase: Phase = 'rolling'): MachineState {
  return { phase, refreshId, proven: false, bad: {}, seenNew: [], reasons: [], shown: {} };
}

/** A re-run attaching to the same refresh goes on counting from what the earlier run recorded on the group. */
export function resumedState(refreshId: string, tags: Record<string, string>): MachineState {
  const s = initialState(refreshId);
  const g = parseGate(tags[TAG_GATE]);
  if (!g || g.refreshId !== refreshId) return s;
  const bad: Record<string, string> = {};
  for (let n = 0; n < g.count; n++) bad[g.ids[n] ?? `earlier-${n + 1}`] = 'counted by an earlier run';
  return { ...s, bad, ...(g.firstNewLaunchMs !== undefined ? { firstNewLaunchMs: g.firstNewLaunchMs } : {}) };
}

/** Undo: a rollback of sipbake's own active roll starts by rolling that refresh back. */
export function undo(refreshId: string, reason: string, atMs: number): { state: MachineState; actions: Action[] } {
  const s = { ...initialState(refreshId, 'rolling-back'), reasons: [reason], gateFailedAtMs: atMs };
  return {
    state: s,
    actions: [
      { type: 'log', line: `${reason}: rolling that refresh back`, level: 'warn' },
      { type: 'rollback', reason },
    ],
  };
}

/** The performer reports where the rollback went (RollbackInstanceRefresh, or a new refresh back). */
export function rollbackStarted(s: MachineState, r: NonNullable<MachineState['rollback']>): MachineState {
  return { ...s, rollback: r };
}

const FORWARD_DONE = ['Successful', 'Failed', 'Cancelled'];
const BACK_OK = ['RollbackSuccessful', 'Successful'];
const BACK_FAILED = ['RollbackFailed', 'Failed', 'Cancelled'];

function done(s: MachineState, outcome: Outcome, tags: Record<string, string>, extra: Action[] = []): { state: MachineState; actions: Action[] } {
  return {
    state: { ...s, phase: 'done', outcome },
    actions: [...extra, { type: 'tag', tags }, { type: 'done', outcome, reasons: s.reasons }],
  };
}

function failGate(s: MachineState, o: Snap, p: MachineParams, reasons: string[], awsRollingBack: boolean): { state: MachineState; actions: Action[] } {
  const at = new Date(o.atMs).toISOString();
  const next: MachineState = { ...s, phase: 'rolling-back', reasons, gateFailedAtMs: o.atMs };
  const actions: Action[] = reasons.map((r) => ({ type: 'log', line: `gate failed: ${r}`, level: 'error' }));
  actions.push({ type: 'event', event: { event: 'health', gate: 'failed', reasons, refreshId: s.refreshId } });
  actions.push({ type: 'tag', tags: rejectionTag(p.targetAmi, at, reasons.join('; ')) });
  if (awsRollingBack) {
    next.rollback = { how: 'aws-rollback', refreshId: s.refreshId, startedAtMs: o.atMs };
    actions.push({
      type: 'log',
      line: `AWS is already rolling refresh ${s.refreshId} back; waiting for it`,
      level: 'warn',
    });
  } else actions.push({ type: 'rollback', reason: reasons.join('; ') });
  return { state: next, actions };
}

function stepForward(s: MachineState, o: Snap, p: MachineParams, r: RefreshInfo): { state: MachineState; actions: Action[] } {
  const fresh = o.instances.filter((i) => isNew(i, p));
  const next: MachineState = {
    ...s,
    bad: { ...s.bad, ...badNewInstances(s, o, p, r.status) },
    seenNew: [...new Set([...s.seenNew, ...fresh.map((i) => i.id)])],
  };
  const launches = fresh.map((i) => i.launchedAtMs ?? o.atMs);
  if (launches.length) next.firstNewLaunchMs = Math.min(next.firstNewLaunchMs ?? Infinity, ...launches);
  if (fresh.some(isHealthyEverywhere)) next.proven = true;
  const bad = Object.keys(next.bad);
  const record: Action[] =
    bad.length > Object.keys(s.bad).length
      ? [
          {
            type: 'tag',
            tags: {
              [TAG_GATE]: formatGate({
                refreshId: s.refreshId,
                ...(next.firstNewLaunchMs !== undefined ? { firstNewLaunchMs: next.firstNewLaunchMs } : {}),
                count: bad.length,
                ids: bad,
              }),
            },
          },
        ]
      : [];
  if (r.status === 'Successful') {
    const at = new Date(o.atMs).toISOString();
    return done(next, 'succeeded', {
      [TAG_LAST_KNOWN_GOOD]: formatLkg(p.toVersion, p.targetAmi),
      [TAG_LAST_ROLL]: `succeeded ${p.image} ${p.targetAmi} ${at}`,
    });
  }
  if (r.status === 'RollbackInProgress' || r.status === 'RollbackSuccessful' || r.status === 'RollbackFailed')
    return failGate(next, o, p, [`AWS rolled the refresh back: ${r.rollback?.reason ?? r.statusReason ?? 'no reason given'}`], true);
  if (FORWARD_DONE.includes(r.status)) {
    const why = `refresh ${r.status}${r.statusReason ? `: ${r.statusReason}` : ''}`;
    next.reasons = [why];
    // A refresh someone cancelled is not the AMI's fault: roll back, but do not reject the AMI.
    if (r.status === 'Cancelled')
      return {
        state: { ...next, phase: 'rolling-back', gateFailedAtMs: o.atMs },
        actions: [{ type: 'rollback', reason: why }],
      };
    return failGate(next, o, p, next.reasons, false);
  }
  if (!p.gated || r.status === 'Cancelling') return { state: next, actions: record };
  const reasons = gateReasons(next, o, p);
  if (!reasons.length) return { state: next, actions: record };
  const failed = failGate(next, o, p, reasons, false);
  return { state: failed.state, actions: [...record, ...failed.actions] };
}

function stepBack(s: MachineState, o: Snap, p: MachineParams, r: RefreshInfo | undefined): { state: MachineState; actions: Action[] } {
  const rb = s.rollback;
  if (!rb || !r) return { state: s, actions: [] };
  const at = new Date(o.atMs).toISOString();
  const record = (outcome: Outcome, reasons: string[]) => ({
    [TAG_LAST_ROLL]: `${outcome} ${p.image} ${p.targetAmi} ${at}: ${reasons.join('; ')}`.slice(0, 256),
  });
  if (BACK_OK.includes(r.status)) {
    const serving = o.instances.filter((i) => !i.lifecycleState.startsWith('Terminat'));
    const off = serving.filter((i) => i.ami !== undefined && i.ami !== p.previous.ami);
    if (serving.length > 0 && off.length === 0) return done(s, 'rolled-back', record('rolled-back', s.reasons));
    const next = {
      ...s,
      reasons: [
        ...s.reasons,
        `after the rollback some instances are not on ${p.previous.ami}: ${off.map((i) => `${i.id} ${i.ami}`).join(', ') || 'none serving'}`,
      ],
    };
    return done(next, 'rollback-failed', record('rollback-failed', next.reasons));
  }
  if (BACK_FAILED.includes(r.status)) {
    const next = {
      ...s,
      reasons: [...s.reasons, `rollback ended ${r.status}${r.statusReason ? `: ${r.statusReason}` : ''}`],
    };
    return done(next, 'rollback-failed', record('rollback-failed', next.reasons));
  }
  if (o.atMs - rb.startedAtMs >= p.rollbackDeadlineMs) {
    const secs = Math.round(p.rollbackDeadlineMs / 1000);
    const next = {
      ...s,
      reasons: [
        ...s.reasons,
        `the rollback did not settle within ${secs} s: refresh ${rb.refreshId} is still ${r.status} (${r.rollback?.percentageComplete ?? r.percentageComplete}%); sipbake stopped waiting, AWS goes on`,
      ],
    };
    return done(next, 'rollback-failed', record('rollback-failed', next.reasons));
  }
  return { state: s, actions: [] };
}

export function step(s: MachineState, o: Snap, p: MachineParams): { state: MachineState; actions: Action[] } {
  if (s.phase === 'done') return { state: s, actions: [] };
  const shown = progressEvents(s.shown, o, s.phase === 'rolling' ? s.refreshId : (s.rollback?.refreshId ?? s.refreshId));
  const base = { ...s, shown: shown.shown };
  const r = s.phase === 'rolling' ? o.refresh : s.rollback ? o.refresh : undefined;
  const out = s.phase === 'rolling' ? (r ? stepForward(base, o, p, r) : { state: base, actions: [] }) : stepBack(base, o, p, r);
  return { state: out.state, actions: [...shown.actions, ...out.actions] };
}
