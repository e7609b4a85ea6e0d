// The hand-off peer: InService in the group AND healthy in its target groups (Auto Scaling says Healthy during a
// new instance's grace period whatever the target group says), spread over the peers by a hash of the draining
// instance's id, and a lookup reused for cacheMs. Through real SDK clients on the AWS fake, as the instance role.
import { afterEach, describe, expect, it } from 'vitest';
import { choosePeer, peerFinder, spreadStart } from '../../src/agent/peers.js';
import { createFakeAws, type FakeAwsHandle } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';
import type { FakeInstance } from '../../src/region/model.js';

let h: FakeAwsHandle | undefined;
afterEach(() => h?.restore());

function world(desired: number) {
  h = createFakeAws({ drainAgent: false, iam: { role: 'instance' } });
  seedWorld(h.fake, { desired, heartbeat: 60 });
  const all = [...h.fake.instances.values()].sort((a, b) => a.InstanceId.localeCompare(b.InstanceId));
  return { h, all };
}

describe('hand-off peer choice', () => {
  it('skips a peer Auto Scaling calls Healthy while its target group still says initial', async () => {
    const { h, all } = world(3);
    const [self, p1, p2] = all as [FakeInstance, FakeInstance, FakeInstance];
    p1.healthAt = h.fake.nowMs + 120_000; // in its health-check grace: ASG Healthy, target initial
    const f = peerFinder({ autoScaling: h.clients.autoScaling, ec2: h.clients.ec2, elbv2: h.clients.elbv2, instanceId: self.InstanceId });
    // With a target group the peer carries the port it is registered with (issue 19, item 3: handoff across ports).
    expect(await f.find()).toEqual({ peer: `${p2.PrivateIpAddress}:5060`, instanceId: p2.InstanceId });
    p2.healthAt = h.fake.nowMs + 120_000;
    expect(await f.find()).toEqual({ none: 'no other InService instance in kamailio-lb-asg is healthy in its target groups' });
    expect(h.fake.iam!.denials).toEqual([]);
  });

  it('finds a peer while another is still unknown to ELBv2 (a by-id DescribeTargetHealth would fail with InvalidTarget)', async () => {
    const { h, all } = world(3);
    const [self, p1, p2] = all as [FakeInstance, FakeInstance, FakeInstance];
    // p2 just launched: InService and Healthy in its grace, but not yet a valid target (the model's consistency lag).
    p2.knownAt = h.fake.nowMs + 10_000;
    p2.healthAt = h.fake.nowMs + 120_000;
    const f = peerFinder({ autoScaling: h.clients.autoScaling, ec2: h.clients.ec2, elbv2: h.clients.elbv2, instanceId: self.InstanceId });
    expect(await f.find()).toEqual({ peer: `${p1.PrivateIpAddress}:5060`, instanceId: p1.InstanceId });
  });

  it('spreads draining instances over the peers instead of all taking the first', () => {
    const peers = Array.from({ length: 8 }, (_, i) => `i-peer${i}`);
    const addresses = new Map(peers.map((id, i) => [id, `10.0.0.${i + 1}`]));
    const drainers = Array.from({ length: 40 }, (_, i) => `i-0${(0x1000 + i * 7919).toString(16)}`);
    const chosen = drainers.map((d) => choosePeer(peers, addresses, undefined, d)!.instanceId);
    const load = new Map<string, number>();
    for (const c of chosen) load.set(c, (load.get(c) ?? 0) + 1);
    // 40 drains over 8 peers: every peer takes some, none takes most.
    expect(load.size).toBe(8);
    expect(Math.max(...load.values())).toBeLessThanOrEqual(12);
    expect(spreadStart('i-0abc', 8)).toBe(spreadStart('i-0abc', 8)); // stable for one instance
  });

  it('reuses a lookup for cacheMs: three Describe calls per draining instance per cache period', async () => {
    const { h, all } = world(3);
    let t = 0;
    const f = peerFinder({ autoScaling: h.clients.autoScaling, ec2: h.clients.ec2, instanceId: all[0]!.InstanceId, cacheMs: 30_000, now: () => t });
    for (t = 0; t < 60_000; t += 10_000) await f.find();
    const describes = h.fake.calls.filter((c) => /^Describe/.test(c.command)).map((c) => c.command);
    // One group lookup, then the members and their addresses at 0 s and 30 s only.
    expect(describes).toEqual([
      'DescribeAutoScalingInstances',
      'DescribeAutoScalingGroups',
      'DescribeInstances',
      'DescribeAutoScalingGroups',
      'DescribeInstances',
    ]);
  });
});
