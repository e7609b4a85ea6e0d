import { describe, expect, it } from 'vitest';
import { initialState, peersDue, step, type Action, type DrainParams, type DrainState, type Observation } from '../../src/agent/drain-machine.js';

// The hand-off part of the drain plan (pure): which peer Kamailio hands new INVITEs to, when the lookup
// runs, what is logged (changes only), and that handed-off transactions hold the drain and the completion.

const P: DrainParams = { maxMs: 60_000, heartbeatEveryMs: 20_000, downAfterFailures: 3, completeGraceMs: 30_000, peerCheckEveryMs: 10_000 };
const T = 'Terminated';
const obs = (o: Partial<Observation> & { now: number }): Observation => ({ kamailioAlive: true, lifecycle: T, transactions: 0, ...o });
const peer = (ip: string, id = `i-${ip}`) => ({ peer: ip, instanceId: id });
const effects = (a: Action[]) => a.filter((x) => x.type !== 'log').map((x) => (x.type === 'set-handoff' ? `set-handoff ${x.peer ?? '-'}` : x.type));
const logs = (a: Action[]) => a.flatMap((x) => (x.type === 'log' ? [x.line] : []));

function run(observations: Observation[], s: DrainState = initialState) {
  const all: Action[][] = [];
  for (const o of observations) {
    const r = step(s, o, P);
    s = r.state;
    all.push(r.actions);
  }
  return { state: s, actions: all };
}

describe('drain plan: hand-off to a serving peer (pure)', () => {
  type Row = [name: string, script: Array<Partial<Observation> & { now: number }>, want: { effects: string[][]; logs?: RegExp[][]; peer?: string }];
  const rows: Row[] = [
    [
      'sets the peer before the drain flag, so no INVITE meets the flag without it',
      [{ now: 0, dialogs: 2, peers: peer('10.0.0.5') }],
      {
        effects: [['set-handoff 10.0.0.5', 'set-draining', 'health-fail']],
        logs: [[/draining 2 call/, /handing new INVITEs to i-10\.0\.0\.5 \(10\.0\.0\.5\)/]],
        peer: '10.0.0.5',
      },
    ],
    [
      're-asserts a known peer every poll (a Kamailio restart resets it), logging it only once',
      [
        { now: 0, dialogs: 2, peers: peer('10.0.0.5') },
        { now: 5000, dialogs: 2 },
        { now: 10_000, dialogs: 2, peers: peer('10.0.0.5') },
      ],
      {
        effects: [
          ['set-handoff 10.0.0.5', 'set-draining', 'health-fail'],
          ['set-handoff 10.0.0.5', 'set-draining'],
          ['set-handoff 10.0.0.5', 'set-draining'],
        ],
        logs: [[/draining/, /handing/], [], []],
      },
    ],
    [
      'switches when the peer changes (the old one started leaving) and says so',
      [
        { now: 0, dialogs: 1, peers: peer('10.0.0.5') },
        { now: 10_000, dialogs: 1, peers: peer('10.0.0.6') },
      ],
      {
        effects: [
          ['set-handoff 10.0.0.5', 'set-draining', 'health-fail'],
          ['set-handoff 10.0.0.6', 'set-draining'],
        ],
        logs: [[/draining/, /handing/], [/to i-10\.0\.0\.6 \(10\.0\.0\.6\) instead of 10\.0\.0\.5/]],
        peer: '10.0.0.6',
      },
    ],
    [
      'clears the peer when none is left (503 again) and logs why once',
      [
        { now: 0, dialogs: 1, peers: peer('10.0.0.5') },
        { now: 10_000, dialogs: 1, peers: { none: 'no other InService, Healthy instance in asg' } },
        { now: 19_000, dialogs: 1, peers: { none: 'no other InService, Healthy instance in asg' } },
      ],
      {
        effects: [['set-handoff 10.0.0.5', 'set-draining', 'health-fail'], ['set-handoff -', 'set-draining'], ['set-draining']],
        logs: [[/draining/, /handing/], [/no peer to hand new INVITEs to: no other InService, Healthy instance in asg; they get the drain's 503/], []],
      },
    ],
    [
      'a failed lookup (AccessDenied) never breaks the drain: no peer, one line saying what to do, the calls still drain',
      [
        { now: 0, dialogs: 1, peers: { failed: 'autoscaling:DescribeAutoScalingGroups was denied (AccessDenied): the instance role lacks it' } },
        { now: 10_000, dialogs: 1, peers: { failed: 'autoscaling:DescribeAutoScalingGroups was denied (AccessDenied): the instance role lacks it' } },
        { now: 20_000, dialogs: 0 },
      ],
      {
        effects: [['set-handoff -', 'set-draining', 'health-fail'], ['set-draining'], ['complete']],
        logs: [[/draining/, /no peer .*AccessDenied/], [], [/drain over: no calls left/]],
      },
    ],
    [
      'a different failure after another is logged again (changes only)',
      [
        { now: 0, dialogs: 1, peers: { failed: 'throttled' } },
        { now: 10_000, dialogs: 1, peers: { failed: 'denied' } },
      ],
      {
        effects: [
          ['set-handoff -', 'set-draining', 'health-fail'],
          ['set-handoff -', 'set-draining'],
        ],
        logs: [[/draining/, /throttled/], [/denied/]],
      },
    ],
    [
      'no dialog but a handed-off INVITE in flight: the drain is not over until the transaction is',
      [
        { now: 0, dialogs: 0, transactions: 2, peers: peer('10.0.0.5') },
        { now: 5000, dialogs: 0, transactions: 1 },
        { now: 10_000, dialogs: 0, transactions: 0 },
      ],
      {
        effects: [
          ['set-handoff 10.0.0.5', 'set-draining', 'health-fail'],
          ['set-handoff 10.0.0.5', 'set-draining'],
          ['set-handoff 10.0.0.5', 'complete'],
        ],
      },
    ],
    [
      'an unread transaction count never counts as none',
      [
        { now: 0, dialogs: 0, transactions: undefined },
        { now: 5000, dialogs: 0, transactions: undefined, statsFailed: true },
      ],
      { effects: [['set-draining', 'health-fail'], ['set-draining']], logs: [[/draining/], [/did not answer \(1 in a row/]] },
    ],
  ];

  it.each(rows)('%s', (_name, script, want) => {
    const r = run(script.map((o) => obs(o)));
    expect(r.actions.map(effects)).toEqual(want.effects);
    if (want.logs)
      want.logs.forEach((res, i) => {
        const got = logs(r.actions[i]!);
        expect(got, `logs of step ${i}: ${JSON.stringify(got)}`).toHaveLength(res.length);
        res.forEach((re, j) => expect(got[j]).toMatch(re));
      });
    if (want.peer) expect(r.state.handoffPeer).toBe(want.peer);
  });

  it('CompleteLifecycleAction waits while handed-off transactions are in flight (new INVITEs until the delay ends)', () => {
    const W = 'Terminating:Wait';
    const r = run([
      obs({ now: 0, dialogs: 0, peers: peer('10.0.0.5') }),
      obs({ now: 5000, lifecycle: W, transactions: 3, completeResult: 'no-action' }),
      obs({ now: 10_000, lifecycle: W, transactions: 1 }),
      obs({ now: 15_000, lifecycle: W, transactions: 0 }),
      obs({ now: 20_000, lifecycle: W, completeResult: 'accepted' }),
    ]);
    expect(r.actions.map(effects)).toEqual([
      ['set-handoff 10.0.0.5', 'set-draining', 'health-fail', 'complete'],
      ['set-handoff 10.0.0.5'],
      ['set-handoff 10.0.0.5'],
      ['set-handoff 10.0.0.5', 'complete'],
      ['done'],
    ]);
    expect(logs(r.actions[1]!).some((l) => /3 INVITE transaction\(s\) in flight/.test(l))).toBe(true);
    expect(logs(r.actions[2]!).some((l) => /in flight/.test(l))).toBe(false);
    expect(r.state.phase).toBe('done');
  });

  it.each([
    ['serving, not leaving', { ...initialState }, false, 0, false],
    ['serving, leaving now', { ...initialState }, true, 0, true],
    ['draining, never looked', { ...initialState, phase: 'draining' as const }, true, 0, true],
    ['draining, looked 9.9 s ago', { ...initialState, phase: 'draining' as const, lastPeerCheckAt: 100 }, true, 10_099, false],
    ['draining, looked 10 s ago', { ...initialState, phase: 'draining' as const, lastPeerCheckAt: 100 }, true, 10_100, true],
    ['completing, looked 10 s ago', { ...initialState, phase: 'completing' as const, lastPeerCheckAt: 0 }, true, 10_000, true],
    ['done', { ...initialState, phase: 'done' as const }, true, 99_000, false],
  ])('peer lookup due: %s', (_name, s, leaving, now, want) => {
    expect(peersDue(s, leaving, now, P)).toBe(want);
  });
});
