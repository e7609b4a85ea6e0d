import { describe, expect, it } from 'vitest';
import { initialState, isLeaving, nextDelayMs, step, type Action, type DrainParams, type DrainState, type Observation } from '../../src/agent/drain-plan.js';

const P: DrainParams = { maxMs: 60_000, heartbeatEveryMs: 20_000 };
const obs = (o: Partial<Observation> & { now: number }): Observation => ({ kamailioAlive: true, ...o });
const types = (a: Action[]) => a.filter((x) => x.type !== 'log').map((x) => x.type);

function run(observations: Observation[], s: DrainState = initialState) {
  const all: Action[][] = [];
  for (const o of observations) {
    const r = step(s, o, P);
    s = r.state;
    all.push(r.actions);
  }
  return { state: s, actions: all };
}

describe('drain plan (pure)', () => {
  it.each([
    ['Terminated', true],
    ['Terminating:Wait', true],
    ['Warmed:Terminated', true],
    ['InService', false],
    ['Standby', false],
    [undefined, false],
  ])('lifecycle %s leaves: %s', (s, want) => {
    expect(isLeaving(s)).toBe(want);
  });

  it('opens the health port only while Kamailio answers, and closes it when Kamailio dies', () => {
    const r = run([obs({ now: 0, kamailioAlive: false }), obs({ now: 1 }), obs({ now: 2 }), obs({ now: 3, kamailioAlive: false })]);
    expect(r.actions.map(types)).toEqual([[], ['health-open'], [], ['health-fail']]);
  });

  it('on Terminated: sets the drain flag and fails the health port at once, then waits for the calls', () => {
    const r = run([obs({ now: 0 }), obs({ now: 1000, lifecycle: 'Terminated', dialogs: 3 }), obs({ now: 2000, lifecycle: 'Terminated', dialogs: 2 })]);
    expect(types(r.actions[1]!)).toEqual(['set-draining', 'health-fail']);
    expect(types(r.actions[2]!)).toEqual(['set-draining']);
    expect(r.state.phase).toBe('draining');
  });

  it('completes only when the dialog count reaches 0 and reports every call as ended normally', () => {
    const r = run([
      obs({ now: 0, lifecycle: 'Terminating:Wait', dialogs: 20 }),
      obs({ now: 5000, lifecycle: 'Terminating:Wait', dialogs: 7 }),
      obs({ now: 9000, lifecycle: 'Terminating:Wait', dialogs: 1 }),
      obs({ now: 12_000, lifecycle: 'Terminating:Wait', dialogs: 0 }),
    ]);
    expect(r.actions.slice(0, 3).flat().some((a) => a.type === 'complete')).toBe(false);
    const c = r.actions[3]!.find((a) => a.type === 'complete');
    expect(c).toEqual({ type: 'complete', outcome: { reason: 'no-calls-left', endedNormally: 20, cut: 0, drainMs: 12_000 } });
    expect(r.state.phase).toBe('completing');
  });

  it('completes at once when no call is up', () => {
    const r = run([obs({ now: 0, lifecycle: 'Terminated', dialogs: 0 })]);
    expect(types(r.actions[0]!)).toEqual(['set-draining', 'health-fail', 'complete']);
  });

  it('a missed dialog read (undefined) never counts as zero calls', () => {
    const r = run([obs({ now: 0, lifecycle: 'Terminated', dialogs: 2 }), obs({ now: 1000, lifecycle: 'Terminated' })]);
    expect(r.state.phase).toBe('draining');
  });

  it('completes at drain.maxSeconds and reports the calls still up as cut', () => {
    const r = run([
      obs({ now: 0, lifecycle: 'Terminated', dialogs: 5 }),
      obs({ now: 30_000, lifecycle: 'Terminated', dialogs: 3 }),
      obs({ now: 60_000, lifecycle: 'Terminated', dialogs: 3 }),
    ]);
    expect(r.actions[2]!.find((a) => a.type === 'complete')).toEqual({ type: 'complete', outcome: { reason: 'deadline', endedNormally: 2, cut: 3, drainMs: 60_000 } });
  });

  it('heartbeats every half hook timeout while it waits, and not before', () => {
    const times = [0, 10_000, 19_999, 20_000, 30_000, 40_000];
    const r = run(times.map((now) => obs({ now, lifecycle: 'Terminated', dialogs: 4 })));
    expect(r.actions.map((a) => a.some((x) => x.type === 'heartbeat'))).toEqual([false, false, false, true, false, true]);
  });

  it('completes when Kamailio dies mid-drain and counts the calls it had as cut', () => {
    const r = run([obs({ now: 0, lifecycle: 'Terminated', dialogs: 4 }), obs({ now: 1000, lifecycle: 'Terminated', kamailioAlive: false })]);
    expect(r.actions[1]!.find((a) => a.type === 'complete')).toMatchObject({ outcome: { reason: 'kamailio-down', cut: 4, endedNormally: 0 } });
  });

  it('once completing, does nothing more', () => {
    const r = run([obs({ now: 0, lifecycle: 'Terminated', dialogs: 0 }), obs({ now: 1000, lifecycle: 'Terminated', dialogs: 0 })]);
    expect(r.actions[1]).toEqual([]);
  });

  it('sleeps no longer than the poll, the deadline or the next heartbeat', () => {
    const s: DrainState = { ...initialState, phase: 'draining', drainStartedAt: 0, peakDialogs: 1 };
    expect(nextDelayMs(initialState, 0, 5000, P)).toBe(5000);
    expect(nextDelayMs(s, 1000, 5000, P)).toBe(5000);
    expect(nextDelayMs(s, 18_000, 5000, P)).toBe(2000);
    expect(nextDelayMs(s, 58_000, 5000, { ...P, heartbeatEveryMs: 100_000 })).toBe(2000);
  });
});
