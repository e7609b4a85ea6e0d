// A refresh honours ScaleInProtectedInstances and StandbyInstances (RefreshPreferences, Auto Scaling API reference).
// Negative control: dropping the `ProtectedFromScaleIn && Ignore` filter in refreshCandidates() (handlers-asg.ts)
// makes the first test fail (the protected instance is replaced).
import { StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { afterEach, describe, expect, it } from 'vitest';
import { seedWorld } from '../../src/region/scenario.js';
import { createFakeAws, type FakeAwsHandle } from '../fakes/aws/index.js';

let h: FakeAwsHandle | undefined;
afterEach(() => h?.restore());

async function refresh(prefs: { ScaleInProtectedInstances?: 'Refresh' | 'Ignore' | 'Wait'; StandbyInstances?: 'Terminate' | 'Ignore' | 'Wait' }) {
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
  h.fake.advance(3600_000);
  return { w, protectedOne: h.fake.instances.get(a!.InstanceId)!, standbyOne: h.fake.instances.get(c!.InstanceId)!, status: h.fake.refreshes[0]!.Status };
}

describe('refresh preferences for protected and standby instances', () => {
  it('Ignore (the defaults): both stay on the old AMI and the refresh still succeeds', async () => {
    const { w, protectedOne, standbyOne, status } = await refresh({});
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
});
