// Issue 19 item 3: sipbake recognises and follows AWS's own rollback (AutoRollback with alarms). When AWS starts
// rolling back between sipbake's poll and its RollbackInstanceRefresh, sipbake follows AWS's rollback: it never
// starts a second refresh, never cancels the rollback (CancelInstanceRefresh cancels a rollback in progress), and a
// re-run after an interrupt attaches to it instead of being refused for the AMI it is rejecting.
import { describe, expect, it } from 'vitest';
import { AbortError } from '../../src/core/errors.js';
import { startRollback } from '../../src/region/refresh-engine.js';
import { harness, run, type Harness } from './helpers.js';

const ALARM = 'sip-5xx';

/**
 * sipbake's gate fails on the new AMI's unhealthy instances; AWS's own alarm rollback starts just before sipbake's
 * RollbackInstanceRefresh reaches it (the alarm fired between sipbake's poll and its call).
 */
function raceAwsRollback(h: Harness, beforeCall: string): void {
  const asg = h.world.asg.AutoScalingGroupName;
  h.world.newAmi.health = 'unhealthy';
  h.fake.setAlarm(ALARM, 'OK');
  h.fake.faults.before(beforeCall, () => {
    h.fake.setAlarm(ALARM, 'ALARM');
    const r = h.fake.activeRefresh(asg);
    if (r && r.Status !== 'RollbackInProgress') startRollback(h.fake, r, `Alarm ${ALARM} is in ALARM state`, h.fake.nowMs);
  });
}

describe("roll: AWS's own rollback", () => {
  it("follows AWS's rollback when RollbackInstanceRefresh answers ActiveInstanceRefreshNotFound", async () => {
    const h = harness({ desired: 2, refresh: { alarms: [ALARM] } });
    raceAwsRollback(h, 'RollbackInstanceRefresh');
    const r = await run(h);
    expect(r.summary?.outcome).toBe('rolled-back');
    expect(r.exitCode).toBe(1);
    expect(r.summary?.reasons.join(' ')).toMatch(/went unhealthy/);
    expect(r.summary?.rollback?.how).toBe('aws-rollback');
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(1);
    expect(h.fake.callsOf('CancelInstanceRefresh')).toHaveLength(0);
    expect(h.fake.amisOf(h.world.asg.AutoScalingGroupName)).toEqual([h.world.oldAmi.ImageId, h.world.oldAmi.ImageId]);
  });

  it('never cancels a rollback AWS runs when RollbackInstanceRefresh says IrreversibleInstanceRefresh', async () => {
    const h = harness({ desired: 2, refresh: { alarms: [ALARM] } });
    raceAwsRollback(h, 'RollbackInstanceRefresh');
    h.fake.faults.add({ command: 'RollbackInstanceRefresh', error: 'IrreversibleInstanceRefreshFault', times: 1 });
    const r = await run(h);
    expect(h.fake.callsOf('CancelInstanceRefresh')).toHaveLength(0);
    expect(h.fake.refreshes[0]!.Status).toBe('RollbackSuccessful');
    expect(r.summary?.outcome).toBe('rolled-back');
  });

  it("a re-run of the roll after an interrupt during AWS's rollback attaches to it and records the outcome", async () => {
    const h = harness({ desired: 2, refresh: { alarms: [ALARM] } });
    const asg = h.world.asg.AutoScalingGroupName;
    h.fake.setAlarm(ALARM, 'OK');
    h.fake.when(
      () => h.fake.amisOf(asg).includes(h.world.newAmi.ImageId),
      () => h.fake.setAlarm(ALARM, 'ALARM'),
    );
    const ac = new AbortController();
    h.fake.on('rollback-started', () => h.fake.at(h.fake.nowMs + 1000, () => ac.abort(new AbortError('killed'))));
    const first = await run(h, {}, ac.signal);
    expect(first.exitCode).toBe(130);
    expect(h.fake.activeRefresh(asg)?.Status).toBe('RollbackInProgress');
    const again = await run(h);
    expect(again.reporter.text()).not.toMatch(/refused/);
    expect(again.summary?.outcome).toBe('rolled-back');
    expect(h.world.asg.tags['sipbake:last-roll']).toMatch(/^rolled-back twilio-relay/);
    expect(h.fake.callsOf('CancelInstanceRefresh')).toHaveLength(0);
  });

  it("rollback --to the old AMI while AWS's rollback runs follows it", async () => {
    const h = harness({ desired: 2, refresh: { alarms: [ALARM] } });
    const asg = h.world.asg.AutoScalingGroupName;
    h.fake.setAlarm(ALARM, 'OK');
    h.fake.when(
      () => h.fake.amisOf(asg).includes(h.world.newAmi.ImageId),
      () => h.fake.setAlarm(ALARM, 'ALARM'),
    );
    const ac = new AbortController();
    h.fake.on('rollback-started', () => h.fake.at(h.fake.nowMs + 1000, () => ac.abort(new AbortError('killed'))));
    await run(h, {}, ac.signal);
    expect(h.fake.activeRefresh(asg)?.Status).toBe('RollbackInProgress');
    const back = await run(h, { kind: 'rollback', ami: h.world.oldAmi.ImageId });
    expect(back.error).toBeUndefined();
    expect(back.summary?.outcome).toBe('rolled-back');
    expect(back.exitCode).toBe(0);
    expect(h.fake.callsOf('CancelInstanceRefresh')).toHaveLength(0);
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(1);
  });

  it("a re-run after AWS's rollback ended records that end instead of refusing the AMI as rejected", async () => {
    const h = harness({ desired: 2, refresh: { alarms: [ALARM] } });
    const asg = h.world.asg.AutoScalingGroupName;
    h.fake.setAlarm(ALARM, 'OK');
    h.fake.when(
      () => h.fake.amisOf(asg).includes(h.world.newAmi.ImageId),
      () => h.fake.setAlarm(ALARM, 'ALARM'),
    );
    const ac = new AbortController();
    // Interrupted once sipbake has seen AWS's rollback and rejected the AMI, before the rollback ends.
    h.fake.when(
      () => Object.keys(h.world.asg.tags).some((k) => k.startsWith('sipbake:rejected')),
      () => ac.abort(new AbortError('killed')),
    );
    await run(h, {}, ac.signal);
    expect(h.world.asg.tags['sipbake:last-roll']).toMatch(/^started twilio-relay/);
    await h.fake.clock.sleep(3600_000); // AWS's rollback ends while nobody watches
    expect(h.fake.refreshes[0]!.Status).toBe('RollbackSuccessful');
    const again = await run(h);
    expect(again.reporter.text()).not.toMatch(/refused/);
    expect(again.summary?.outcome).toBe('rolled-back');
    expect(again.exitCode).toBe(1);
    expect(again.summary?.reasons.join(' ')).toMatch(/ended RollbackSuccessful: AWS rolled the refresh back/);
    expect(h.world.asg.tags['sipbake:last-roll']).toMatch(/^rolled-back twilio-relay/);
  });
});
