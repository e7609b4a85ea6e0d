// Request throttling is on by default (src/region/throttle.ts, EC2's documented token buckets). Negative control:
// making Throttle.take() return at once (no bucket) makes it fail (110 answered, not 100).
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { seedWorld } from '../../src/region/scenario.js';
import { createFakeAws } from '../fakes/aws/index.js';

describe('throttling (on by default)', () => {
  it('answers RequestLimitExceeded once a burst empties the action’s bucket, and refills 20 tokens a second', async () => {
    // No launch time: only the token bucket is under test.
    const h = createFakeAws({ bootSeconds: 0 });
    seedWorld(h.fake, { desired: 1 });
    const burst = await Promise.allSettled(Array.from({ length: 110 }, () => h.clients.ec2.send(new DescribeInstancesCommand({}))));
    const refused = burst.filter((r) => r.status === 'rejected').map((r) => (r.reason as Error).name);
    expect(burst.filter((r) => r.status === 'fulfilled')).toHaveLength(100);
    expect(new Set(refused)).toEqual(new Set(['RequestLimitExceeded']));
    h.fake.advance(1000);
    const next = await Promise.allSettled(Array.from({ length: 21 }, () => h.clients.ec2.send(new DescribeInstancesCommand({}))));
    expect(next.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
    h.restore();
  });
});
