import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Region } from '../../src/region/region.js';
import { serveRegion, type RegionServer } from '../../src/region/wire/server.js';
import { agentView, setModelTargetHealth } from '../../src/rehearse/model-link.js';
import { serveInstance, type InstanceEndpoints } from '../../src/boot/endpoints.js';

// What the instances' drain agents reach during a rehearsal (and a booted image on the host's veth): the region
// model's own handlers on its wire server, over the unix sockets the namespaces' forwarders dial, read by the real
// SDK v3 clients. One wire module: the roll engine, the fake's tests and the agents all cross src/region/wire.

let dir: string;
let region: Region;
let wire: RegionServer;
let syncs = 0;
let asg: AutoScalingClient;
let ec2c: EC2Client;
let elbc: ElasticLoadBalancingV2Client;
let tgArn: string;
const GROUP = 'rehearsal-asg';
const HOOK = 'sipbake-drain';

/** An SDK request handler that dials the unix socket whatever host the endpoint names (as ns-helper's forwarder does). */
function overSocket(sock: string): { httpAgent: http.Agent } {
  const agent = new http.Agent();
  (agent as unknown as { createConnection: () => net.Socket }).createConnection = () => net.connect({ path: sock });
  return { httpAgent: agent };
}
const common = { region: 'us-east-1', credentials: { accessKeyId: 'rehearsal', secretAccessKey: 'rehearsal' }, maxAttempts: 1 };
const ids = () => region.instancesOf(GROUP).map((i) => i.InstanceId);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-agent-wire-'));
  // As the rehearsal seeds it (region-seed.ts): the rig boots the instances, their own agents complete the hooks.
  region = new Region({ bootSeconds: 0, drainAgent: false });
  const image = region.addImage({ Name: 'old' });
  const lt = region.addLaunchTemplate('lt', { ImageId: image.ImageId });
  tgArn = region.addTargetGroup('rehearsal-tg').TargetGroupArn;
  region.addAsg({
    TargetGroupARNs: [tgArn],
    AutoScalingGroupName: GROUP,
    desired: 3,
    launchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: '1' },
    hooks: [{ LifecycleHookName: HOOK, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 120, DefaultResult: 'CONTINUE' }],
  });
  const sockets = { autoscaling: path.join(dir, 'autoscaling.sock'), ec2: path.join(dir, 'ec2.sock'), elbv2: path.join(dir, 'elbv2.sock') };
  wire = await serveRegion(region, {
    sockets,
    clock: () => {
      syncs++;
    },
    view: agentView(10),
  });
  asg = new AutoScalingClient({ ...common, endpoint: 'http://127.0.0.1:1339', requestHandler: overSocket(sockets.autoscaling) });
  ec2c = new EC2Client({ ...common, endpoint: 'http://127.0.0.1:1340', requestHandler: overSocket(sockets.ec2) });
  elbc = new ElasticLoadBalancingV2Client({ ...common, endpoint: 'http://127.0.0.1:1341', requestHandler: overSocket(sockets.elbv2) });
});
afterAll(async () => {
  asg.destroy();
  ec2c.destroy();
  elbc.destroy();
  await wire.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the drain agents' Auto Scaling, EC2 and ELBv2 calls, answered by the region model over its wire", () => {
  it("DescribeTargetHealth: the NLB's verdict the rig writes (unhealthy while Auto Scaling still says Healthy), each target on its image's port", async () => {
    const [a, b] = ids().map((id) => region.instances.get(id)!);
    b!.targetPort = 5080;
    setModelTargetHealth(b!, 'unhealthy', region.nowMs);
    const out = await elbc.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
    const byId = new Map((out.TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id, [d.Target?.Port, d.TargetHealth?.State]]));
    expect([byId.get(a!.InstanceId), byId.get(b!.InstanceId)]).toEqual([
      [5060, 'healthy'],
      [5080, 'unhealthy'],
    ]);
    const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }))).AutoScalingGroups?.[0];
    expect(g?.Instances?.find((i) => i.InstanceId === b!.InstanceId)?.HealthStatus).toBe('Healthy');
    setModelTargetHealth(b!, 'healthy', region.nowMs);
    wire.requests.length = 0;
  });

  it('DescribeAutoScalingInstances (own id → group) and DescribeAutoScalingGroups (InService, Healthy peers); the clock link runs before each request', async () => {
    const before = syncs;
    const [a, b] = ids();
    const one = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [a!] }));
    expect(one.AutoScalingInstances).toEqual([
      expect.objectContaining({ InstanceId: a, AutoScalingGroupName: GROUP, LifecycleState: 'InService', HealthStatus: 'HEALTHY' }),
    ]);
    region.beginTermination(region.instances.get(b!)!);
    const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }))).AutoScalingGroups?.[0];
    expect(g?.Instances?.map((i) => [i.InstanceId, i.LifecycleState, i.HealthStatus])).toEqual(
      ids().map((id) => [id, id === b ? 'Terminating:Wait' : 'InService', 'Healthy']),
    );
    expect(syncs - before).toBe(2);
    expect(wire.requests.map((r) => r.action)).toEqual(['DescribeAutoScalingInstances', 'DescribeAutoScalingGroups']);
  });

  it("DescribeLifecycleHooks: the hook's durations in this machine's seconds (the model runs × scale)", async () => {
    const h = (await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: GROUP, LifecycleHookNames: [HOOK] }))).LifecycleHooks?.[0];
    expect([h?.LifecycleHookName, h?.HeartbeatTimeout, h?.GlobalTimeout]).toEqual([HOOK, 12, 1200]);
  });

  it('heartbeat and completion: refused without a lifecycle action (as AWS), accepted in Terminating:Wait', async () => {
    const [a, b] = ids();
    const hb = (id: string) => asg.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: id }));
    await expect(hb(a!)).rejects.toMatchObject({ name: 'ValidationError', message: `No active Lifecycle Action found with instance ID ${a}` });
    await hb(b!);
    expect(region.instances.get(b!)?.lifecycleAction?.heartbeats).toHaveLength(1);
    await asg.send(
      new CompleteLifecycleActionCommand({ AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: b!, LifecycleActionResult: 'CONTINUE' }),
    );
    region.advance(1000);
    expect(region.instances.get(b!)?.LifecycleState).toBe('Terminated');
  });

  it("DescribeInstances: the peers' private addresses; a terminated one has none; an unknown id is InvalidInstanceID.NotFound", async () => {
    const all = [...region.instances.keys()];
    const got = ((await ec2c.send(new DescribeInstancesCommand({ InstanceIds: all }))).Reservations ?? []).flatMap((r) => r.Instances ?? []);
    expect(got.map((i) => [i.InstanceId, i.State?.Name, i.PrivateIpAddress])).toEqual(
      all.map((id) => {
        const m = region.instances.get(id)!;
        return m.LifecycleState === 'Terminated' ? [id, 'terminated', undefined] : [id, 'running', m.PrivateIpAddress];
      }),
    );
    await expect(ec2c.send(new DescribeInstancesCommand({ InstanceIds: ['i-99999999'] }))).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      $metadata: { httpStatusCode: 400 },
    });
  });
});

describe("a booted image's endpoints (src/boot/endpoints.ts): the region model on the host's end", () => {
  let e: InstanceEndpoints;
  let bootDir: string;
  const id = { instanceId: 'i-0b00710000000000', region: 'us-east-1', groupName: 'sipbake-boot-x', hookName: HOOK, hookTimeoutSeconds: 120 };
  beforeAll(async () => {
    bootDir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-boot-wire-'));
    e = await serveInstance({ ns: 'x', hostIf: 'x', hostIp: '127.0.0.1', guestIp: '10.213.0.2', cidr: '10.213.0.0/30' }, bootDir, id);
  });
  afterAll(async () => {
    await e.close();
    await rm(bootDir, { recursive: true, force: true });
  });

  it('IMDSv2: the machine id, its address, its role credentials, target-lifecycle-state InService then Terminated', async () => {
    const base = `http://127.0.0.1:${e.imdsPort}/latest`;
    const token = await (await fetch(`${base}/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } })).text();
    const get = async (p: string) => {
      const r = await fetch(`${base}/meta-data/${p}`, { headers: { 'x-aws-ec2-metadata-token': token } });
      return r.ok ? r.text() : `HTTP ${r.status}`;
    };
    expect(await get('instance-id')).toBe(id.instanceId);
    expect(await get('local-ipv4')).toBe('10.213.0.2');
    expect(JSON.parse(await get(`iam/security-credentials/${await get('iam/security-credentials/')}`))).toMatchObject({ Code: 'Success', Type: 'AWS-HMAC' });
    expect(await get('autoscaling/target-lifecycle-state')).toBe('InService');
    e.terminate();
    expect(await get('autoscaling/target-lifecycle-state')).toBe('Terminated');
  });

  it('Auto Scaling over TCP: the lifecycle action exists once terminate() selected the machine; the calls are recorded', async () => {
    const c = new AutoScalingClient({ ...common, endpoint: e.autoScalingEndpoint });
    try {
      const out = await c.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id.instanceId] }));
      expect(out.AutoScalingInstances?.[0]).toMatchObject({ AutoScalingGroupName: id.groupName, LifecycleState: 'Terminating:Wait' });
      await c.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: id.groupName,
          LifecycleHookName: HOOK,
          InstanceId: id.instanceId,
          LifecycleActionResult: 'CONTINUE',
        }),
      );
      expect(e.calls.map((k) => [k.action, k.ok])).toEqual([
        ['DescribeAutoScalingInstances', true],
        ['CompleteLifecycleAction', true],
      ]);
    } finally {
      c.destroy();
    }
  });
});
