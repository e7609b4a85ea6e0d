// A randomized roll simulation (issue 19 item 6): seeded scenarios drawn with fast-check, each a real `runRoll` on
// the in-process AWS model in simulated time, with faults drawn from AWS's documented behaviours; the invariants
// are checked on what sipbake printed and returned against the model's final state.
import fc from 'fast-check';
import { AbortError } from '../../../src/core/errors.js';
import { harness, run, type Harness, type RunResult } from '../helpers.js';

export const FAULT_KINDS = [
  'lag',
  'throttle',
  'transient',
  'slowBoot',
  'badAmi',
  'scaleOut',
  'alarm',
  'interrupt',
  'protected',
  'standby',
  'waitHeld',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Scenario {
  desired: number;
  faults: Record<FaultKind, boolean>;
  /** Simulated seconds after which the first run is interrupted (with the `interrupt` fault). */
  interruptAfter: number;
}

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  desired: fc.integer({ min: 1, max: 4 }),
  faults: fc.record(Object.fromEntries(FAULT_KINDS.map((k) => [k, fc.boolean()])) as Record<FaultKind, fc.Arbitrary<boolean>>),
  interruptAfter: fc.integer({ min: 5, max: 900 }),
});

const ALARM = 'sip-5xx';

function build(sc: Scenario): Harness {
  const f = sc.faults;
  const h = harness({
    desired: sc.desired,
    // lag off: 0 s; on: up to 20 s, as the fake's README documents (EC2 "Eventual consistency").
    fake: { consistencyLagSeconds: f.lag ? 20 : 0, iam: false },
    refresh: {
      ...(f.alarm ? { alarms: [ALARM] } : {}),
      // waitHeld: AWS's default preferences (Wait): the refresh waits an hour for a protected or Standby instance,
      // then fails (and AutoRollback rolls it back) unless it was freed.
      ...(f.waitHeld ? { scaleInProtectedInstances: 'Wait' as const, standbyInstances: 'Wait' as const } : {}),
    },
  });
  const asg = h.world.asg.AutoScalingGroupName;
  const started = () => h.fake.refreshes.length > 0;
  if (f.slowBoot) h.world.newAmi.appSeconds = 60;
  // One old instance protected from scale-in / put in Standby before the roll; the deploy section's default
  // preferences (ScaleInProtectedInstances / StandbyInstances: Ignore) leave it on the old AMI; with waitHeld (Wait)
  // the refresh waits for it.
  const first = () => h.fake.instancesOf(asg)[0]!.InstanceId;
  if (f.protected) h.fake.protect(first());
  if (f.standby && sc.desired > 1) h.fake.enterStandby(h.fake.instancesOf(asg).at(-1)!.InstanceId);
  if (f.badAmi) h.world.newAmi.health = 'unhealthy';
  if (f.throttle) h.fake.when(started, () => h.fake.faults.throttleStorm(h.fake.nowMs, h.fake.nowMs + 60_000, /^Describe/));
  if (f.transient) h.fake.when(started, () => h.fake.faults.add({ command: 'DescribeTargetHealth', error: 'ServiceUnavailable', status: 503, times: 3 }));
  if (f.scaleOut)
    h.fake.when(
      () => h.fake.activeRefresh(asg)?.Status === 'InProgress',
      () => h.fake.scaleOut(asg, 1),
    );
  if (f.alarm) {
    h.fake.setAlarm(ALARM, 'OK');
    h.fake.when(
      () => h.fake.amisOf(asg).includes(h.world.newAmi.ImageId),
      () => h.fake.setAlarm(ALARM, 'ALARM'),
    );
  }
  return h;
}

/** The invariants; each violation is one sentence. `planted` lets the negative control doctor a result. */
function violations(h: Harness, runs: RunResult[], interrupted: boolean): string[] {
  const out: string[] = [];
  const asg = h.world.asg.AutoScalingGroupName;
  const last = runs.at(-1)!;
  const text = last.reporter.text();
  const serving = [...h.fake.instances.values()].filter((i) => i.asg === asg && i.LifecycleState === 'InService');
  if (last.summary?.outcome === 'succeeded' && serving.some((i) => i.ImageId !== h.world.newAmi.ImageId))
    out.push(`"succeeded" while instances in service run another AMI: ${serving.map((i) => `${i.InstanceId} ${i.ImageId}`).join(', ')}`);
  const forward = h.fake.refreshes[0];
  if (forward?.Status === 'Successful' && /sipbake rollback|rolled back|did not finish: ;/.test(text) && last.summary?.outcome !== 'mixed')
    out.push(`advised rolling back refresh ${forward.InstanceRefreshId}, which AWS reports Successful`);
  for (const r of runs) {
    if (r.exitCode === 0) continue;
    const reasons = r.summary ? r.summary.reasons : [r.error instanceof Error ? r.error.message : ''];
    if (!reasons.length || reasons.some((x) => !x.trim())) out.push(`exit ${r.exitCode} without a reason`);
  }
  if (interrupted && runs.length > 1 && /refused/.test(text))
    out.push(`the re-run after an interrupt was refused: ${text.split('\n').find((l) => /refused/.test(l))}`);
  if (h.world.asg.tags['sipbake:lease'] !== undefined) out.push('a lease was left held after the exit');
  if (last.summary && last.summary.outcome !== 'planned') {
    const printed = last.summary.instances.map((i) => `${i.id} ${i.ami}`).sort();
    const model = [...h.fake.instances.values()]
      .filter((i) => i.asg === asg && !i.LifecycleState.startsWith('Terminat'))
      .map((i) => `${i.InstanceId} ${i.ImageId}`)
      .sort();
    if (printed.join() !== model.join()) out.push(`printed instances [${printed.join(', ')}] differ from the model [${model.join(', ')}]`);
  }
  return out;
}

/** One seeded roll: the first run (interrupted with that fault), then a re-run when it was interrupted. */
export async function simulate(sc: Scenario, plant?: (r: RunResult) => void): Promise<string[]> {
  const h = build(sc);
  try {
    const runs: RunResult[] = [];
    if (sc.faults.interrupt) {
      const ac = new AbortController();
      const at = h.fake.nowMs + sc.interruptAfter * 1000;
      h.fake.when(
        () => h.fake.nowMs >= at,
        () => ac.abort(new AbortError('interrupted by the simulation')),
      );
      runs.push(await run(h, {}, ac.signal));
    }
    if (!runs.length || runs[0]!.exitCode === 130) runs.push(await run(h));
    if (plant) plant(runs.at(-1)!);
    return violations(h, runs, sc.faults.interrupt);
  } finally {
    h.restore();
  }
}
