import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { closeServer, serveAutoScaling, serveEc2, type AsgCall, type Ec2Instance, type GroupMember } from '../../src/rehearse/endpoints.js';

// The rehearsal's Auto Scaling and EC2 endpoints, read by the real SDK v3 clients (what the drain agent's peer
// discovery runs): DescribeAutoScalingInstances (own id → group), DescribeAutoScalingGroups (members, lifecycle state,
// health), DescribeInstances (private addresses). The SDK parses the XML by the services' models, so a shape that
// strays from AWS's (element names, the EC2 Query envelope, error codes) fails here.

let dir: string;
const servers: http.Server[] = [];
const calls: AsgCall[] = [];
let members: GroupMember[] = [];
let ec2: Ec2Instance[] = [];

/** An SDK request handler that dials the unix socket whatever host the endpoint names (as ns-helper's forwarder does). */
function overSocket(sock: string): { httpAgent: http.Agent } {
  const agent = new http.Agent();
  (agent as unknown as { createConnection: () => net.Socket }).createConnection = () => net.connect({ path: sock });
  return { httpAgent: agent };
}
const common = { region: 'us-east-1', credentials: { accessKeyId: 'rehearsal', secretAccessKey: 'rehearsal' }, maxAttempts: 1 };
let asg: AutoScalingClient;
let ec2c: EC2Client;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-endpoints-'));
  const asgSock = path.join(dir, 'asg.sock');
  const ec2Sock = path.join(dir, 'ec2.sock');
  servers.push(
    await serveAutoScaling(
      asgSock,
      {
        groupName: 'rehearsal-asg',
        hookName: 'drain',
        hookTimeoutSeconds: 12,
        stateOf: (id) => members.find((m) => m.id === id)?.lifecycleState,
        members: () => members,
        heartbeat: () => false,
        complete: () => false,
      },
      calls,
    ),
    await serveEc2(ec2Sock, () => ec2, calls),
  );
  asg = new AutoScalingClient({ ...common, endpoint: 'http://127.0.0.1:1339', requestHandler: overSocket(asgSock) });
  ec2c = new EC2Client({ ...common, endpoint: 'http://127.0.0.1:1340', requestHandler: overSocket(ec2Sock) });
});
afterAll(async () => {
  asg.destroy();
  ec2c.destroy();
  for (const s of servers) await closeServer(s);
  await rm(dir, { recursive: true, force: true });
});

describe('rehearsal endpoints through the SDK v3 clients', () => {
  it('DescribeAutoScalingInstances: own id → group and state (HEALTHY, as AutoScalingInstanceDetails spells it); unknown id → none', async () => {
    members = [{ id: 'i-1', lifecycleState: 'Terminating', healthy: true }];
    const r = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ['i-1'] }));
    expect(r.AutoScalingInstances).toEqual([
      expect.objectContaining({ InstanceId: 'i-1', AutoScalingGroupName: 'rehearsal-asg', LifecycleState: 'Terminating', HealthStatus: 'HEALTHY' }),
    ]);
    expect((await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ['i-9'] }))).AutoScalingInstances).toEqual([]);
  });

  it('DescribeAutoScalingGroups: the group, each member with its lifecycle state and health (Healthy, as Instance spells it)', async () => {
    members = [
      { id: 'i-1', lifecycleState: 'Terminating', healthy: true },
      { id: 'i-2', lifecycleState: 'InService', healthy: true },
      { id: 'i-4', lifecycleState: 'Pending', healthy: true },
    ];
    const r = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['rehearsal-asg'] }));
    expect(r.AutoScalingGroups).toHaveLength(1);
    const g = r.AutoScalingGroups?.[0];
    expect(g?.AutoScalingGroupName).toBe('rehearsal-asg');
    expect(g?.DesiredCapacity).toBe(3);
    expect(g?.CreatedTime).toBeInstanceOf(Date);
    expect(g?.Instances?.map((i) => [i.InstanceId, i.LifecycleState, i.HealthStatus, i.AvailabilityZone])).toEqual([
      ['i-1', 'Terminating', 'Healthy', 'us-east-1a'],
      ['i-2', 'InService', 'Healthy', 'us-east-1a'],
      ['i-4', 'Pending', 'Healthy', 'us-east-1a'],
    ]);
    // What a draining instance picks from it: the InService, Healthy others.
    expect(
      g?.Instances?.filter((i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy' && i.InstanceId !== 'i-1').map((i) => i.InstanceId),
    ).toEqual(['i-2']);
    expect((await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['other'] }))).AutoScalingGroups).toEqual([]);
    expect((await asg.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups?.map((x) => x.AutoScalingGroupName)).toEqual(['rehearsal-asg']);
  });

  it('DescribeInstances: private addresses by id; a terminated instance has none; an unknown id is InvalidInstanceID.NotFound', async () => {
    ec2 = [
      { id: 'i-1', imageId: 'ami-old', privateIp: '10.0.1.11', state: 'running' },
      { id: 'i-2', imageId: 'ami-old', privateIp: '10.0.1.12', state: 'terminated' },
      { id: 'i-4', imageId: 'ami-new', privateIp: '10.0.1.14', state: 'running' },
    ];
    const r = await ec2c.send(new DescribeInstancesCommand({ InstanceIds: ['i-1', 'i-2', 'i-4'] }));
    const got = (r.Reservations ?? []).flatMap((res) => res.Instances ?? []);
    expect(got.map((i) => [i.InstanceId, i.ImageId, i.State?.Name, i.State?.Code, i.PrivateIpAddress])).toEqual([
      ['i-1', 'ami-old', 'running', 16, '10.0.1.11'],
      ['i-2', 'ami-old', 'terminated', 48, undefined],
      ['i-4', 'ami-new', 'running', 16, '10.0.1.14'],
    ]);
    const running = await ec2c.send(
      new DescribeInstancesCommand({ InstanceIds: ['i-1', 'i-2'], Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }),
    );
    expect((running.Reservations ?? []).flatMap((res) => res.Instances ?? []).map((i) => i.InstanceId)).toEqual(['i-1']);
    await expect(ec2c.send(new DescribeInstancesCommand({ InstanceIds: ['i-1', 'i-9'] }))).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      message: "The instance ID 'i-9' does not exist",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(ec2c.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['x'] }] }))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });
});
