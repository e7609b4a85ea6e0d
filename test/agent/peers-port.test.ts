import { DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { peerFinder } from '../../src/agent/peers.js';

// Issue 19, what to build 4, item 3: a handoff across ports. A roll between images on different SIP ports (the seeds'
// 5080 and 5060) registers each target with its own port (a target's Port overrides the group's:
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-register-targets.html), and
// DescribeTargetHealth names it (TargetDescription.Port:
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetDescription.html). The peer found
// carries it: $shv(handoff) = ADDRESS:PORT, and Kamailio hands off to that port, not its own.
// Negative control: peers.ts without the port (return `chosen` as before) made the first test fail.

const self = 'i-0self';
const peer = 'i-1peer';

/** Stub clients: the answers a group with one serving peer registered at `port` gives (no port: no target group). */
function clients(port?: number) {
  const sent: string[] = [];
  const answer = (c: object): unknown => {
    sent.push(c.constructor.name);
    if (c instanceof DescribeAutoScalingInstancesCommand) return { AutoScalingInstances: [{ AutoScalingGroupName: 'asg' }] };
    if (c instanceof DescribeAutoScalingGroupsCommand)
      return {
        AutoScalingGroups: [
          {
            Instances: [self, peer].map((InstanceId) => ({ InstanceId, LifecycleState: 'InService', HealthStatus: 'Healthy' })),
            TargetGroupARNs: port === undefined ? [] : ['arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/sip/1'],
          },
        ],
      };
    if (c instanceof DescribeTargetHealthCommand)
      return { TargetHealthDescriptions: [{ Target: { Id: peer, Port: port }, TargetHealth: { State: 'healthy' } }] };
    if (c instanceof DescribeInstancesCommand) return { Reservations: [{ Instances: [{ InstanceId: peer, PrivateIpAddress: '10.0.1.12' }] }] };
    throw new Error(`unexpected ${c.constructor.name}`);
  };
  const send = async (c: object) => answer(c);
  return { sent, o: { autoScaling: { send }, ec2: { send }, elbv2: { send }, instanceId: self } as unknown as Parameters<typeof peerFinder>[0] };
}

describe("peer discovery: the peer's own SIP port", () => {
  it('names the peer ADDRESS:PORT from its target registration (DescribeTargetHealth Target.Port)', async () => {
    const c = clients(5060);
    expect(await peerFinder(c.o).find()).toEqual({ peer: '10.0.1.12:5060', instanceId: peer });
    expect(c.sent).toContain('DescribeTargetHealthCommand');
  });

  it('without a target group the peer is its address alone (Kamailio uses its own port)', async () => {
    const c = clients();
    expect(await peerFinder(c.o).find()).toEqual({ peer: '10.0.1.12', instanceId: peer });
  });
});
