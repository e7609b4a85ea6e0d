import { describe, expect, it } from 'vitest';
import { harness, run } from './helpers.js';

describe('roll: happy path', () => {
  it.each([2, 10])('rolls %i instances onto the newest AMI and records it as last-known-good', async (n) => {
    const h = harness({ desired: n });
    const r = await run(h);
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    const { asg, newAmi, lt } = h.world;
    expect(h.fake.amisOf(asg.AutoScalingGroupName)).toEqual(Array(n).fill(newAmi.ImageId));
    expect(asg.launchTemplate!.Version).toBe('2');
    expect(r.summary).toMatchObject({
      outcome: 'succeeded',
      groupVersion: '2',
      to: { ami: newAmi.ImageId, version: 2 },
      from: { version: 1 },
    });
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 2 ${newAmi.ImageId}`);
    // Only ImageId changed, from the live version; never UpdateAutoScalingGroup.
    expect(h.fake.callsOf('CreateLaunchTemplateVersion')[0]!.input).toMatchObject({
      LaunchTemplateId: lt.LaunchTemplateId,
      SourceVersion: '1',
      LaunchTemplateData: { ImageId: newAmi.ImageId },
    });
    expect(Object.keys(h.fake.callsOf('CreateLaunchTemplateVersion')[0]!.input.LaunchTemplateData as object)).toEqual(['ImageId']);
    expect(h.fake.callsOf('UpdateAutoScalingGroup')).toHaveLength(0);
    const start = h.fake.callsOf('StartInstanceRefresh')[0]!.input as {
      Preferences: Record<string, unknown>;
      DesiredConfiguration: unknown;
    };
    expect(start.DesiredConfiguration).toEqual({
      LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: '2' },
    });
    expect(start.Preferences).toMatchObject({
      ScaleInProtectedInstances: 'Ignore',
      StandbyInstances: 'Ignore',
      MinHealthyPercentage: 100,
      MaxHealthyPercentage: 200,
    });
    expect(r.reporter.text()).toContain('succeeded');
  });
});

describe('roll: other shapes', () => {
  it('rolls terminate-first (min 50 % max 100 %) with a deregistration delay, and creates the missing hook', async () => {
    const h = harness({
      desired: 2,
      hook: false,
      deregistrationDelay: 30,
      refresh: { minHealthyPercentage: 50, maxHealthyPercentage: 100 },
    });
    const r = await run(h);
    expect(r.exitCode).toBe(0);
    const { asg, newAmi } = h.world;
    expect(h.fake.amisOf(asg.AutoScalingGroupName)).toEqual([newAmi.ImageId, newAmi.ImageId]);
    expect(asg.launchTemplate!.Version).toBe('2');
    expect(asg.hooks).toEqual([
      {
        LifecycleHookName: 'sipbake-drain',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: 960,
        DefaultResult: 'CONTINUE',
      },
    ]);
    // Never below one healthy instance: terminate one and launch its replacement, twice (health 30 s + warm-up 60 s).
    expect(r.summary!.seconds).toBeGreaterThanOrEqual(2 * (30 + 60));
    expect(h.fake.callsOf('PutLifecycleHook')).toHaveLength(1);
  });

  it('does nothing when the newest AMI is already live', async () => {
    const h = harness({ desired: 2 });
    h.fake.images.get(h.world.newAmi.ImageId)!.Tags['sipbake:built-at'] = '2000-01-01T00:00:00.000Z';
    const r = await run(h);
    expect(r.exitCode).toBe(0);
    expect(r.summary!.outcome).toBe('noop');
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(0);
    expect(h.world.asg.tags['sipbake:last-known-good']).toBe(`version 1 ${h.world.oldAmi.ImageId}`);
  });
});
