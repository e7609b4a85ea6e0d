import { describe, expect, it } from 'vitest';
import { initialState, isLeaving, nextDelayMs, step, type Action, type DrainParams, type DrainState, type Observation } from '../../src/agent/drain-machine.js';

const P: DrainParams = { maxMs: 60_000, heartbeatEveryMs: 20_000, downAfterFailures: 3, completeGraceMs: 30_000, peerCheckEveryMs: 10_000 };
// No transaction in flight unless a case says so.
const obs = (o: Partial<Observation> & { now: number }): Observation => ({ kamailioAlive: true, transactions: 0, ...o });
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
    const dead = { kamailioAlive: false, processAlive: false };
    const r = run([
      obs({ now: 0, kamailioAlive: false }),
      obs({ now: 1 }),
      obs({ now: 2 }),
      obs({ now: 3, ...dead }),
      obs({ now: 4, ...dead }),
      obs({ now: 5, ...dead }),
    ]);
    expect(r.actions.map(types)).toEqual([[], ['health-open'], [], [], [], ['health-fail']]);
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
    expect(
      r.actions
        .slice(0, 3)
        .flat()
        .some((a) => a.type === 'complete'),
    ).toBe(false);
    expect(types(r.actions[3]!)).toEqual(['complete']);
    expect(r.state.outcome).toEqual({ reason: 'no-calls-left', endedNormally: 20, cut: 0, drainMs: 12_000 });
    expect(r.state.phase).toBe('completing');
  });

  it('completes at once when no call is up', () => {
    const r = run([obs({ now: 0, lifecycle: 'Terminated', dialogs: 0 })]);
    expect(types(r.actions[0]!)).toEqual(['set-draining', 'health-fail', 'complete']);
    expect(r.state.phase).toBe('completing');
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
    expect(types(r.actions[2]!)).toEqual(['complete']);
    expect(r.state.outcome).toEqual({ reason: 'deadline', endedNormally: 2, cut: 3, drainMs: 60_000 });
  });

  it('heartbeats every half hook timeout while it waits, and not before', () => {
    const times = [0, 10_000, 19_999, 20_000, 30_000, 40_000];
    const r = run(times.map((now) => obs({ now, lifecycle: 'Terminated', dialogs: 4 })));
    expect(r.actions.map((a) => a.some((x) => x.type === 'heartbeat'))).toEqual([false, false, false, true, false, true]);
  });

  it('completes when Kamailio dies mid-drain (3 missed RPCs and its process gone) and counts the calls it had as cut', () => {
    const dead = { lifecycle: 'Terminated', kamailioAlive: false, processAlive: false };
    const r = run([
      obs({ now: 0, lifecycle: 'Terminated', dialogs: 4 }),
      obs({ now: 1000, ...dead }),
      obs({ now: 2000, ...dead }),
      obs({ now: 3000, ...dead }),
    ]);
    expect(
      r.actions
        .slice(0, 3)
        .flat()
        .some((a) => a.type === 'complete'),
    ).toBe(false);
    expect(types(r.actions[3]!)).toEqual(['complete']);
    expect(r.state.outcome).toMatchObject({ reason: 'kamailio-down', cut: 4, endedNormally: 0 });
  });

  it('once done, does nothing more', () => {
    const r = run([
      obs({ now: 0, lifecycle: 'Terminated', dialogs: 0 }),
      obs({ now: 1000, lifecycle: 'Terminated', completeResult: 'accepted' }),
      obs({ now: 2000, lifecycle: 'Terminated', dialogs: 0 }),
    ]);
    expect(r.state.phase).toBe('done');
    expect(r.actions[2]).toEqual([]);
  });

  it('many no-action answers never give up before the deadline, and offers settle at one per 30 s', () => {
    const long: DrainParams = { ...P, maxMs: 600_000 };
    let s = initialState;
    let last: Observation['completeResult'];
    const offers: number[] = [];
    for (let t = 0; t <= 300_000; t += 5000) {
      const r = step(s, obs({ now: t, lifecycle: 'Terminated', dialogs: 0, ...(last ? { completeResult: last } : {}) }), long);
      s = r.state;
      last = r.actions.some((a) => a.type === 'complete') ? 'no-action' : undefined;
      if (last) offers.push(t / 1000);
    }
    expect(s.phase).toBe('completing');
    expect(offers.slice(0, 5)).toEqual([0, 10, 25, 50, 85]);
    expect(offers.slice(4).every((t, i, a) => i === 0 || t - a[i - 1]! === 35)).toBe(true);
    expect(offers.length).toBeLessThan(15);
  });

  it('sleeps no longer than the poll, the deadline or the next heartbeat', () => {
    const s: DrainState = { ...initialState, phase: 'draining', drainStartedAt: 0, peakDialogs: 1 };
    const c: DrainState = { ...s, phase: 'completing', lastHeartbeatAt: 80_000 };
    // While completing, the bound is the deadline plus the grace (the action may not exist yet).
    expect(nextDelayMs(c, 88_000, 5000, P)).toBe(2000);
    expect(nextDelayMs(initialState, 0, 5000, P)).toBe(5000);
    expect(nextDelayMs(s, 1000, 5000, P)).toBe(5000);
    expect(nextDelayMs(s, 18_000, 5000, P)).toBe(2000);
    expect(nextDelayMs(s, 58_000, 5000, { ...P, heartbeatEveryMs: 100_000 })).toBe(2000);
  });

  // ---- AWS's real order: Terminated → deregistration delay → Terminating:Wait (the action exists only then) ----

  type Row = [
    name: string,
    script: Array<Partial<Observation> & { now: number }>,
    want: { completedAt?: number; completed?: boolean; attempts?: number; phase?: string; reason?: string },
  ];
  const T = 'Terminated';
  const table: Row[] = [
    [
      // A no-action answer comes only in the poll after an offer; offers back off 5, 10, 20 s, then 30 s.
      'calls end before the deregistration delay: offers the completion with a back-off until Terminating:Wait',
      [
        { now: 0, lifecycle: T, dialogs: 2 },
        { now: 5000, lifecycle: T, dialogs: 0 }, // offer 1
        { now: 10_000, lifecycle: T, completeResult: 'no-action' }, // next offer at 15 s
        { now: 15_000, lifecycle: T }, // offer 2
        { now: 20_000, lifecycle: T, completeResult: 'no-action' }, // next at 30 s
        { now: 25_000, lifecycle: T },
        { now: 30_000, lifecycle: T }, // offer 3
        { now: 35_000, lifecycle: T, completeResult: 'no-action' }, // next at 55 s
        ...[40, 45, 50].map((t) => ({ now: t * 1000, lifecycle: T })),
        { now: 55_000, lifecycle: T }, // offer 4
        { now: 60_000, lifecycle: 'Terminating:Wait', completeResult: 'accepted' },
      ],
      { completedAt: 60_000, completed: true, attempts: 4, reason: 'no-calls-left' },
    ],
    [
      'gives up only after the drain deadline plus the grace (the hook timeout then decides)',
      [
        { now: 0, lifecycle: T, dialogs: 0 },
        { now: 60_000, lifecycle: T, completeResult: 'no-action' },
        { now: 90_000, lifecycle: T },
      ],
      { completedAt: 90_000, completed: false, attempts: 1 },
    ],
    [
      'a throttled completion is retried at the next poll',
      [
        { now: 0, lifecycle: T, dialogs: 0 },
        { now: 5000, lifecycle: T, completeResult: 'failed' },
        { now: 10_000, lifecycle: T, completeResult: 'accepted' },
      ],
      { completedAt: 10_000, completed: true, attempts: 2 },
    ],
    [
      'one failed RPC while calls are up is not "Kamailio down"',
      [
        { now: 0, lifecycle: T, dialogs: 3 },
        { now: 5000, lifecycle: T, kamailioAlive: false, processAlive: false },
        { now: 10_000, lifecycle: T, dialogs: 3 },
      ],
      { phase: 'draining' },
    ],
    [
      'slow RPCs (timeouts) with the process still there never end the drain, however many',
      [{ now: 0, lifecycle: T, dialogs: 3 }, ...[5, 10, 15, 20, 25].map((t) => ({ now: t * 1000, lifecycle: T, kamailioAlive: false, processAlive: true }))],
      { phase: 'draining' },
    ],
    [
      'two misses then an answer resets the count: a third miss later is not the third in a row',
      [
        { now: 0, lifecycle: T, dialogs: 3 },
        { now: 1000, lifecycle: T, kamailioAlive: false, processAlive: false },
        { now: 2000, lifecycle: T, kamailioAlive: false, processAlive: false },
        { now: 3000, lifecycle: T, dialogs: 3 },
        { now: 4000, lifecycle: T, kamailioAlive: false, processAlive: false },
      ],
      { phase: 'draining' },
    ],
    [
      'an unchecked process (undefined) never counts as gone',
      [{ now: 0, lifecycle: T, dialogs: 3 }, ...[1, 2, 3, 4].map((t) => ({ now: t * 1000, lifecycle: T, kamailioAlive: false }))],
      { phase: 'draining' },
    ],
    [
      'three misses in a row and the process gone: the drain is over, calls counted as cut',
      [{ now: 0, lifecycle: T, dialogs: 3 }, ...[1, 2, 3].map((t) => ({ now: t * 1000, lifecycle: T, kamailioAlive: false, processAlive: false }))],
      { phase: 'completing', reason: 'kamailio-down', attempts: 1 },
    ],
  ];

  it.each(table)('%s', (_name, script, want) => {
    const r = run(script.map((o) => obs(o)));
    const done = r.actions.flat().find((a) => a.type === 'done');
    if (want.completedAt !== undefined) {
      expect(done, 'a done action').toBeDefined();
      const at = script[r.actions.findIndex((a) => a.some((x) => x.type === 'done'))]!.now;
      expect(at).toBe(want.completedAt);
      expect(done).toMatchObject({ report: { completed: want.completed } });
    } else {
      expect(done).toBeUndefined();
    }
    if (want.phase) expect(r.state.phase).toBe(want.phase);
    if (want.attempts !== undefined) expect(r.state.completeAttempts).toBe(want.attempts);
    if (want.reason) expect(r.state.outcome?.reason).toBe(want.reason);
  });

  it('heartbeats keep going while it waits for the action, and the health port is never reopened', () => {
    const r = run([
      obs({ now: 0, lifecycle: T, dialogs: 0 }),
      ...[10, 20, 30, 40].map((t) => obs({ now: t * 1000, lifecycle: T, completeResult: 'no-action' })),
    ]);
    expect(r.actions.map((a) => a.some((x) => x.type === 'heartbeat'))).toEqual([false, false, true, false, true]);
    expect(r.actions.flat().some((a) => a.type === 'health-open')).toBe(false);
  });

  it('in serving, the health port closes only after consecutive misses', () => {
    const miss = { kamailioAlive: false };
    const r = run([
      obs({ now: 0 }),
      obs({ now: 1, ...miss }),
      obs({ now: 2, ...miss }),
      obs({ now: 3 }),
      obs({ now: 4, ...miss }),
      obs({ now: 5, ...miss }),
      obs({ now: 6, ...miss }),
    ]);
    expect(r.actions.map(types)).toEqual([['health-open'], [], [], [], [], [], ['health-fail']]);
  });

  it('reports the whole time from the drain start to the accepted completion', () => {
    const r = run([
      obs({ now: 0, lifecycle: T, dialogs: 1 }),
      obs({ now: 4000, lifecycle: T, dialogs: 0 }),
      obs({ now: 9000, lifecycle: 'Terminating:Wait', completeResult: 'accepted' }),
    ]);
    expect(r.actions.flat().find((a) => a.type === 'done')).toEqual({
      type: 'done',
      report: {
        reason: 'no-calls-left',
        endedNormally: 1,
        cut: 0,
        drainMs: 4000,
        completed: true,
        completeAttempts: 1,
        totalMs: 9000,
      },
    });
  });
});
