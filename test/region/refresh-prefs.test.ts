// A refresh honours ScaleInProtectedInstances and StandbyInstances (RefreshPreferences, Auto Scaling API reference,
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html).
// Negative controls: dropping the `held` filter in refreshCandidates() (handlers-asg.ts) makes the Ignore test fail
// (the protected instance is replaced); `if (done && waitForHeld(…)) return;` removed from stepRefresh
// (refresh-engine.ts) makes both Wait tests fail (the refresh succeeds at once with both left on the old AMI).
import { StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { afterEach, describe, expect, it } from 'vitest';
import { seedWorld } from '../../src/region/scenario.js';
import { createFakeAws, type FakeAwsHandle } from '../fakes/aws/index.js';

let h: FakeAwsHandle | undefined;
afterEach(() => h?.restore());

async function refresh(
  prefs: { ScaleInProtectedInstances?: 'Refresh' | 'Ignore' | 'Wait'; StandbyInstances?: 'Terminate' | 'Ignore' | 'Wait'; AutoRollback?: boolean },
  advanceMs = 3600_000,
) {
  // No launch time: the cases count the refresh's hour-long Wait in simulated time, not boots.
  h = createFakeAws({ bootSeconds: 0 });
  const w = seedWorld(h.fake, { desired: 3 });
  w.lt.versions.push({
    VersionNumber: 2,
    CreateTime: new Date(h.fake.nowMs),
    data: { ImageId: w.newAmi.ImageId, InstanceType: 't3.small', HttpTokens: 'required' },
  });
  const [a, , c] = h.fake.instancesOf(w.asg.AutoScalingGroupName);
  h.fake.protect(a!.InstanceId);
  h.fake.enterStandby(c!.InstanceId);
  await h.clients.autoScaling.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: w.asg.AutoScalingGroupName,
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: w.lt.LaunchTemplateId, Version: '2' } },
      Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, ...prefs },
    }),
  );
  h.fake.advance(advanceMs);
  return { w, protectedOne: h.fake.instances.get(a!.InstanceId)!, standbyOne: h.fake.instances.get(c!.InstanceId)!, status: h.fake.refreshes[0]!.Status };
}

describe('refresh preferences for protected and standby instances', () => {
  it('Ignore: both stay on the old AMI and the refresh still succeeds', async () => {
    const { w, protectedOne, standbyOne, status } = await refresh({ ScaleInProtectedInstances: 'Ignore', StandbyInstances: 'Ignore' });
    expect(status).toBe('Successful');
    expect([protectedOne.LifecycleState, protectedOne.ImageId]).toEqual(['InService', w.oldAmi.ImageId]);
    expect([standbyOne.LifecycleState, standbyOne.ImageId]).toEqual(['Standby', w.oldAmi.ImageId]);
  });

  it('Refresh replaces the protected instance; Terminate terminates the standby one', async () => {
    const { protectedOne, standbyOne, status } = await refresh({ ScaleInProtectedInstances: 'Refresh', StandbyInstances: 'Terminate' });
    expect(status).toBe('Successful');
    expect(protectedOne.LifecycleState).toBe('Terminated');
    expect(standbyOne.LifecycleState).toBe('Terminated');
  });

  it('Wait (the defaults): the rest is replaced, then the refresh waits an hour for the protected and Standby instances and fails', async () => {
    const { w, protectedOne, standbyOne } = await refresh({}, 600_000);
    const r = h!.fake.refreshes[0]!;
    // Everything else is on the new AMI; the refresh is still in progress, saying what it waits for.
    const others = h!.fake.instancesOf(w.asg.AutoScalingGroupName).filter((i) => i.LifecycleState === 'InService' && !i.ProtectedFromScaleIn);
    expect(new Set(others.map((i) => i.ImageId))).toEqual(new Set([w.newAmi.ImageId]));
    expect([r.Status, r.StatusReason]).toEqual([
      'InProgress',
      expect.stringMatching(/protected from scale in.*in Standby|in Standby.*protected from scale in/),
    ]);
    h!.fake.advance(3600_000);
    expect([r.Status, r.StatusReason]).toEqual(['Failed', expect.stringContaining('waited 3600 seconds')]);
    expect([protectedOne.ImageId, standbyOne.ImageId]).toEqual([w.oldAmi.ImageId, w.oldAmi.ImageId]);
  });

  it('Wait: protection removed and the Standby instance back in service within the hour: both are replaced, the refresh succeeds', async () => {
    const { w, protectedOne, standbyOne } = await refresh({ ScaleInProtectedInstances: 'Wait', StandbyInstances: 'Wait' }, 600_000);
    h!.fake.protect(protectedOne.InstanceId, false);
    standbyOne.LifecycleState = 'InService'; // ExitStandby: back in service, desired + 1
    h!.fake.asgs.get(w.asg.AutoScalingGroupName)!.DesiredCapacity++;
    h!.fake.advance(1800_000);
    expect(h!.fake.refreshes[0]!.Status).toBe('Successful');
    expect([protectedOne.LifecycleState, standbyOne.LifecycleState]).toEqual(['Terminated', 'Terminated']);
    expect(h!.fake.amisOf(w.asg.AutoScalingGroupName)).toEqual([w.newAmi.ImageId, w.newAmi.ImageId, w.newAmi.ImageId]);
  });
});
