// Issue 19 item 2: the gate follows Auto Scaling's HealthCheckGracePeriod ("Set the health check grace period",
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html): a new instance whose
// target reads `unhealthy` while it still boots is not held against the AMI until the grace period is over.
import { describe, expect, it } from 'vitest';
import { harness, run } from './helpers.js';

describe('roll gate: health check grace period', () => {
  it('accepts a good AMI whose instances answer health checks only 60 s after they are in service', async () => {
    const h = harness({ desired: 2 });
    h.world.asg.HealthCheckType = 'ELB';
    h.world.asg.HealthCheckGracePeriod = 300;
    h.world.newAmi.appSeconds = 60; // unhealthy from 30 s (3 × 10 s), healthy at 90 s (60 s + 3 × 10 s)
    const r = await run(h);
    expect(r.summary?.outcome).toBe('succeeded');
    expect(r.exitCode).toBe(0);
    expect(Object.keys(h.world.asg.tags).filter((k) => k.startsWith('sipbake:rejected'))).toEqual([]);
    expect(h.fake.amisOf(h.world.asg.AutoScalingGroupName)).toEqual([h.world.newAmi.ImageId, h.world.newAmi.ImageId]);
  });

  it('still rejects an AMI whose instances stay unhealthy after the grace period', async () => {
    const h = harness({ desired: 2 });
    h.world.asg.HealthCheckType = 'ELB';
    h.world.asg.HealthCheckGracePeriod = 120;
    h.world.newAmi.health = 'unhealthy';
    const r = await run(h);
    expect(r.summary?.outcome).toBe('rolled-back');
    expect(r.exitCode).toBe(1);
    expect(r.summary?.reasons.join(' ')).toMatch(/unhealthy/);
  });
});
