// The AWS side of a rehearsal: one Region (src/region) seeded as the image's deploy section describes the group
// (its Auto Scaling group on a numbered launch-template version, its target group with health check and
// deregistration delay, the termination lifecycle hook, its alarms), and the two rendered images registered as AMIs.
// `sipbake roll` then finds exactly what it would in the account.
import type { DeployConfig } from '../definition/deploy-schema.js';
import type { FakeAsg, FakeTargetGroup } from '../region/model.js';
import { Region } from '../region/region.js';
import { sipbakeTags } from '../region/scenario.js';

/** The seed deployment's target group health check (seed 000: interval 30 s, 2 passes, 2 failures). */
export const SEED_HEALTH_CHECK = { HealthCheckIntervalSeconds: 30, HealthyThresholdCount: 2, UnhealthyThresholdCount: 2 } as const;

export interface SeededRegion {
  region: Region;
  asg: FakeAsg;
  tg: FakeTargetGroup;
  amis: { old: string; new: string };
}

export interface SeedParams {
  /** The image name `sipbake roll` is given (the AMIs' sipbake:image tag). */
  image: string;
  deploy: DeployConfig;
  instances: number;
  deregistrationDelaySeconds: number;
  hookTimeoutSeconds: number;
}

export function seedRegion(p: SeedParams): SeededRegion {
  // bootSeconds 0: the model's Pending is the rig's own boot (a namespace), whose health the NLB's checks tell;
  // drainAgent off: the instances' real drain agents complete their lifecycle actions.
  const region = new Region({ region: p.deploy.region, bootSeconds: 0, drainAgent: false });
  const old = region.addImage({ Name: `${p.image}-rehearsal-old`, Tags: sipbakeTags(p.image, 1), CreationDate: '2025-12-01T00:00:00.000Z' });
  const next = region.addImage({ Name: `${p.image}-rehearsal-new`, Tags: sipbakeTags(p.image, 2), CreationDate: '2025-12-02T00:00:00.000Z' });
  const lt = region.addLaunchTemplate(`${p.deploy.asgName}-lt`, { ImageId: old.ImageId });
  const tgArn = p.deploy.targetGroupArns[0] ?? '';
  const tg = region.addTargetGroup(/targetgroup\/([^/]+)\//.exec(tgArn)?.[1] ?? 'rehearsal-tg', {
    ...SEED_HEALTH_CHECK,
    deregistrationDelay: p.deregistrationDelaySeconds,
  });
  region.targetGroups.delete(tg.TargetGroupArn);
  tg.TargetGroupArn = tgArn;
  region.targetGroups.set(tgArn, tg);
  const asg = region.addAsg({
    AutoScalingGroupName: p.deploy.asgName,
    desired: p.instances,
    launchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: '1' },
    TargetGroupARNs: [tgArn],
    hooks: [
      {
        LifecycleHookName: p.deploy.lifecycleHook.name,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: p.hookTimeoutSeconds,
        DefaultResult: 'CONTINUE',
      },
    ],
  });
  for (const a of p.deploy.refresh.alarms) region.setAlarm(a, 'OK');
  return { region, asg, tg, amis: { old: old.ImageId, new: next.ImageId } };
}

/**
 * The old fleet's measured boot in real seconds: the slowest launch to InService (healthy and registered), and at
 * least the slowest booted image's own boot (--baked: nspawn's start to `systemctl is-system-running`, the report's
 * perInstance[].bootSeconds), so the figure the report shows is one the grace covers.
 */
export function fleetBootSeconds(instances: { id: string; launchedAt: number; inServiceAt?: number }[], bootSeconds: ReadonlyMap<string, number>): number {
  const launched = instances.map((i) => ((i.inServiceAt ?? i.launchedAt) - i.launchedAt) / 1000);
  const booted = instances.map((i) => bootSeconds.get(i.id) ?? 0);
  return Math.max(0, ...launched, ...booted);
}

/**
 * HealthCheckGracePeriod from the old fleet's measured boot (AWS seconds): twice the boot, plus the NLB's checks
 * to turn a late starter unhealthy and healthy again (UnhealthyThresholdCount, then HealthyThresholdCount
 * intervals), plus one more interval. An operator sets it to cover the slowest good boot ("Set the health check
 * grace period", Amazon EC2 Auto Scaling user guide).
 */
export function graceFromBoot(bootAwsSeconds: number, slowBootAwsSeconds: number): number {
  const hc = SEED_HEALTH_CHECK;
  const checks = (hc.UnhealthyThresholdCount + hc.HealthyThresholdCount + 1) * hc.HealthCheckIntervalSeconds;
  return Math.ceil(2 * bootAwsSeconds + slowBootAwsSeconds + checks);
}
