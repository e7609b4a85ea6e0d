// The region on the wire: every handler the product uses, called through the real SDK v3 clients pointed at
// serveRegion() by their documented endpoint variables (AWS_ENDPOINT_URL_*), answers exactly what the in-process
// fake (aws-sdk-client-mock) answers for the same world. Negative control: renaming one member name in the codec
// (encodeXml's xmlName lookup) or one service's XML namespace makes the comparison fail.
import * as asg from '@aws-sdk/client-auto-scaling';
import * as cw from '@aws-sdk/client-cloudwatch';
import * as ec2 from '@aws-sdk/client-ec2';
import * as elb from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, describe, expect, it } from 'vitest';
import { serveRegion, type RegionServer } from '../../src/region/wire/server.js';
import { seedWorld, type World } from '../../src/region/scenario.js';
import { createFakeAws, FakeAws, type FakeAwsHandle } from '../fakes/aws/index.js';
import type { AwsClients } from '../../src/aws/clients.js';

// Both sides run one script and must answer alike at each step: no launch time and no lag for the script to race
// (each is on by default and tested on its own: test/region, test/roll). IAM is evaluated in its own test below.
const FIXED = { bootSeconds: 0, consistencyLagSeconds: 0, iam: false as const };

let savedEnv: NodeJS.ProcessEnv | undefined;

/** Real clients built from nothing but the server's env() (the way a child process or the CLI would). */
function wireClients(server: RegionServer): AwsClients {
  const env = server.env();
  savedEnv ??= { ...process.env };
  // The SDK reads the endpoint and credentials variables when the first request is sent: keep them until afterEach.
  Object.assign(process.env, env);
  const cfg = { region: env.AWS_REGION!, maxAttempts: 1 };
  return {
    ec2: new ec2.EC2Client(cfg),
    autoScaling: new asg.AutoScalingClient(cfg),
    elbv2: new elb.ElasticLoadBalancingV2Client(cfg),
    cloudwatch: new cw.CloudWatchClient(cfg),
  };
}

type Step = (c: AwsClients, w: World, f: FakeAws) => Promise<unknown>;

/** Every command the region serves, in an order that leaves each one something to act on. */
const SCRIPT: [string, Step][] = [
  ['DescribeAutoScalingGroups', (c) => c.autoScaling.send(new asg.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['kamailio-lb-asg'] }))],
  ['DescribeAutoScalingInstances', (c, _w, f) => c.autoScaling.send(new asg.DescribeAutoScalingInstancesCommand({ InstanceIds: [...f.instances.keys()] }))],
  ['DescribeLifecycleHooks', (c) => c.autoScaling.send(new asg.DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'kamailio-lb-asg' }))],
  [
    'PutLifecycleHook',
    (c) =>
      c.autoScaling.send(
        new asg.PutLifecycleHookCommand({
          AutoScalingGroupName: 'kamailio-lb-asg',
          LifecycleHookName: 'sipbake-drain',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          HeartbeatTimeout: 600,
          DefaultResult: 'CONTINUE',
        }),
      ),
  ],
  [
    'CreateOrUpdateTags',
    (c) =>
      c.autoScaling.send(
        new asg.CreateOrUpdateTagsCommand({
          Tags: [{ ResourceId: 'kamailio-lb-asg', ResourceType: 'auto-scaling-group', Key: 'sipbake:lease', Value: 'me', PropagateAtLaunch: false }],
        }),
      ),
  ],
  [
    'DeleteTags',
    (c) =>
      c.autoScaling.send(new asg.DeleteTagsCommand({ Tags: [{ ResourceId: 'kamailio-lb-asg', ResourceType: 'auto-scaling-group', Key: 'sipbake:lease' }] })),
  ],
  ['DescribeImages', (c) => c.ec2.send(new ec2.DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'tag:sipbake:image', Values: ['twilio-*'] }] }))],
  ['CreateTags', (c, w) => c.ec2.send(new ec2.CreateTagsCommand({ Resources: [w.newAmi.ImageId], Tags: [{ Key: 'sipbake:status', Value: 'candidate' }] }))],
  [
    'DescribeLaunchTemplateVersions',
    (c, w) => c.ec2.send(new ec2.DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: w.lt.LaunchTemplateId, Versions: ['$Latest'] })),
  ],
  [
    'CreateLaunchTemplateVersion',
    (c, w) =>
      c.ec2.send(
        new ec2.CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: w.lt.LaunchTemplateId,
          SourceVersion: '1',
          VersionDescription: 'sipbake',
          LaunchTemplateData: { ImageId: w.newAmi.ImageId },
        }),
      ),
  ],
  ['DescribeInstances', (c, _w, f) => c.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [...f.instances.keys()] }))],
  ['DescribeTargetGroups', (c, w) => c.elbv2.send(new elb.DescribeTargetGroupsCommand({ TargetGroupArns: [w.tg.TargetGroupArn] }))],
  ['DescribeTargetGroupAttributes', (c, w) => c.elbv2.send(new elb.DescribeTargetGroupAttributesCommand({ TargetGroupArn: w.tg.TargetGroupArn }))],
  [
    'ModifyTargetGroupAttributes',
    (c, w) =>
      c.elbv2.send(
        new elb.ModifyTargetGroupAttributesCommand({
          TargetGroupArn: w.tg.TargetGroupArn,
          Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
        }),
      ),
  ],
  [
    'DescribeTargetHealth',
    (c, w, f) =>
      c.elbv2.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: w.tg.TargetGroupArn, Targets: [...f.instances.keys()].map((Id) => ({ Id })) })),
  ],
  [
    'DescribeAlarms',
    (c) => c.cloudwatch.send(new cw.DescribeAlarmsCommand({ AlarmNames: ['sip-5xx', 'fleet'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] })),
  ],
  [
    'StartInstanceRefresh',
    (c, w) =>
      c.autoScaling.send(
        new asg.StartInstanceRefreshCommand({
          AutoScalingGroupName: 'kamailio-lb-asg',
          DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: w.lt.LaunchTemplateId, Version: '2' } },
          Preferences: {
            MinHealthyPercentage: 100,
            MaxHealthyPercentage: 200,
            AutoRollback: true,
            AlarmSpecification: { Alarms: ['sip-5xx'] },
            CheckpointPercentages: [50, 100],
            CheckpointDelay: 60,
            SkipMatching: true,
            ScaleInProtectedInstances: 'Wait',
            StandbyInstances: 'Wait',
          },
        }),
      ),
  ],
  [
    'DescribeInstanceRefreshes',
    (c) => c.autoScaling.send(new asg.DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'kamailio-lb-asg', MaxRecords: 5 })),
  ],
  [
    'RecordLifecycleActionHeartbeat',
    (c, _w, f) =>
      c.autoScaling.send(
        new asg.RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'kamailio-lb-asg', LifecycleHookName: 'sipbake-drain', InstanceId: waiting(f) }),
      ),
  ],
  [
    'CompleteLifecycleAction',
    (c, _w, f) =>
      c.autoScaling.send(
        new asg.CompleteLifecycleActionCommand({
          AutoScalingGroupName: 'kamailio-lb-asg',
          LifecycleHookName: 'sipbake-drain',
          InstanceId: waiting(f),
          LifecycleActionResult: 'CONTINUE',
        }),
      ),
  ],
  ['RollbackInstanceRefresh', (c) => c.autoScaling.send(new asg.RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'kamailio-lb-asg' }))],
  ['CancelInstanceRefresh', (c) => c.autoScaling.send(new asg.CancelInstanceRefreshCommand({ AutoScalingGroupName: 'kamailio-lb-asg' }))],
  [
    'UpdateAutoScalingGroup',
    (c, w) =>
      c.autoScaling.send(
        new asg.UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: 'kamailio-lb-asg',
          LaunchTemplate: { LaunchTemplateId: w.lt.LaunchTemplateId, Version: '2' },
          DesiredCapacity: 2,
        }),
      ),
  ],
  ['DisableImage', (c, w) => c.ec2.send(new ec2.DisableImageCommand({ ImageId: w.oldAmi.ImageId }))],
  ['EnableImage', (c, w) => c.ec2.send(new ec2.EnableImageCommand({ ImageId: w.oldAmi.ImageId }))],
  // The bake's calls (Packer's amazon-ebs order, abridged).
  ['DescribeVpcs', (c) => c.ec2.send(new ec2.DescribeVpcsCommand({ VpcIds: ['vpc-default'] }))],
  ['DescribeSubnets', (c) => c.ec2.send(new ec2.DescribeSubnetsCommand({ SubnetIds: ['subnet-1'] }))],
  ['CreateKeyPair', (c) => c.ec2.send(new ec2.CreateKeyPairCommand({ KeyName: 'packer_1' }))],
  ['CreateSecurityGroup', (c) => c.ec2.send(new ec2.CreateSecurityGroupCommand({ GroupName: 'packer_1', Description: 'packer', VpcId: 'vpc-default' }))],
  [
    'AuthorizeSecurityGroupIngress',
    (c, _w, f) =>
      c.ec2.send(
        new ec2.AuthorizeSecurityGroupIngressCommand({
          GroupId: [...f.securityGroups.keys()][0],
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '198.51.100.7/32' }] }],
        }),
      ),
  ],
  ['DescribeSecurityGroups', (c, _w, f) => c.ec2.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: [...f.securityGroups.keys()] }))],
  [
    'RunInstances',
    (c, w, f) =>
      c.ec2.send(
        new ec2.RunInstancesCommand({
          ImageId: w.oldAmi.ImageId,
          MinCount: 1,
          MaxCount: 1,
          InstanceType: 't3.small',
          KeyName: 'packer_1',
          SecurityGroupIds: [...f.securityGroups.keys()],
          MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'Packer Builder' }] }],
        }),
      ),
  ],
  ['StopInstances', (c, _w, f) => c.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [...f.ec2Instances.keys()] }))],
  [
    'CreateImage',
    (c, _w, f) =>
      c.ec2.send(
        new ec2.CreateImageCommand({
          InstanceId: [...f.ec2Instances.keys()][0],
          Name: 'twilio-relay-3',
          TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'sipbake:image', Value: 'twilio-relay' }] }],
        }),
      ),
  ],
  [
    'CopyImage',
    (c, w) =>
      c.ec2.send(
        new ec2.CopyImageCommand({
          SourceRegion: 'us-east-1',
          SourceImageId: w.newAmi.ImageId,
          Name: 'twilio-relay-3-enc',
          Encrypted: true,
          KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        }),
      ),
  ],
  [
    'EnableImageDeprecation',
    (c, _w, f) => c.ec2.send(new ec2.EnableImageDeprecationCommand({ ImageId: newest(f), DeprecateAt: new Date(Date.UTC(2027, 0, 1)) })),
  ],
  [
    'ModifyImageAttribute',
    (c, _w, f) => c.ec2.send(new ec2.ModifyImageAttributeCommand({ ImageId: newest(f), LaunchPermission: { Add: [{ UserId: '210987654321' }] } })),
  ],
  ['DeregisterImage', (c, _w, f) => c.ec2.send(new ec2.DeregisterImageCommand({ ImageId: [...f.images.values()].at(-2)!.ImageId }))],
  ['DeleteSnapshot', (c, _w, f) => c.ec2.send(new ec2.DeleteSnapshotCommand({ SnapshotId: [...f.snapshots.keys()][0] }))],
  ['TerminateInstances', (c, _w, f) => c.ec2.send(new ec2.TerminateInstancesCommand({ InstanceIds: [...f.ec2Instances.keys()] }))],
  ['DeleteSecurityGroup', (c, _w, f) => c.ec2.send(new ec2.DeleteSecurityGroupCommand({ GroupId: [...f.securityGroups.keys()][0] }))],
  ['DeleteKeyPair', (c) => c.ec2.send(new ec2.DeleteKeyPairCommand({ KeyName: 'packer_1' }))],
];

/** The instance waiting on its termination hook (simulated time moves until the refresh has one). */
function waiting(f: FakeAws): string {
  const find = () => [...f.instances.values()].find((i) => i.LifecycleState === 'Terminating:Wait');
  for (let s = 0; s < 600 && !find(); s++) f.advance(1000);
  return find()!.InstanceId;
}
const newest = (f: FakeAws) => [...f.images.values()].at(-1)!.ImageId;

/** The world both sides start from: the seed deployment, two alarms, a hook nobody completes but the script. */
function seed(f: FakeAws): World {
  f.opts.drainAgent = false;
  const w = seedWorld(f, { desired: 2 });
  f.setAlarm('sip-5xx', 'OK');
  f.setAlarm('fleet', 'ALARM', { composite: true });
  return w;
}

function world(): { f: FakeAws; w: World } {
  const f = new FakeAws(FIXED);
  return { f, w: seed(f) };
}

/** An answer or error with what legitimately differs between two runs (request ids, UUIDs) blanked out. */
function comparable(x: unknown): unknown {
  const plain = JSON.parse(
    JSON.stringify(x, function (this: Record<string, unknown>, k: string, v: unknown) {
      if (k === '$metadata' || k === '$response' || k === '$retryable') return undefined;
      return this[k] instanceof Date ? `date:${this[k].toISOString()}` : v;
    }),
  ) as unknown;
  return JSON.parse(JSON.stringify(plain).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID')) as unknown;
}

async function run(c: AwsClients, w: World, f: FakeAws): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, step] of SCRIPT) {
    out[name] = await step(c, w, f).then(
      (r) => comparable(r),
      (e: unknown) => ({ error: (e as Error).name, message: (e as Error).message }),
    );
  }
  return out;
}

let server: RegionServer | undefined;
let inProc: FakeAwsHandle | undefined;
afterEach(async () => {
  inProc?.restore();
  await server?.close();
  server = inProc = undefined;
  if (savedEnv) process.env = savedEnv;
  savedEnv = undefined;
});

describe('serveRegion: the region on the real wire protocols', () => {
  it('answers every served command as the in-process fake does, through all four SDK clients', async () => {
    inProc = createFakeAws(FIXED);
    const expected = await run(inProc.clients, seed(inProc.fake), inProc.fake);
    const b = world();
    server = await serveRegion(b.f, { clock: 'manual' });
    const got = await run(wireClients(server), b.w, b.f);
    for (const [name] of SCRIPT) expect.soft(got[name], name).toEqual(expected[name]);
    // Every command succeeded on both sides (the script is meant to be valid).
    expect(Object.entries(expected).filter(([, v]) => (v as { error?: string }).error)).toEqual([]);
    expect(b.f.calls.map((c) => c.command)).toEqual(SCRIPT.map(([n]) => n));
  });

  it("answers each target's registered port: the target group's, or the one a target was registered on", async () => {
    const { f, w } = world();
    server = await serveRegion(f, { clock: 'manual' });
    const c = wireClients(server);
    const [a, b] = [...f.instances.values()];
    b!.targetPort = 5080; // an image on another SIP port (RegisterTargets' per-target Port)
    const out = await c.elbv2.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: w.tg.TargetGroupArn }));
    const ports = Object.fromEntries((out.TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id, d.Target?.Port]));
    expect(ports).toEqual({ [a!.InstanceId]: 5060, [b!.InstanceId]: 5080 });
    w.tg.Port = 5070;
    const again = await c.elbv2.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: w.tg.TargetGroupArn, Targets: [{ Id: a!.InstanceId }] }));
    expect(again.TargetHealthDescriptions?.[0]?.Target?.Port).toBe(5070);
  });

  it("sends the region's errors in each protocol's envelope, with the fault's HTTP status", async () => {
    const { f } = world();
    server = await serveRegion(f, { clock: 'manual' });
    const c = wireClients(server);
    f.faults.add({ command: 'DescribeAutoScalingGroups', error: 'Throttling', message: 'Rate exceeded', times: 1 });
    f.faults.add({ command: 'DescribeInstances', error: 'RequestLimitExceeded', message: 'Request limit exceeded.', status: 503, times: 1 });
    f.faults.add({ command: 'DescribeTargetHealth', error: 'InvalidTargetException', times: 1 });
    f.faults.add({ command: 'DescribeAlarms', error: 'InvalidParameterValue', message: 'bad', times: 1 });
    const err = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (x: unknown) => {
          const e = x as Error & { $metadata: { httpStatusCode: number }; $fault: string };
          return [e.name, e.message, e.$metadata.httpStatusCode, e.$fault];
        },
      );
    expect(await err(c.autoScaling.send(new asg.DescribeAutoScalingGroupsCommand({})))).toEqual(['Throttling', 'Rate exceeded', 400, 'client']);
    expect(await err(c.ec2.send(new ec2.DescribeInstancesCommand({})))).toEqual(['RequestLimitExceeded', 'Request limit exceeded.', 503, 'server']);
    expect(await err(c.elbv2.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: [...f.targetGroups.keys()][0] })))).toEqual([
      'InvalidTargetException',
      'InvalidTargetException (injected by the fake)',
      400,
      'client',
    ]);
    expect(await err(c.cloudwatch.send(new cw.DescribeAlarmsCommand({})))).toEqual(['InvalidParameterValueException', 'bad', 400, 'client']);
    // A command the region does not model fails loudly, recorded nowhere.
    expect((await err(c.ec2.send(new ec2.DescribeVolumesCommand({}))))?.[0]).toBe('NotImplementedByFake');
    expect(server.requests.map((r) => r.status)).toEqual([400, 503, 400, 400, 400]);
  });

  it('refuses a request without a SigV4 Authorization header', async () => {
    const { f } = world();
    server = await serveRegion(f, { clock: 'manual' });
    const res = await fetch(server.endpoints.autoscaling, {
      method: 'POST',
      body: 'Action=DescribeAutoScalingGroups&Version=2011-01-01',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>MissingAuthenticationToken</Code>');
    expect(f.calls).toEqual([]);
  });

  it('evaluates IAM with the region the request was signed for', async () => {
    // No launch time: only the signature's region reaches IAM here.
    const f = new FakeAws({ bootSeconds: 0, iam: { role: 'roll', image: 'twilio-relay', expectDenials: true } });
    seedWorld(f, { desired: 1 });
    server = await serveRegion(f, { clock: 'manual' });
    const c = wireClients(server);
    await c.autoScaling.send(new asg.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['kamailio-lb-asg'] }));
    expect(f.iam!.evaluated.length).toBeGreaterThan(0);
    const other = new asg.AutoScalingClient({
      region: 'eu-west-1',
      endpoint: server.endpoints.autoscaling,
      maxAttempts: 1,
      credentials: { accessKeyId: 'A', secretAccessKey: 'B' },
    });
    const e = await other.send(new asg.DescribeAutoScalingGroupsCommand({})).catch((x: unknown) => x);
    expect((e as Error).name).toBe('AccessDenied');
  });
});
