// The refresh machine (pure), table-driven over snapshots in the style of test/agent/drain-machine.test.ts.
import { describe, expect, it } from 'vitest';
import { initialState, resumedState, step, undo, type Action, type MachineParams, type MachineState, type Snap } from '../../src/roll/roll-machine.js';
import type { FleetInstance, RefreshInfo } from '../../src/roll/types.js';

const NEW = 'ami-0000000000000000b';
const OLD = 'ami-0000000000000000a';
const P: MachineParams = {
  image: 'relay',
  targetAmi: NEW,
  toVersion: 2,
  previous: { ltId: 'lt-1', version: 1, ami: OLD },
  gated: true,
  maxReplaced: 2,
  deadlineMs: 600_000,
  graceMs: 0,
  rollbackDeadlineMs: 1_200_000,
};

const s = (t: number) => t * 1000;
const refresh = (status: string, extra: Partial<RefreshInfo> = {}): RefreshInfo => ({
  id: 'r-1',
  status,
  percentageComplete: 0,
  instancesToUpdate: 2,
  checkpoints: [],
  ...extra,
});
const inst = (id: string, ami: string | undefined, tg: string, o: Partial<FleetInstance> = {}): FleetInstance => ({
  id,
  lifecycleState: 'InService',
  ltVersion: ami === OLD ? '1' : '2',
  ...(ami ? { ami } : {}),
  launchedAtMs: 0,
  targets: tg ? { tg } : {},
  ...o,
});
const old = (id: string) => inst(id, OLD, 'healthy');
const snap = (t: number, status: string | RefreshInfo, instances: FleetInstance[], alarm = 'OK'): Snap => ({
  atMs: s(t),
  refresh: typeof status === 'string' ? refresh(status) : status,
  instances,
  alarms: [{ name: 'sip-5xx', state: alarm }],
});
const isGateRecord = (x: Action) => x.type === 'tag' && 'sipbake:gate' in x.tags;
// The gate's own record (sipbake:gate) is asserted on its own below.
const kinds = (a: Action[]) => a.filter((x) => x.type !== 'event' && x.type !== 'log' && !isGateRecord(x)).map((x) => x.type);

function play(snaps: Snap[], st: MachineState = initialState('r-1'), p: MachineParams = P) {
  const all: Action[][] = [];
  for (const o of snaps) {
    const r = step(st, o, p);
    st = r.state;
    all.push(r.actions);
  }
  return { state: st, actions: all };
}

describe('refresh machine (pure): the gate', () => {
  it.each<[string, Snap[], string[], RegExp | undefined]>([
    [
      'healthy new instances pass',
      [
        snap(0, 'InProgress', [old('i-a'), old('i-b')]),
        snap(60, 'InProgress', [old('i-a'), old('i-b'), inst('i-1', NEW, 'healthy'), inst('i-2', NEW, 'initial')]),
      ],
      [],
      undefined,
    ],
    [
      'one unhealthy of a limit of two passes',
      [snap(30, 'InProgress', [old('i-a'), inst('i-1', NEW, 'unhealthy'), inst('i-2', NEW, 'healthy')])],
      [],
      undefined,
    ],
    [
      'two unhealthy at once fail',
      [snap(30, 'InProgress', [old('i-a'), inst('i-1', NEW, 'unhealthy'), inst('i-2', NEW, 'unhealthy')])],
      ['tag', 'rollback'],
      /2 instance\(s\) of ami-\w+ went unhealthy or were replaced \(limit 2\): i-1 unhealthy in tg, i-2 unhealthy in tg/,
    ],
    [
      'a replacement cannot reset the count (unhealthy, gone, then its replacement unhealthy)',
      [
        snap(30, 'InProgress', [old('i-a'), inst('i-1', NEW, 'unhealthy')]),
        snap(330, 'InProgress', [old('i-a')]),
        snap(345, 'InProgress', [old('i-a'), inst('i-2', NEW, 'initial', { launchedAtMs: s(331) })]),
        snap(375, 'InProgress', [old('i-a'), inst('i-2', NEW, 'unhealthy', { launchedAtMs: s(331) })]),
      ],
      ['tag', 'rollback'],
      /i-1 unhealthy in tg, i-2 unhealthy in tg/,
    ],
    [
      'instances replaced between polls count as replaced (seen, then leaving or gone)',
      [
        snap(15, 'InProgress', [old('i-a'), inst('i-1', NEW, 'initial'), inst('i-2', NEW, 'initial')]),
        snap(30, 'InProgress', [old('i-a'), inst('i-1', NEW, 'draining', { lifecycleState: 'Terminating:Wait' })]),
      ],
      ['tag', 'rollback'],
      /i-1 replaced by Auto Scaling, i-2 replaced by Auto Scaling \(gone\)/,
    ],
    [
      'Auto Scaling marking one Unhealthy counts',
      [snap(30, 'InProgress', [inst('i-1', NEW, 'initial', { asgHealth: 'Unhealthy' }), inst('i-2', NEW, 'unhealthy')])],
      ['tag', 'rollback'],
      /marked Unhealthy by Auto Scaling/,
    ],
    [
      'the deadline runs from the first new launch, not from each replacement',
      [
        snap(300, 'InProgress', [old('i-a'), inst('i-1', NEW, 'initial')]),
        snap(600, 'InProgress', [old('i-a'), inst('i-9', NEW, 'initial', { launchedAtMs: s(590) })]),
      ],
      ['tag', 'rollback'],
      /no instance of ami-\w+ became healthy within 600 s of its first launch/,
    ],
    [
      'once proven, a straggler still has its own deadline',
      [
        snap(60, 'InProgress', [inst('i-1', NEW, 'healthy')]),
        snap(700, 'InProgress', [inst('i-1', NEW, 'healthy'), inst('i-2', NEW, 'initial', { launchedAtMs: s(100) })]),
      ],
      ['tag', 'rollback'],
      /instance i-2 is not healthy after 600 s \(deadline 600 s\): tg initial/,
    ],
    ['an alarm fails it', [snap(60, 'InProgress', [inst('i-1', NEW, 'healthy')], 'ALARM')], ['tag', 'rollback'], /alarm sip-5xx is in ALARM/],
    [
      'EC2 not knowing a new instance yet (no AMI) still counts it by its version',
      [snap(30, 'InProgress', [inst('i-1', undefined, 'unhealthy'), inst('i-2', undefined, 'unhealthy')])],
      ['tag', 'rollback'],
      /i-1 unhealthy/,
    ],
    ['no gate while the refresh is Cancelling', [snap(30, 'Cancelling', [inst('i-1', NEW, 'unhealthy'), inst('i-2', NEW, 'unhealthy')])], [], undefined],
  ])('%s', (_name, snaps, last, reason) => {
    const r = play(snaps);
    expect(kinds(r.actions.at(-1)!)).toEqual(last);
    if (reason) {
      expect(r.state.phase).toBe('rolling-back');
      expect(r.state.reasons.join('; ')).toMatch(reason);
      const tag = r.actions.at(-1)!.find((a) => a.type === 'tag' && !isGateRecord(a)) as Extract<Action, { type: 'tag' }>;
      expect(Object.keys(tag.tags)).toEqual([`sipbake:rejected:${NEW}`]);
      expect(Object.values(tag.tags)[0]).toMatch(/^1970-01-01T\S+Z /);
    } else expect(r.state.phase).toBe('rolling');
  });

  it('without the gate (waiting on a rollback it was asked for) nothing fails', () => {
    const r = play([snap(700, 'InProgress', [inst('i-1', NEW, 'unhealthy'), inst('i-2', NEW, 'unhealthy')], 'ALARM')], initialState('r-1'), {
      ...P,
      gated: false,
    });
    expect(r.state.phase).toBe('rolling');
  });
});

describe('refresh machine (pure): the count survives a re-run', () => {
  it('records each newly counted instance on the group, and a resumed run starts from that record', () => {
    const first = play([
      snap(30, 'InProgress', [old('i-a'), inst('i-1', NEW, 'unhealthy')]),
      snap(45, 'InProgress', [old('i-a'), inst('i-1', NEW, 'unhealthy')]),
    ]);
    const recorded = first.actions.map((a) => a.filter(isGateRecord)) as Extract<Action, { type: 'tag' }>[][];
    expect(recorded.map((x) => x.length)).toEqual([1, 0]); // on change only
    const tag = recorded[0]![0]!.tags['sipbake:gate']!;
    expect(tag).toBe('refresh=r-1 first=1970-01-01T00:00:00.000Z count=1 ids=i-1');
    // Ctrl-C, re-run: the replacement's failure is the second, so the gate fails now (limit 2).
    const again = resumedState('r-1', { 'sipbake:gate': tag });
    expect(Object.keys(again.bad)).toEqual(['i-1']);
    const r = play([snap(360, 'InProgress', [old('i-a'), inst('i-2', NEW, 'unhealthy', { launchedAtMs: s(330) })])], again);
    expect(r.state.phase).toBe('rolling-back');
    // A record of another refresh is ignored.
    expect(resumedState('r-2', { 'sipbake:gate': tag }).bad).toEqual({});
  });
});

describe('refresh machine (pure): how the refresh ends', () => {
  it.each<[string, string, string[], MachineState['phase'], RegExp | undefined]>([
    ['Successful', 'Successful', ['tag', 'done'], 'done', undefined],
    ['AWS rolling back by itself (alarm, AutoRollback)', 'RollbackInProgress', ['tag'], 'rolling-back', /AWS rolled the refresh back/],
    ['Failed: roll back with a new refresh and reject the AMI', 'Failed', ['tag', 'rollback'], 'rolling-back', /refresh Failed/],
    ['Cancelled by someone: roll back, but do not reject the AMI', 'Cancelled', ['rollback'], 'rolling-back', /refresh Cancelled/],
  ])('%s', (_name, status, want, phase, reason) => {
    const r = play([snap(100, status, [inst('i-1', NEW, 'healthy')])]);
    expect(kinds(r.actions[0]!)).toEqual(want);
    expect(r.state.phase).toBe(phase);
    if (reason) expect(r.state.reasons.join()).toMatch(reason);
    if (status === 'Successful') {
      const tag = r.actions[0]!.find((a) => a.type === 'tag') as Extract<Action, { type: 'tag' }>;
      expect(tag.tags['sipbake:last-known-good']).toBe(`version 2 ${NEW}`);
      expect(r.state.outcome).toBe('succeeded');
    }
    if (status === 'RollbackInProgress') expect(r.state.rollback).toMatchObject({ how: 'aws-rollback', refreshId: 'r-1', startedAtMs: s(100) });
  });
});

describe('refresh machine (pure): waiting for the rollback', () => {
  const rollingBack: MachineState = {
    ...initialState('r-1', 'rolling-back'),
    reasons: ['gate'],
    rollback: { how: 'aws-rollback', refreshId: 'r-1', startedAtMs: s(100) },
  };
  it.each<[string, Snap, MachineState['outcome'] | undefined, RegExp | undefined]>([
    ['still going', snap(200, 'RollbackInProgress', [old('i-a'), inst('i-1', NEW, 'draining', { lifecycleState: 'Terminating:Wait' })]), undefined, undefined],
    ['every instance back on the previous AMI', snap(300, 'RollbackSuccessful', [old('i-a'), old('i-b')]), 'rolled-back', undefined],
    [
      'AWS says done but an instance still runs the new AMI',
      snap(300, 'RollbackSuccessful', [old('i-a'), inst('i-1', NEW, 'healthy')]),
      'rollback-failed',
      /some instances are not on ami-\w+: i-1 ami-0000000000000000b/,
    ],
    [
      'AWS says the rollback failed',
      snap(300, refresh('RollbackFailed', { statusReason: 'boom' }), [old('i-a')]),
      'rollback-failed',
      /rollback ended RollbackFailed: boom/,
    ],
    [
      'it never settles: the deadline ends the wait',
      snap(1300, refresh('RollbackInProgress', { rollback: { percentageComplete: 50 } }), [old('i-a')]),
      'rollback-failed',
      /did not settle within 1200 s: refresh r-1 is still RollbackInProgress \(50%\)/,
    ],
  ])('%s', (_name, o, outcome, reason) => {
    const r = step(rollingBack, o, P);
    expect(r.state.outcome).toBe(outcome);
    expect(kinds(r.actions)).toEqual(outcome ? ['tag', 'done'] : []);
    if (outcome) {
      const tag = r.actions.find((a) => a.type === 'tag') as Extract<Action, { type: 'tag' }>;
      expect(tag.tags['sipbake:last-roll']).toMatch(new RegExp(`^${outcome} relay ${NEW}`));
    }
    if (reason) expect(r.state.reasons.join()).toMatch(reason);
  });

  it('waits for the performer to say where the rollback went before judging anything', () => {
    const r = step({ ...rollingBack, rollback: undefined }, snap(5000, 'RollbackSuccessful', [old('i-a')]), P);
    expect(r.state.phase).toBe('rolling-back');
    expect(kinds(r.actions)).toEqual([]);
  });

  it('undo starts in rolling-back with the rollback action', () => {
    const u = undo('r-1', 'rollback requested', s(10));
    expect(u.state.phase).toBe('rolling-back');
    expect(kinds(u.actions)).toEqual(['rollback']);
  });
});

describe('refresh machine (pure): progress events', () => {
  it('emits instance, drain, checkpoint and stage events on changes only', () => {
    const a = snap(
      0,
      refresh('InProgress', {
        percentageComplete: 50,
        statusReason: 'Waiting for checkpoint delay of 300 seconds at 50%',
      }),
      [old('i-a'), inst('i-b', OLD, 'draining', { lifecycleState: 'Terminating:Wait' }), inst('i-1', NEW, 'healthy')],
    );
    const r = play([a, { ...a, atMs: s(15) }]);
    const events = (x: Action[]) => x.filter((y): y is Extract<Action, { type: 'event' }> => y.type === 'event').map((y) => y.event.event);
    expect(events(r.actions[0]!).sort()).toEqual(['checkpoint', 'drain', 'instance', 'instance', 'refresh-progress']);
    expect(events(r.actions[1]!)).toEqual([]);
  });
});
