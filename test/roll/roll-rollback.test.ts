import { describe, expect, it } from 'vitest';
import { FAKE_EPOCH } from '../fakes/aws/index.js';
import { harness, run } from './helpers.js';

describe('roll: the gate fails and the roll is rolled back', () => {
  it('rolls back by itself when the new AMI never becomes healthy', async () => {
    const h = harness({ desired: 2 });
    const { asg, oldAmi, newAmi } = h.world;
    h.fake.images.get(newAmi.ImageId)!.health = 'unhealthy';
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    expect(r.summary).toMatchObject({ outcome: 'rolled-back', groupVersion: '1', rollback: { how: 'aws-rollback' } });
    expect(r.summary!.reasons.join()).toMatch(
      /2 instance\(s\) of ami-\w+ went unhealthy or were replaced \(limit 2\): i-\w+ marked Unhealthy by Auto Scaling, i-\w+ marked Unhealthy by Auto Scaling/,
    );
    expect(h.fake.amisOf(asg.AutoScalingGroupName)).toEqual([oldAmi.ImageId, oldAmi.ImageId]);
    expect(r.summary!.instances.map((i) => i.ami)).toEqual([oldAmi.ImageId, oldAmi.ImageId]);
    expect(asg.launchTemplate!.Version).toBe('1');
    expect(h.fake.callsOf('RollbackInstanceRefresh')).toHaveLength(1);
    // The gate fails at the first poll after the deadline, and the rollback starts in that same poll.
    const rb = r.summary!.rollback!;
    expect(rb.startedAtMs - rb.gateFailedAtMs).toBeLessThanOrEqual(15_000);
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 1 ${oldAmi.ImageId}`);
    expect(asg.tags['sipbake:last-roll']).toMatch(/^rolled-back twilio-relay/);
    expect(r.reporter.text()).toMatch(/FAILED and was rolled back to version 1/);
  });

  it('rolls back when an alarm fires at the first checkpoint', async () => {
    const h = harness({
      desired: 4,
      refresh: { checkpointPercentages: [50, 100], checkpointDelay: 300, alarms: ['sip-5xx'] },
    });
    const { asg, oldAmi } = h.world;
    h.fake.setAlarm('sip-5xx', 'OK');
    let firedAt = 0;
    h.fake.on('checkpoint', () => {
      h.fake.setAlarm('sip-5xx', 'ALARM');
      firedAt = h.fake.nowMs;
    });
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    expect(r.summary!.outcome).toBe('rolled-back');
    expect(r.summary!.reasons.join()).toMatch(/sip-5xx/);
    expect(h.fake.amisOf(asg.AutoScalingGroupName)).toEqual(Array(4).fill(oldAmi.ImageId));
    expect(asg.launchTemplate!.Version).toBe('1');
    expect(firedAt).toBeGreaterThan(0);
    expect(r.summary!.rollback!.startedAtMs - firedAt).toBeLessThanOrEqual(15_000);
  });

  it('starts a new refresh to the previous version when AWS already failed the refresh (AutoRollback off)', async () => {
    const h = harness({
      desired: 4,
      refresh: { checkpointPercentages: [50, 100], autoRollback: false, alarms: ['sip-5xx'] },
    });
    const { asg, oldAmi } = h.world;
    h.fake.setAlarm('sip-5xx', 'OK');
    // Between two polls (every 15 s), so AWS fails the refresh before sipbake's own gate sees the alarm.
    h.fake.at(FAKE_EPOCH + 91_000, () => h.fake.setAlarm('sip-5xx', 'ALARM'));
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    expect(r.summary).toMatchObject({ outcome: 'rolled-back', groupVersion: '1', rollback: { how: 'new-refresh' } });
    expect(r.summary!.reasons.join()).toMatch(/refresh Failed: Alarm sip-5xx is in ALARM state/);
    expect(h.fake.refreshes.map((x) => x.Status)).toEqual(['Failed', 'Successful']);
    expect(h.fake.amisOf(asg.AutoScalingGroupName)).toEqual(Array(4).fill(oldAmi.ImageId));
    expect(asg.launchTemplate!.Version).toBe('1');
  });

  it('starts a new refresh to the previous version when AWS calls the refresh irreversible', async () => {
    const h = harness({ desired: 2 });
    const { asg, oldAmi, newAmi } = h.world;
    h.fake.images.get(newAmi.ImageId)!.health = 'unhealthy';
    h.fake.faults.add({ command: 'RollbackInstanceRefresh', error: 'IrreversibleInstanceRefreshFault', times: 1 });
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    expect(r.summary).toMatchObject({ outcome: 'rolled-back', rollback: { how: 'new-refresh' } });
    expect(h.fake.callsOf('CancelInstanceRefresh')).toHaveLength(1);
    const starts = h.fake.callsOf('StartInstanceRefresh');
    expect(starts).toHaveLength(2);
    expect(starts[1]!.input).toMatchObject({
      DesiredConfiguration: { LaunchTemplate: { Version: '1' } },
      Preferences: { AutoRollback: false, SkipMatching: true },
    });
    expect(h.fake.amisOf(asg.AutoScalingGroupName)).toEqual([oldAmi.ImageId, oldAmi.ImageId]);
    expect(asg.launchTemplate!.Version).toBe('1');
  });

  it('survives a throttling storm on the status polls', async () => {
    const h = harness({ desired: 2 });
    h.fake.faults.throttleStorm(FAKE_EPOCH + 10_000, FAKE_EPOCH + 300_000, /^Describe/);
    const r = await run(h);
    expect(r.exitCode).toBe(0);
    expect(r.summary).toMatchObject({ outcome: 'succeeded', groupVersion: '2' });
    expect(h.fake.faults.fired.length).toBeGreaterThan(10);
    expect(h.fake.amisOf(h.world.asg.AutoScalingGroupName)).toEqual(Array(2).fill(h.world.newAmi.ImageId));
    expect(h.world.asg.launchTemplate!.Version).toBe('2');
    expect(r.reporter.text()).toMatch(/throttling the status poll/);
    // It notices the end within one poll after the storm.
    expect(r.summary!.seconds).toBeLessThanOrEqual(300 + 15);
  });

  it('a throttled write that outlasts the SDK retries becomes a sentence with a fix', async () => {
    const h = harness({ desired: 2 });
    h.fake.faults.add({ command: 'StartInstanceRefresh', error: 'Throttling', times: 1 });
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    expect(r.reporter.text()).toMatch(/AWS kept throttling starting an instance refresh of kamailio-lb-asg/);
    expect(r.reporter.text()).toMatch(/fix: run the same command again/);
  });
});
