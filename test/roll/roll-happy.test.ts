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
    expect(r.summary).toMatchObject({ outcome: 'succeeded', groupVersion: '2', to: { ami: newAmi.ImageId, version: 2 }, from: { version: 1 } });
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 2 ${newAmi.ImageId}`);
    // Only ImageId changed, from the live version; never UpdateAutoScalingGroup.
    expect(h.fake.callsOf('CreateLaunchTemplateVersion')[0]!.input).toMatchObject({ LaunchTemplateId: lt.LaunchTemplateId, SourceVersion: '1', LaunchTemplateData: { ImageId: newAmi.ImageId } });
    expect(Object.keys(h.fake.callsOf('CreateLaunchTemplateVersion')[0]!.input.LaunchTemplateData as object)).toEqual(['ImageId']);
    expect(h.fake.callsOf('UpdateAutoScalingGroup')).toHaveLength(0);
    const start = h.fake.callsOf('StartInstanceRefresh')[0]!.input as { Preferences: Record<string, unknown>; DesiredConfiguration: unknown };
    expect(start.DesiredConfiguration).toEqual({ LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: '2' } });
    expect(start.Preferences).toMatchObject({ ScaleInProtectedInstances: 'Ignore', StandbyInstances: 'Ignore', MinHealthyPercentage: 100, MaxHealthyPercentage: 200 });
    expect(r.reporter.text()).toContain('succeeded');
  });
});
