// `sipbake infra` / SipbakeFleet for both seeds: aws-cdk-lib's assertions on the synthesized template, and the
// AWS fake set up from that template's resources passes `roll --plan` with no refusal and no warning.
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { loadImageOrThrow } from '../../src/definition/load.js';
import type { ImageDefinition } from '../../src/definition/schema.js';
import { policyFor } from '../../src/iam/policies.js';
import { fleetStack } from '../../src/infra/synth.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { worldFromTemplate } from './world-from-template.js';

const root = path.resolve(import.meta.dirname, '../..');
const SYNTH_TIMEOUT = 120_000; // aws-cdk-lib loads and synthesizes in seconds; the shared machine is slow
let restore: (() => void) | undefined;
afterEach(() => restore?.());

const seeds: Record<string, { def: ImageDefinition; template: Template }> = {};
beforeAll(async () => {
  for (const name of ['twilio-relay', 'recorder-lb']) {
    const { image: def } = await loadImageOrThrow(root, name);
    seeds[name] = { def, template: Template.fromStack(fleetStack(new App(), { image: def })) };
  }
}, SYNTH_TIMEOUT);

type Doc = { plan: { mode: string; findings: { level: string; check: string; message: string; fix?: string }[] } };
async function rollPlan(image: string, fake: FakeAws): Promise<{ code: number; plan: Doc['plan'] }> {
  restore = installFakeAws(fake);
  const reporter = new RecordingReporter(true);
  const code = await main(['roll', image, '--plan', '--json', '--root', root], { reporter, env: {}, signal: new AbortController().signal });
  return { code, plan: (reporter.results[0] as Doc).plan };
}

describe.each(['twilio-relay', 'recorder-lb'])('SipbakeFleet for %s', (name) => {
  const seed = () => seeds[name]!;

  it('the group: a numbered launch template version, ELB health checks, the termination hook, the target group, no desired capacity', () => {
    const { def, template } = seed();
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      AutoScalingGroupName: def.deploy!.asgName,
      HealthCheckType: 'ELB',
      LaunchTemplate: { LaunchTemplateId: { Ref: Match.anyValue() }, Version: { 'Fn::GetAtt': [Match.anyValue(), 'LatestVersionNumber'] } },
      TargetGroupARNs: [{ Ref: Match.anyValue() }],
      DesiredCapacity: Match.absent(),
      LifecycleHookSpecificationList: [
        {
          LifecycleHookName: def.deploy!.lifecycleHook.name,
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          HeartbeatTimeout: def.drain.maxSeconds + 60,
          DefaultResult: 'CONTINUE',
        },
      ],
    });
    template.hasResource('AWS::AutoScaling::AutoScalingGroup', {
      UpdatePolicy: { AutoScalingScheduledAction: { IgnoreUnmodifiedGroupSizeProperties: true } },
    });
  });

  it('the launch template requires IMDSv2 and carries the instance profile; its image is the ImageId parameter', () => {
    const { template } = seed();
    template.hasParameter('ImageId', { Type: 'AWS::EC2::Image::Id' });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        ImageId: { Ref: 'ImageId' },
        MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
        IamInstanceProfile: { Arn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
      },
    });
  });

  it("the target group: health check on the drain agent's port, deregistration delay, source-IP stickiness; named as deploy.targetGroupArns", () => {
    const { def, template } = seed();
    const port = def.listen.udp ?? def.listen.tcp;
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Name: /:targetgroup\/([^/]+)\//.exec(def.deploy!.targetGroupArns[0]!)![1],
      Port: port,
      Protocol: 'TCP_UDP',
      HealthCheckProtocol: 'TCP',
      HealthCheckPort: String(def.drain.healthCheck.port),
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: String(def.drain.maxSeconds) },
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.type', Value: 'source_ip' },
      ]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: port, Protocol: 'TCP_UDP' });
  });

  it('the NLB has an Elastic IP subnet mapping, and the NAT gateway its own Elastic IP', () => {
    const { template } = seed();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internet-facing',
      SubnetMappings: [{ SubnetId: Match.anyValue(), AllocationId: { 'Fn::GetAtt': [Match.stringLikeRegexp('NlbEip'), 'AllocationId'] } }],
    });
    template.resourceCountIs('AWS::EC2::EIP', 2);
    template.hasResourceProperties('AWS::EC2::NatGateway', { AllocationId: { 'Fn::GetAtt': [Match.anyValue(), 'AllocationId'] } });
    template.hasOutput('NlbElasticIp', {});
    template.hasOutput('NatGatewayIp', {});
  });

  it('the roles carry the policies `sipbake iam` prints (build and roll sessions last the 4 h jobs)', () => {
    const { def, template } = seed();
    const roles = template.findResources('AWS::IAM::Role');
    const sids = (role: string) =>
      Object.values(roles)
        .flatMap((r) => (r.Properties as { Policies: { PolicyName: string; PolicyDocument: { Statement: { Sid: string }[] } }[] }).Policies)
        .filter((p) => p.PolicyName === `sipbake-${role}`)
        .flatMap((p) => p.PolicyDocument.Statement.map((s) => s.Sid));
    for (const role of ['build', 'roll', 'instance'] as const) expect(sids(role)).toEqual(policyFor(role, def).Statement.map((s) => s.Sid));
    template.resourcePropertiesCountIs('AWS::IAM::Role', { MaxSessionDuration: 14400 }, 2);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'ec2.amazonaws.com' } }] },
      ManagedPolicyArns: [{ 'Fn::Join': ['', Match.arrayWith([':iam::aws:policy/AmazonSSMManagedInstanceCore'])] }],
    });
  });

  it('the AWS fake set up from the template passes roll --plan with no refusal and no warning', async () => {
    const { def, template } = seed();
    const fake = new FakeAws({ iam: { role: 'roll', image: name } });
    worldFromTemplate(fake, template.toJSON(), { image: name, targetGroupArns: def.deploy!.targetGroupArns });
    const { code, plan } = await rollPlan(name, fake);
    expect(code, JSON.stringify(plan.findings.filter((f) => f.level !== 'ok'))).toBe(0);
    expect(plan.findings.filter((f) => f.level === 'refuse' || f.level === 'warn')).toEqual([]);
    expect(fake.calls.filter((c) => !/^Describe/.test(c.command))).toEqual([]);
  });
});

describe('preflight names the construct property that provides a missing piece', () => {
  it('a group the template made without ELB health checks and on $Latest: each refusal points at SipbakeFleet', async () => {
    const { def, template } = seeds['twilio-relay']!;
    const json = structuredClone(template.toJSON()) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    const group = Object.values(json.Resources).find((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')!;
    delete group.Properties.HealthCheckType;
    (group.Properties.LaunchTemplate as { Version: unknown }).Version = '$Latest';
    const fake = new FakeAws({ iam: { role: 'roll', image: 'twilio-relay' } });
    worldFromTemplate(fake, json, { image: 'twilio-relay', targetGroupArns: def.deploy!.targetGroupArns });
    const { code, plan } = await rollPlan('twilio-relay', fake);
    expect(code).toBe(1);
    const refused = plan.findings.filter((f) => f.level === 'refuse');
    expect(refused.map((f) => f.check)).toEqual(['pinnedVersion', 'healthCheckIsElb']);
    expect(refused[0]!.fix).toMatch(/SipbakeFleet .*LaunchTemplate\.Version = LatestVersionNumber/);
    expect(refused[1]!.fix).toMatch(/SipbakeFleet .*HealthCheckType ELB/);
  });
});

describe('sipbake infra', () => {
  it(
    'writes the template for existing subnets by id, and refuses half of the subnet flags with exit 2',
    async () => {
      const { mkdtemp, readFile, readdir, rm } = await import('node:fs/promises');
      const { tmpdir } = await import('node:os');
      const out = await mkdtemp(path.join(tmpdir(), 'sipbake-infra-test-'));
      try {
        const run = (args: string[]) =>
          main([...args, '--root', root], { reporter: new RecordingReporter(false), env: {}, signal: new AbortController().signal });
        expect(await run(['infra', 'twilio-relay', '--vpc-id', 'vpc-0abc'])).toBe(2);
        const code = await run(
          ['infra', 'twilio-relay', '--out', out, '--vpc-id', 'vpc-0abc', '--vpc-cidr', '10.1.0.0/16'].concat([
            '--public-subnets',
            'subnet-0a,subnet-0b',
            '--private-subnets',
            'subnet-1a,subnet-1b',
            '--ami',
            'ami-0123456789abcdef0',
          ]),
        );
        expect(code).toBe(0);
        expect(await readdir(out)).toEqual(['sipbake-twilio-relay.template.json']);
        const t = Template.fromJSON(JSON.parse(await readFile(path.join(out, 'sipbake-twilio-relay.template.json'), 'utf8')) as Record<string, unknown>);
        t.resourceCountIs('AWS::EC2::VPC', 0);
        t.resourceCountIs('AWS::EC2::NatGateway', 0);
        t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { VPCZoneIdentifier: ['subnet-1a', 'subnet-1b'] });
        t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { SubnetMappings: [{ SubnetId: 'subnet-0a', AllocationId: Match.anyValue() }] });
        t.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0' } });
        t.hasResourceProperties('AWS::EC2::SecurityGroup', {
          VpcId: 'vpc-0abc',
          SecurityGroupIngress: Match.arrayWith([Match.objectLike({ FromPort: 8090, CidrIp: '10.1.0.0/16' })]),
        });
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    },
    SYNTH_TIMEOUT,
  );
});
