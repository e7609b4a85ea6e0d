// Issue 19 item 4: "succeeded" is checked against the instances. A scale-out from the old configuration during the
// refresh leaves instances on the old AMI although AWS reports the refresh Successful: the roll says so.
import { describe, expect, it } from 'vitest';
import { harness, run } from './helpers.js';

describe('roll: success means every InService instance runs the new AMI', () => {
  it('reports a mixed fleet (exit 1, the instances and what to do) after a scale-out from the old configuration', async () => {
    const h = harness({ desired: 2 });
    const asg = h.world.asg.AutoScalingGroupName;
    h.fake.when(
      () => h.fake.activeRefresh(asg)?.Status === 'InProgress',
      () => h.fake.scaleOut(asg, 1),
    );
    const r = await run(h);
    expect(h.fake.refreshes[0]!.Status).toBe('Successful');
    expect(r.summary?.outcome).not.toBe('succeeded');
    expect(r.exitCode).toBe(1);
    const text = r.reporter.text();
    expect(text).not.toMatch(/is live and last-known-good/);
    expect(r.summary?.reasons.join(' ')).toMatch(
      new RegExp(`1 instance\\(s\\) in service or in Standby still run another AMI: i-\\w+ ${h.world.oldAmi.ImageId}`),
    );
    expect(text).toMatch(/sipbake roll twilio-relay --ami ami-\w+/);
    expect(h.world.asg.tags['sipbake:last-roll']).toMatch(/^mixed twilio-relay/);
  });

  it('reports a mixed fleet when the refresh ignored a scale-in protected instance (ScaleInProtectedInstances: Ignore)', async () => {
    const h = harness({ desired: 2 });
    const asg = h.world.asg.AutoScalingGroupName;
    const kept = h.fake.instancesOf(asg)[0]!.InstanceId;
    h.fake.protect(kept);
    const r = await run(h);
    // The deploy section's default preference (Ignore): AWS replaces the others and calls the refresh Successful.
    expect(h.fake.refreshes[0]!.prefs.ScaleInProtectedInstances).toBe('Ignore');
    expect(h.fake.refreshes[0]!.Status).toBe('Successful');
    expect(r.summary?.outcome).not.toBe('succeeded');
    expect(r.exitCode).toBe(1);
    expect(r.reporter.text()).not.toMatch(/is live and last-known-good/);
    expect(r.summary?.reasons.join(' ')).toMatch(
      new RegExp(`1 instance\\(s\\) in service or in Standby still run another AMI: ${kept} ${h.world.oldAmi.ImageId}`),
    );
  });

  it('reports a mixed fleet when the refresh ignored a Standby instance (StandbyInstances: Ignore): it would return to service on the old AMI', async () => {
    const h = harness({ desired: 3 });
    const asg = h.world.asg.AutoScalingGroupName;
    const parked = h.fake.instancesOf(asg).at(-1)!.InstanceId;
    h.fake.enterStandby(parked);
    const r = await run(h);
    expect(h.fake.refreshes[0]!.Status).toBe('Successful');
    expect(r.summary?.outcome).not.toBe('succeeded');
    expect(r.exitCode).toBe(1);
    expect(r.summary?.reasons.join(' ')).toMatch(new RegExp(`${parked} ${h.world.oldAmi.ImageId} \\(Standby\\)`));
  });
});
