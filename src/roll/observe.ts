// Load step of a roll: read the group, its launch template, AMIs, target groups, hooks, refreshes and alarms.
// Only reads; the planner turns this into decisions.
import {
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeLifecycleHooksCommand,
  type InstanceRefresh,
} from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetGroupAttributesCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients.js';
import { returned } from '../aws/response.js';
import { describeFleet } from './fleet.js';
import { getAmi } from './images.js';
import { ACTIVE_STATUSES, parseMarker, type GroupInfo, type LtVersionInfo, type Observed, type RefreshInfo, type TargetGroupInfo } from './types.js';

export async function describeGroup(c: Pick<AwsClients, 'autoScaling'>, name: string): Promise<GroupInfo | undefined> {
  const out = await c.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  const g = out.AutoScalingGroups?.[0];
  if (!g) return undefined;
  return {
    name: returned(g.AutoScalingGroupName, 'DescribeAutoScalingGroups AutoScalingGroupName'),
    desired: g.DesiredCapacity ?? 0,
    min: g.MinSize ?? 0,
    max: g.MaxSize ?? 0,
    healthCheckType: g.HealthCheckType ?? 'EC2',
    healthCheckGracePeriod: g.HealthCheckGracePeriod ?? 0,
    targetGroupArns: g.TargetGroupARNs ?? [],
    ...(g.LaunchTemplate?.LaunchTemplateId
      ? {
          launchTemplate: {
            id: g.LaunchTemplate.LaunchTemplateId,
            name: g.LaunchTemplate.LaunchTemplateName,
            version: g.LaunchTemplate.Version ?? '$Default',
          },
        }
      : {}),
    ...(g.LaunchConfigurationName ? { launchConfigurationName: g.LaunchConfigurationName } : {}),
    mixedInstancesPolicy: g.MixedInstancesPolicy !== undefined,
    instances: (g.Instances ?? []).map((i) => ({
      id: returned(i.InstanceId, 'DescribeAutoScalingGroups Instances[].InstanceId'),
      lifecycleState: i.LifecycleState ?? '',
      ltVersion: i.LaunchTemplate?.Version,
      health: i.HealthStatus,
    })),
    tags: Object.fromEntries((g.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

export async function describeLtVersion(c: Pick<AwsClients, 'ec2'>, ltId: string, version: string): Promise<LtVersionInfo | undefined> {
  try {
    const out = await c.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: ltId, Versions: [version] }));
    const v = out.LaunchTemplateVersions?.[0];
    if (!v) return undefined;
    return {
      ltId: returned(v.LaunchTemplateId, 'DescribeLaunchTemplateVersions LaunchTemplateId'),
      ...(v.LaunchTemplateName ? { ltName: v.LaunchTemplateName } : {}),
      version: returned(v.VersionNumber, 'DescribeLaunchTemplateVersions VersionNumber'),
      ...(v.LaunchTemplateData?.ImageId ? { imageId: v.LaunchTemplateData.ImageId } : {}),
      ...(v.VersionDescription ? { description: v.VersionDescription } : {}),
      ...(parseMarker(v.VersionDescription) ? { marker: parseMarker(v.VersionDescription) } : {}),
      ...(v.LaunchTemplateData?.MetadataOptions?.HttpTokens ? { httpTokens: v.LaunchTemplateData.MetadataOptions.HttpTokens } : {}),
      ...(v.LaunchTemplateData?.InstanceMarketOptions?.MarketType ? { marketType: v.LaunchTemplateData.InstanceMarketOptions.MarketType } : {}),
      ...(v.LaunchTemplateData?.IamInstanceProfile
        ? { instanceProfile: v.LaunchTemplateData.IamInstanceProfile.Arn ?? v.LaunchTemplateData.IamInstanceProfile.Name ?? '' }
        : {}),
    };
  } catch (e) {
    if (e instanceof Error && /NotFound/.test(e.name)) return undefined;
    throw e;
  }
}

function toRefreshInfo(r: InstanceRefresh): RefreshInfo {
  return {
    id: returned(r.InstanceRefreshId, 'DescribeInstanceRefreshes InstanceRefreshId'),
    status: r.Status ?? 'Pending',
    ...(r.StatusReason ? { statusReason: r.StatusReason } : {}),
    ...(r.StartTime ? { startTime: r.StartTime } : {}),
    ...(r.EndTime ? { endTime: r.EndTime } : {}),
    percentageComplete: r.PercentageComplete ?? 0,
    instancesToUpdate: r.InstancesToUpdate ?? 0,
    ...(r.DesiredConfiguration?.LaunchTemplate?.LaunchTemplateId
      ? {
          desired: {
            ltId: r.DesiredConfiguration.LaunchTemplate.LaunchTemplateId,
            version: r.DesiredConfiguration.LaunchTemplate.Version ?? '$Default',
          },
        }
      : {}),
    ...(r.RollbackDetails
      ? {
          rollback: {
            ...(r.RollbackDetails.RollbackReason ? { reason: r.RollbackDetails.RollbackReason } : {}),
            ...(r.RollbackDetails.RollbackStartTime ? { startTime: r.RollbackDetails.RollbackStartTime } : {}),
            percentageComplete: r.RollbackDetails.PercentageCompleteOnRollback ?? 0,
            instancesToUpdate: r.RollbackDetails.InstancesToUpdateOnRollback ?? 0,
          },
        }
      : {}),
    checkpoints: r.Preferences?.CheckpointPercentages ?? [],
    ...(r.Preferences?.BakeTime !== undefined ? { bakeTime: r.Preferences.BakeTime } : {}),
  };
}

export async function describeRefreshes(c: Pick<AwsClients, 'autoScaling'>, asg: string, ids?: string[]): Promise<RefreshInfo[]> {
  const out = await c.autoScaling.send(
    new DescribeInstanceRefreshesCommand({
      AutoScalingGroupName: asg,
      ...(ids ? { InstanceRefreshIds: ids } : { MaxRecords: 20 }),
    }),
  );
  return (out.InstanceRefreshes ?? []).map(toRefreshInfo);
}

async function describeTargetGroups(c: Pick<AwsClients, 'elbv2'>, arns: string[]): Promise<{ found: TargetGroupInfo[]; missing: string[] }> {
  const found: TargetGroupInfo[] = [];
  const missing: string[] = [];
  for (const arn of arns) {
    try {
      const tg = (await c.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups?.[0];
      if (!tg) {
        missing.push(arn);
        continue;
      }
      const attrs = (await c.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }))).Attributes ?? [];
      const delay = attrs.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
      found.push({
        arn,
        name: tg.TargetGroupName ?? arn,
        intervalSeconds: tg.HealthCheckIntervalSeconds ?? 30,
        healthyThreshold: tg.HealthyThresholdCount ?? 5,
        deregistrationDelay: delay === undefined ? 300 : Number(delay),
      });
    } catch (e) {
      if (e instanceof Error && /TargetGroupNotFound/.test(e.name)) missing.push(arn);
      else throw e;
    }
  }
  return { found, missing };
}

export interface ObserveInput {
  asgName: string;
  targetGroupArns: string[];
  alarms: string[];
  /** The AMI to roll to (already chosen). */
  amiId?: string;
}

export async function observe(c: AwsClients, o: ObserveInput): Promise<Observed> {
  const group = await describeGroup(c, o.asgName);
  const obs: Observed = { targetGroups: [], missingTargetGroups: [], hooks: [], refreshes: [], missingAlarms: [] };
  if (!group) return obs;
  obs.group = group;
  if (group.launchTemplate) {
    const current = await describeLtVersion(c, group.launchTemplate.id, group.launchTemplate.version);
    if (current) {
      obs.current = current;
      if (current.imageId) obs.currentAmi = await getAmi(c, current.imageId);
    }
  }
  if (o.amiId) obs.target = await getAmi(c, o.amiId);
  const tgs = await describeTargetGroups(c, [...new Set([...o.targetGroupArns, ...group.targetGroupArns])]);
  obs.targetGroups = tgs.found;
  obs.missingTargetGroups = tgs.missing;
  obs.fleet = await describeFleet(c, group, obs.targetGroups);
  const hooks = await c.autoScaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: o.asgName }));
  obs.hooks = (hooks.LifecycleHooks ?? []).map((h) => ({
    name: returned(h.LifecycleHookName, 'DescribeLifecycleHooks LifecycleHookName'),
    transition: h.LifecycleTransition ?? '',
    heartbeatTimeout: h.HeartbeatTimeout ?? 3600,
    defaultResult: h.DefaultResult ?? 'ABANDON',
  }));
  obs.refreshes = await describeRefreshes(c, o.asgName);
  const active = obs.refreshes.find((r) => ACTIVE_STATUSES.includes(r.status));
  if (active) {
    const v = active.desired ? await describeLtVersion(c, active.desired.ltId, active.desired.version) : undefined;
    obs.active = { refresh: active, ...(v ? { desired: v } : {}) };
  }
  if (o.alarms.length > 0) {
    const out = await c.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: o.alarms, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    const known = new Set([...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].map((a) => a.AlarmName));
    obs.missingAlarms = o.alarms.filter((a) => !known.has(a));
  }
  return obs;
}
