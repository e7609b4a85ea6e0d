// A ready-made world like the reference deployment (seed 000): an ASG behind one NLB target group, a launch
// template on a numbered version, a termination hook, and sipbake-tagged AMIs. Tests tweak it before acting.
import type { Region } from './region.js';
import type { FakeAsg, FakeImage, FakeLaunchTemplate, FakeTargetGroup } from './model.js';

export interface World {
  asg: FakeAsg;
  lt: FakeLaunchTemplate;
  tg: FakeTargetGroup;
  oldAmi: FakeImage;
  newAmi: FakeImage;
}

export function sipbakeTags(image: string, n: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'sipbake:image': image,
    'sipbake:content-hash': `hash${n}`.padEnd(16, '0'),
    'sipbake:kamailio-version': n > 1 ? '5.8.4' : '5.8.3',
    'sipbake:rtpproxy-version': '3.0.1',
    'sipbake:git-commit': `c0ffee${n}`,
    'sipbake:built-at': new Date(Date.UTC(2025, 11, n)).toISOString(),
    'sipbake:source-ami': 'ami-0debian12base0001',
    ...extra,
  };
}

export function seedWorld(
  fake: Region,
  o: {
    image?: string;
    desired?: number;
    hook?: boolean;
    heartbeat?: number;
    deregistrationDelay?: number;
    version?: string;
    targetGroupArn?: string;
    asgName?: string;
    hookName?: string;
  } = {},
): World {
  const image = o.image ?? 'twilio-relay';
  const oldAmi = fake.addImage({
    Name: `${image}-1`,
    Tags: sipbakeTags(image, 1),
    CreationDate: '2025-12-01T00:00:00.000Z',
  });
  const newAmi = fake.addImage({
    Name: `${image}-2`,
    Tags: sipbakeTags(image, 2),
    CreationDate: '2025-12-02T00:00:00.000Z',
  });
  const lt = fake.addLaunchTemplate('kamailio-lb', { ImageId: oldAmi.ImageId });
  const tg = fake.addTargetGroup('kamailio-lb-tg', { deregistrationDelay: o.deregistrationDelay ?? 0 });
  if (o.targetGroupArn) {
    fake.targetGroups.delete(tg.TargetGroupArn);
    tg.TargetGroupArn = o.targetGroupArn;
    fake.targetGroups.set(tg.TargetGroupArn, tg);
  }
  const asg = fake.addAsg({
    AutoScalingGroupName: o.asgName ?? 'kamailio-lb-asg',
    desired: o.desired ?? 2,
    launchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: o.version ?? '1' },
    TargetGroupARNs: [tg.TargetGroupArn],
    hooks:
      o.hook === false
        ? []
        : [
            {
              LifecycleHookName: o.hookName ?? 'sipbake-drain',
              LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
              HeartbeatTimeout: o.heartbeat ?? 1800,
              DefaultResult: 'CONTINUE',
            },
          ],
  });
  return { asg, lt, tg, oldAmi, newAmi };
}
