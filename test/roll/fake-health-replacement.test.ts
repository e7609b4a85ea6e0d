// The fake's Auto Scaling health replacement (src/region/refresh-engine.ts), against the AWS pages it cites.
import { StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { describe, expect, it } from 'vitest';
import { createFakeAws } from '../fakes/aws/index.js';
import { healthReplacements } from '../../src/region/refresh-engine.js';
import { seedWorld } from '../../src/region/scenario.js';

async function refreshOntoBadAmi(o: { grace?: number; type?: 'ELB' | 'EC2'; drainAgent?: boolean } = {}) {
  // Asserts exact replacement times: no boot time, no lag (each is tested on its own elsewhere).
  const h = createFakeAws({ drainAgent: o.drainAgent ?? true, bootSeconds: 0, consistencyLagSeconds: 0 });
  const w = seedWorld(h.fake, { desired: 2 });
  if (o.grace !== undefined) (w.asg as typeof w.asg & { HealthCheckGracePeriod: number }).HealthCheckGracePeriod = o.grace;
  if (o.type) w.asg.HealthCheckType = o.type;
  h.fake.images.get(w.newAmi.ImageId)!.health = 'unhealthy';
  const v2 = h.fake.launchTemplates.get(w.lt.LaunchTemplateId)!;
  v2.versions.push({
    VersionNumber: 2,
    CreateTime: new Date(h.fake.nowMs),
    data: { ...v2.versions[0]!.data, ImageId: w.newAmi.ImageId },
  });
  await h.clients.autoScaling.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: w.asg.AutoScalingGroupName,
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: w.lt.LaunchTemplateId, Version: '2' } },
      Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 150, InstanceWarmup: 0 },
    }),
  );
  return { h, w, newOnes: () => [...h.fake.instances.values()].filter((i) => i.ImageId === w.newAmi.ImageId) };
}

describe('AWS fake: health replacement with the grace period', () => {
  it('replaces an unhealthy InService instance only once the grace period (300 s as reported) has passed, and the refresh launches another', async () => {
    const { h, newOnes } = await refreshOntoBadAmi();
    h.fake.advance(299_000);
    expect(newOnes()).toHaveLength(1); // unhealthy since 30 s, but inside the grace period
    expect(healthReplacements(h.fake)).toHaveLength(0);
    h.fake.advance(2000);
    expect(healthReplacements(h.fake)).toHaveLength(1);
    expect(newOnes()[0]!.LifecycleState).toBe('Terminated'); // the hook's simulated drain agent completed at once
    expect(newOnes()).toHaveLength(2); // the refresh wants its new instance back: the bad AMI again
    expect(newOnes()[1]!.launchedAt).toBeGreaterThan(newOnes()[0]!.launchedAt);
  });

  it('with grace period 0 it replaces as soon as the target group says unhealthy', async () => {
    const { h, newOnes } = await refreshOntoBadAmi({ grace: 0 });
    h.fake.advance(31_000);
    const first = newOnes()[0]!;
    expect(healthReplacements(h.fake)).toEqual([{ instanceId: first.InstanceId, imageId: first.ImageId, atMs: first.healthAt }]);
  });

  it('goes through the termination hook (Terminating:Wait) like any termination', async () => {
    const { h, newOnes } = await refreshOntoBadAmi({ grace: 0, drainAgent: false });
    h.fake.advance(31_000);
    expect(newOnes()[0]!.LifecycleState).toBe('Terminating:Wait');
  });

  it('does not replace on target health with EC2 health checks', async () => {
    const { h } = await refreshOntoBadAmi({ grace: 0, type: 'EC2' });
    h.fake.advance(600_000);
    expect(healthReplacements(h.fake)).toHaveLength(0);
  });
});
