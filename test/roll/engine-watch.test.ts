// Issue 19 item 1: the watch goes on through AWS's eventual consistency and transient errors, within a bound;
// an error in the wait or rollback stage is never swallowed; every non-zero exit names its reason.
import { describe, expect, it } from 'vitest';
import { harness, run } from './helpers.js';

describe('roll watch: eventual consistency and transient errors', () => {
  it('rolls a good AMI while EC2/ELB do not know just-launched instances yet (InvalidTarget, NotFound)', async () => {
    const h = harness({ desired: 2, fake: { consistencyLagSeconds: 20 } });
    const r = await run(h);
    expect(r.error).toBeUndefined();
    expect(r.summary?.outcome).toBe('succeeded');
    expect(r.exitCode).toBe(0);
    expect(h.fake.amisOf(h.world.asg.AutoScalingGroupName)).toEqual([h.world.newAmi.ImageId, h.world.newAmi.ImageId]);
  });

  it('goes on through a burst of 503s from ELBv2, and gives up with a reason when they never stop', async () => {
    const h = harness({ desired: 2 });
    h.fake.when(
      () => h.fake.refreshes.length > 0,
      () => h.fake.faults.add({ command: 'DescribeTargetHealth', error: 'ServiceUnavailable', status: 503, times: 3 }),
    );
    const ok = await run(h);
    expect(ok.exitCode).toBe(0);

    const h2 = harness({ desired: 2 });
    // Only after the refresh started (observe must work): every target health read fails from then on.
    h2.fake.when(
      () => h2.fake.refreshes.length > 0,
      () => h2.fake.faults.add({ command: 'DescribeTargetHealth', error: 'ServiceUnavailable', status: 503 }),
    );
    const bad = await run(h2);
    expect(bad.exitCode).not.toBe(0);
    const text = bad.reporter.text();
    expect(text).toMatch(/could not read the refresh's state for \d+ s/);
    expect(text).toMatch(/ServiceUnavailable/);
    // What to do: the refresh goes on in AWS, follow it or roll back.
    expect(text).toMatch(/sipbake status twilio-relay/);
    expect(text).toMatch(/sipbake rollback twilio-relay --to ami-/);
  });
});
