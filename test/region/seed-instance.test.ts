// Region.seedInstance: a group's instance that exists already (a booted machine, src/boot/endpoints.ts) with the
// caller's id and address. It is InService and healthy at once, and EC2 and ELB know it at once: eventual consistency
// ("Eventual consistency in the Amazon EC2 API", https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html)
// delays ids new to the region, and this one is not. Negative controls: runningSince() without `knownAt = nowMs`
// fails "known at once" (InvalidInstanceID.NotFound); freeAddress() returning the numbered address without skipping
// a seeded one fails "a later launch does not take the seeded address".
import { DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, describe, expect, it } from 'vitest';
import { seedWorld } from '../../src/region/scenario.js';
import { createFakeAws } from '../fakes/aws/index.js';

const MACHINE = { InstanceId: 'i-0123456789abcdef0', PrivateIpAddress: '10.0.0.5' };

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

function world(desired = 1, drainAgent = true) {
  const h = createFakeAws({ consistencyLagSeconds: 10, bootSeconds: 20, drainAgent });
  restore = () => h.restore();
  return { h, w: seedWorld(h.fake, { desired }) };
}

describe('Region.seedInstance', () => {
  it('adds an InService instance with the given id and address to the group, counted in its desired capacity', () => {
    const { h, w } = world();
    const group = w.asg.AutoScalingGroupName;
    const i = h.fake.seedInstance(group, MACHINE);
    expect(i).toMatchObject({ ...MACHINE, asg: group, LifecycleState: 'InService', health: 'healthy', ImageId: h.fake.resolveGroupTarget(w.asg).ImageId });
    expect(h.fake.instances.get(MACHINE.InstanceId)).toBe(i);
    expect(h.fake.instancesOf(group)).toContain(i);
    expect(w.asg.DesiredCapacity).toBe(2);
  });

  it('is known to EC2, Auto Scaling and ELB at once (not after the consistency lag)', async () => {
    const { h, w } = world();
    h.fake.seedInstance(w.asg.AutoScalingGroupName, MACHINE);
    const d = await h.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [MACHINE.InstanceId] }));
    expect(d.Reservations![0]!.Instances![0]).toMatchObject(MACHINE);
    const a = await h.clients.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [MACHINE.InstanceId] }));
    expect(a.AutoScalingInstances![0]).toMatchObject({ LifecycleState: 'InService' });
    await expect(
      h.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: w.tg.TargetGroupArn, Targets: [{ Id: MACHINE.InstanceId }] })),
    ).resolves.toBeDefined();
  });

  it('a later launch does not take the seeded address', () => {
    const { h, w } = world(1);
    // One numbered instance (10.0.0.4) and the seeded one: the region would number the next launch 10.0.0.6.
    const seeded = h.fake.seedInstance(w.asg.AutoScalingGroupName, { ...MACHINE, PrivateIpAddress: '10.0.0.6' });
    const [later] = h.fake.scaleOut(w.asg.AutoScalingGroupName, 1);
    expect(later!.PrivateIpAddress).toBe('10.0.0.7');
    const live = h.fake.instancesOf(w.asg.AutoScalingGroupName).map((i) => i.PrivateIpAddress);
    expect(live).toContain(seeded.PrivateIpAddress);
    expect(new Set(live).size).toBe(live.length);
  });

  it("leaves through the group's termination hook like any of its instances", () => {
    const { h, w } = world(1, false); // no simulated drain agent: the hook waits
    const i = h.fake.seedInstance(w.asg.AutoScalingGroupName, MACHINE);
    h.fake.beginTermination(i);
    expect(i).toMatchObject({ targetLifecycleState: 'Terminated', LifecycleState: 'Terminating:Wait' });
    expect(h.fake.activeLifecycleAction(i)).toMatchObject({
      AutoScalingGroupName: w.asg.AutoScalingGroupName,
      LifecycleHookName: w.asg.hooks[0]!.LifecycleHookName,
    });
  });

  it('refuses an id or a live address the region has already, and a group without a launch template', () => {
    const { h, w } = world();
    const group = w.asg.AutoScalingGroupName;
    const [numbered] = h.fake.instancesOf(group);
    expect(() => h.fake.seedInstance(group, { ...MACHINE, InstanceId: numbered!.InstanceId })).toThrow(/exists already/);
    expect(() => h.fake.seedInstance(group, { ...MACHINE, PrivateIpAddress: numbered!.PrivateIpAddress! })).toThrow(/another instance's address/);
    expect(() => h.fake.seedInstance('no-such-group', MACHINE)).toThrow(/no group/);
    expect(w.asg.DesiredCapacity).toBe(1);
  });
});
