// Sets the AWS fake up from a synthesized template's resources, as CloudFormation would have created them: the
// launch template (version 1), the target groups (with the ARNs the user copied into deploy.targetGroupArns),
// the Auto Scaling group with its hooks, and two sipbake-tagged AMIs of the image. Fails loudly on what the
// template lacks, so a construct that drops a resource fails the test here rather than passing by default.
import type { FakeAws } from '../fakes/aws/index.js';
import { sipbakeTags } from '../../src/region/scenario.js';
import type { FakeImage, FakeLaunchTemplate } from '../../src/region/model.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Template = { Resources: Record<string, Resource> };
type Ref = { Ref: string } | { 'Fn::GetAtt': [string, string] } | string;

function only(t: Template, type: string): [string, Resource][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}
function one(t: Template, type: string): [string, Resource] {
  const [found, ...more] = only(t, type);
  if (!found || more.length > 0) throw new Error(`the template has ${more.length + (found ? 1 : 0)} ${type}, not one`);
  return found;
}

export interface TemplateWorld {
  oldAmi: FakeImage;
  newAmi: FakeImage;
  lt: FakeLaunchTemplate;
}

export function worldFromTemplate(fake: FakeAws, template: unknown, o: { image: string; targetGroupArns: string[] }): TemplateWorld {
  const t = template as Template;
  const oldAmi = fake.addImage({ Name: `${o.image}-1`, Tags: sipbakeTags(o.image, 1), CreationDate: '2025-12-01T00:00:00.000Z' });
  const newAmi = fake.addImage({ Name: `${o.image}-2`, Tags: sipbakeTags(o.image, 2), CreationDate: '2025-12-02T00:00:00.000Z' });

  const [ltId, ltRes] = one(t, 'AWS::EC2::LaunchTemplate');
  const data = ltRes.Properties.LaunchTemplateData as { InstanceType?: string; MetadataOptions?: { HttpTokens?: 'required' | 'optional' } };
  const lt = fake.addLaunchTemplate(`lt-${ltId}`, {
    ImageId: oldAmi.ImageId,
    HttpTokens: data.MetadataOptions?.HttpTokens,
    ...(data.InstanceType ? { InstanceType: data.InstanceType } : {}),
  });

  const tgArn = new Map<string, string>();
  only(t, 'AWS::ElasticLoadBalancingV2::TargetGroup').forEach(([id, r], i) => {
    const p = r.Properties as {
      Name: string;
      HealthCheckIntervalSeconds?: number;
      HealthyThresholdCount?: number;
      UnhealthyThresholdCount?: number;
      TargetGroupAttributes?: { Key: string; Value: string }[];
    };
    const attr = (k: string) => p.TargetGroupAttributes?.find((a) => a.Key === k)?.Value;
    const tg = fake.addTargetGroup(p.Name, {
      deregistrationDelay: Number(attr('deregistration_delay.timeout_seconds') ?? 300), // ELB's default
      ...(p.HealthCheckIntervalSeconds ? { HealthCheckIntervalSeconds: p.HealthCheckIntervalSeconds } : {}),
      ...(p.HealthyThresholdCount ? { HealthyThresholdCount: p.HealthyThresholdCount } : {}),
      ...(p.UnhealthyThresholdCount ? { UnhealthyThresholdCount: p.UnhealthyThresholdCount } : {}),
    });
    const arn = o.targetGroupArns[i];
    if (arn) {
      fake.targetGroups.delete(tg.TargetGroupArn);
      tg.TargetGroupArn = arn;
      fake.targetGroups.set(arn, tg);
    }
    tgArn.set(id, tg.TargetGroupArn);
  });

  const [, asgRes] = one(t, 'AWS::AutoScaling::AutoScalingGroup');
  const a = asgRes.Properties as {
    AutoScalingGroupName: string;
    MinSize: string;
    HealthCheckType?: string;
    LaunchTemplate?: { LaunchTemplateId: Ref; Version: Ref };
    TargetGroupARNs?: Ref[];
    LifecycleHookSpecificationList?: {
      LifecycleHookName: string;
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' | 'autoscaling:EC2_INSTANCE_LAUNCHING';
      HeartbeatTimeout?: number;
      DefaultResult?: 'CONTINUE' | 'ABANDON';
    }[];
  };
  // CloudFormation resolves GetAtt LatestVersionNumber to the version it just created: 1.
  const version = (v: Ref): string => (typeof v === 'string' ? v : 'Fn::GetAtt' in v && v['Fn::GetAtt'][1] === 'LatestVersionNumber' ? '1' : '$Default');
  const refOf = (r: Ref): string => (typeof r === 'string' ? r : 'Ref' in r ? (tgArn.get(r.Ref) ?? r.Ref) : JSON.stringify(r));
  fake.addAsg({
    AutoScalingGroupName: a.AutoScalingGroupName,
    desired: Number(a.MinSize),
    HealthCheckType: a.HealthCheckType ?? 'EC2', // CloudFormation's default
    ...(a.LaunchTemplate ? { launchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: version(a.LaunchTemplate.Version) } } : {}),
    TargetGroupARNs: (a.TargetGroupARNs ?? []).map(refOf),
    hooks: (a.LifecycleHookSpecificationList ?? []).map((h) => ({
      LifecycleHookName: h.LifecycleHookName,
      LifecycleTransition: h.LifecycleTransition,
      HeartbeatTimeout: h.HeartbeatTimeout ?? 3600, // PutLifecycleHook's default
      DefaultResult: h.DefaultResult ?? 'ABANDON',
    })),
  });
  return { oldAmi, newAmi, lt };
}
