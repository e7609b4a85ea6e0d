// Auto Scaling commands of the fake: groups, instance refreshes (start, describe, rollback, cancel), hooks, tags.
import { globalTimeoutSeconds } from '../contract/drain-timing.js';
import type { Region } from './region.js';
import { awsError } from './faults.js';
import type { FakeInstance, FakeRefresh, RefreshPrefs } from './model.js';
import { gracePeriodOf, progressOf, startRollback, stepRefresh } from './refresh-engine.js';

type In = Record<string, any>;

function prefsOf(p: In = {}): RefreshPrefs {
  return {
    MinHealthyPercentage: p.MinHealthyPercentage ?? 90,
    MaxHealthyPercentage: p.MaxHealthyPercentage ?? 100,
    InstanceWarmup: p.InstanceWarmup ?? 0,
    CheckpointPercentages: p.CheckpointPercentages ?? [],
    CheckpointDelay: p.CheckpointDelay ?? 3600,
    SkipMatching: p.SkipMatching ?? false,
    AutoRollback: p.AutoRollback ?? false,
    BakeTime: p.BakeTime ?? 0,
    Alarms: p.AlarmSpecification?.Alarms ?? [],
    // AWS's defaults are Wait for both (API_RefreshPreferences).
    ScaleInProtectedInstances: p.ScaleInProtectedInstances ?? 'Wait',
    StandbyInstances: p.StandbyInstances ?? 'Wait',
    raw: p,
  };
}

function refreshView(f: Region, r: FakeRefresh) {
  const p = progressOf(f, r);
  return {
    InstanceRefreshId: r.InstanceRefreshId,
    AutoScalingGroupName: r.asg,
    Status: r.Status,
    StatusReason: r.StatusReason,
    StartTime: new Date(r.StartTime),
    EndTime: r.EndTime === undefined ? undefined : new Date(r.EndTime),
    PercentageComplete: p.pct,
    InstancesToUpdate: p.left,
    ProgressDetails: { LivePoolProgress: { PercentageComplete: p.pct, InstancesToUpdate: p.left } },
    Preferences: r.prefs.raw,
    DesiredConfiguration: r.desired ? { LaunchTemplate: r.desired } : undefined,
    Strategy: 'Rolling',
    RollbackDetails: r.rollback
      ? {
          RollbackReason: r.rollback.reason,
          RollbackStartTime: new Date(r.rollback.startTime),
          PercentageCompleteOnRollback: p.rbPct,
          InstancesToUpdateOnRollback: p.rbLeft,
        }
      : undefined,
  };
}

/**
 * The lifecycle action a Complete/Heartbeat call names. AWS answers a wrong hook name, a wrong group or an
 * instance that is not waiting with the same ValidationError; a missing group gets the group error.
 */
function activeAction(f: Region, input: In) {
  groupOrThrow(f, input.AutoScalingGroupName);
  if (!input.InstanceId) throw awsError('ValidationError', 'Either an instance ID or a lifecycle action token must be provided');
  const i = f.instances.get(input.InstanceId);
  const a = f.activeLifecycleAction(i);
  if (!i || !a || a.AutoScalingGroupName !== input.AutoScalingGroupName || a.LifecycleHookName !== input.LifecycleHookName)
    throw awsError('ValidationError', `No active Lifecycle Action found with instance ID ${input.InstanceId}`);
  return { i, a };
}

function groupOrThrow(f: Region, name: string) {
  const asg = f.asgs.get(name);
  if (!asg) throw awsError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
  return asg;
}

/**
 * The instances a refresh replaces (RefreshPreferences, https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html):
 * InService and Pending ones, except
 * - scale-in protected ones: `Refresh` replaces them; `Ignore` leaves them on the old configuration; `Wait` (AWS's
 *   default) "waits one hour for you to remove scale-in protection. Otherwise, the instance refresh will fail."
 *   They are in `waitFor` (refresh-engine.ts waitForProtected);
 * - Standby ones are never replaced in place: `Terminate` terminates them when the refresh starts, `Ignore` leaves
 *   them on the old configuration; `Wait` (AWS's default) "waits one hour for you to return the instances to
 *   service. Otherwise, the instance refresh will fail." They are in `waitFor` too.
 */
function refreshCandidates(f: Region, asgName: string, prefs: RefreshPrefs): { replace: FakeInstance[]; waitFor: FakeInstance[] } {
  const group = f.instancesOf(asgName);
  if (prefs.StandbyInstances === 'Terminate') for (const i of group.filter((x) => x.LifecycleState === 'Standby')) f.beginTermination(i);
  const serving = group.filter((i) => i.LifecycleState === 'InService' || i.LifecycleState === 'Pending');
  const held = (i: FakeInstance) => i.ProtectedFromScaleIn && prefs.ScaleInProtectedInstances !== 'Refresh';
  return {
    replace: serving.filter((i) => !held(i)),
    waitFor: [
      ...(prefs.ScaleInProtectedInstances === 'Wait' ? serving.filter(held) : []),
      ...(prefs.StandbyInstances === 'Wait' ? group.filter((i) => i.LifecycleState === 'Standby') : []),
    ],
  };
}

export function asgHandlers(f: Region): Record<string, (input: In) => unknown> {
  return {
    DescribeAutoScalingGroups(input) {
      const names = (input.AutoScalingGroupNames as string[] | undefined) ?? [...f.asgs.keys()];
      const groups = names.flatMap((n) => {
        const a = f.asgs.get(n);
        if (!a) return [];
        return [
          {
            AutoScalingGroupName: a.AutoScalingGroupName,
            MinSize: a.MinSize,
            MaxSize: a.MaxSize,
            DesiredCapacity: a.DesiredCapacity,
            LaunchTemplate: a.launchTemplate
              ? {
                  ...a.launchTemplate,
                  LaunchTemplateName: f.launchTemplates.get(a.launchTemplate.LaunchTemplateId)?.LaunchTemplateName,
                }
              : undefined,
            LaunchConfigurationName: a.LaunchConfigurationName,
            HealthCheckType: a.HealthCheckType,
            HealthCheckGracePeriod: gracePeriodOf(a),
            TargetGroupARNs: a.TargetGroupARNs,
            Instances: f.instancesOf(n).map((i) => ({
              InstanceId: i.InstanceId,
              LifecycleState: i.LifecycleState,
              HealthStatus: i.LifecycleState === 'InService' && i.health === 'unhealthy' && f.nowMs >= i.healthAt ? 'Unhealthy' : 'Healthy',
              LaunchTemplate: { LaunchTemplateId: i.ltId, Version: String(i.ltVersion) },
              ProtectedFromScaleIn: i.ProtectedFromScaleIn,
              AvailabilityZone: 'us-east-1a',
            })),
            Tags: Object.entries(a.tags).map(([Key, Value]) => ({
              Key,
              Value,
              ResourceId: n,
              ResourceType: 'auto-scaling-group',
              PropagateAtLaunch: false,
            })),
          },
        ];
      });
      return { AutoScalingGroups: groups };
    },
    StartInstanceRefresh(input) {
      const asg = groupOrThrow(f, input.AutoScalingGroupName);
      const active = f.activeRefresh(asg.AutoScalingGroupName);
      if (active)
        throw awsError('InstanceRefreshInProgressFault', `An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.`);
      if (!asg.launchTemplate) throw awsError('ValidationError', 'The instance refresh needs a launch template on the group or in DesiredConfiguration');
      const prefs = prefsOf(input.Preferences);
      // AWS's limits (API reference: RefreshPreferences, AlarmSpecification), checked by StartInstanceRefresh itself.
      if (prefs.Alarms.length > 10)
        throw awsError(
          'ValidationError',
          `1 validation error detected: Value at 'preferences.alarmSpecification.alarms' failed to satisfy constraint: Member must have length less than or equal to 10`,
        );
      for (const [k, max] of [
        ['CheckpointDelay', 172800],
        ['BakeTime', 172800],
        ['InstanceWarmup', 2147483647],
      ] as const)
        if ((input.Preferences?.[k] ?? 0) > max || (input.Preferences?.[k] ?? 0) < 0)
          throw awsError(
            'ValidationError',
            `1 validation error detected: Value '${input.Preferences[k]}' at 'preferences.${k[0]!.toLowerCase()}${k.slice(1)}' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
          );
      const desired = input.DesiredConfiguration?.LaunchTemplate as { LaunchTemplateId: string; Version: string } | undefined;
      const resolved = desired
        ? f.ltVersion(desired.LaunchTemplateId, desired.Version)
        : f.ltVersion(asg.launchTemplate.LaunchTemplateId, asg.launchTemplate.Version);
      if (!resolved) throw awsError('ValidationError', `Launch template version ${desired?.Version} not found`);
      if (prefs.CheckpointPercentages.length && prefs.CheckpointPercentages.at(-1) !== 100)
        throw awsError('ValidationError', 'The last checkpoint percentage must be 100');
      const target = {
        LaunchTemplateId: resolved.lt.LaunchTemplateId,
        version: resolved.v.VersionNumber,
        ImageId: resolved.v.data.ImageId,
      };
      const live = refreshCandidates(f, asg.AutoScalingGroupName, prefs);
      const differs = (i: FakeInstance) => !prefs.SkipMatching || i.ltId !== target.LaunchTemplateId || i.ltVersion !== target.version;
      const toReplace = live.replace.filter(differs);
      const r: FakeRefresh = {
        InstanceRefreshId: crypto.randomUUID(),
        asg: asg.AutoScalingGroupName,
        Status: 'Pending',
        StartTime: f.nowMs,
        prefs,
        ...(desired ? { desired: { LaunchTemplateId: desired.LaunchTemplateId, Version: String(desired.Version) } } : {}),
        target,
        total: toReplace.length,
        toReplace: new Set(toReplace.map((i) => i.InstanceId)),
        checkpointIndex: 0,
        pendingUntil: f.nowMs + f.opts.pendingSeconds * 1000,
        waitFor: new Set(live.waitFor.filter(differs).map((i) => i.InstanceId)),
      };
      f.refreshes.push(r);
      stepRefresh(f, r, f.nowMs);
      return { InstanceRefreshId: r.InstanceRefreshId };
    },
    DescribeInstanceRefreshes(input) {
      groupOrThrow(f, input.AutoScalingGroupName);
      const ids = input.InstanceRefreshIds as string[] | undefined;
      const list = f.refreshes
        .filter((r) => r.asg === input.AutoScalingGroupName && (!ids?.length || ids.includes(r.InstanceRefreshId)))
        .sort((a, b) => b.StartTime - a.StartTime)
        .slice(0, input.MaxRecords ?? 50);
      return { InstanceRefreshes: list.map((r) => refreshView(f, r)) };
    },
    RollbackInstanceRefresh(input) {
      const asg = groupOrThrow(f, input.AutoScalingGroupName);
      const r = f.refreshes.find((x) => x.asg === asg.AutoScalingGroupName && ['Pending', 'InProgress', 'Baking'].includes(x.Status));
      if (!r) throw awsError('ActiveInstanceRefreshNotFoundFault', 'No in-progress or pending Instance Refresh found for this Auto Scaling group.');
      if (!r.desired || asg.launchTemplate!.Version.startsWith('$'))
        throw awsError(
          'IrreversibleInstanceRefreshFault',
          'The instance refresh cannot be rolled back: the desired configuration was not specified or the group uses $Latest/$Default.',
        );
      startRollback(f, r, 'Rollback requested by user', f.nowMs);
      return { InstanceRefreshId: r.InstanceRefreshId };
    },
    CancelInstanceRefresh(input) {
      // "If there is a rollback in progress, it cancels the rollback" (API reference, CancelInstanceRefresh).
      const r = f.refreshes.find((x) => x.asg === input.AutoScalingGroupName && ['Pending', 'InProgress', 'Baking', 'RollbackInProgress'].includes(x.Status));
      if (!r) throw awsError('ActiveInstanceRefreshNotFoundFault', 'No in-progress or pending Instance Refresh found for this Auto Scaling group.');
      r.Status = 'Cancelling';
      return { InstanceRefreshId: r.InstanceRefreshId };
    },
    DescribeLifecycleHooks(input) {
      const asg = groupOrThrow(f, input.AutoScalingGroupName);
      return {
        LifecycleHooks: asg.hooks.map((h) => ({
          ...h,
          AutoScalingGroupName: asg.AutoScalingGroupName,
          GlobalTimeout: globalTimeoutSeconds(h.HeartbeatTimeout),
        })),
      };
    },
    PutLifecycleHook(input) {
      const asg = groupOrThrow(f, input.AutoScalingGroupName);
      const hook = {
        LifecycleHookName: input.LifecycleHookName,
        LifecycleTransition: input.LifecycleTransition,
        HeartbeatTimeout: input.HeartbeatTimeout ?? 3600,
        DefaultResult: input.DefaultResult ?? 'ABANDON',
      };
      asg.hooks = [...asg.hooks.filter((h) => h.LifecycleHookName !== hook.LifecycleHookName), hook];
      return {};
    },
    DescribeAutoScalingInstances(input) {
      const ids = input.InstanceIds as string[] | undefined;
      if (ids && ids.length > 50) throw awsError('ValidationError', 'The number of instance ids that may be passed in is limited to 50');
      const all = [...f.instances.values()].filter((i) => i.LifecycleState !== 'Terminated');
      const found = ids ? all.filter((i) => ids.includes(i.InstanceId)) : all;
      return {
        AutoScalingInstances: found.map((i) => {
          const lt = f.launchTemplates.get(i.ltId);
          return {
            InstanceId: i.InstanceId,
            InstanceType: lt?.versions.find((v) => v.VersionNumber === i.ltVersion)?.data.InstanceType ?? 't3.small',
            AutoScalingGroupName: i.asg,
            AvailabilityZone: 'us-east-1a',
            LifecycleState: i.LifecycleState,
            // This API spells health in capitals, unlike DescribeAutoScalingGroups.
            HealthStatus: i.LifecycleState === 'InService' && i.health === 'unhealthy' && f.nowMs >= i.healthAt ? 'UNHEALTHY' : 'HEALTHY',
            LaunchTemplate: {
              LaunchTemplateId: i.ltId,
              LaunchTemplateName: lt?.LaunchTemplateName,
              Version: String(i.ltVersion),
            },
            ProtectedFromScaleIn: i.ProtectedFromScaleIn,
          };
        }),
      };
    },
    CompleteLifecycleAction(input) {
      const { i } = activeAction(f, input);
      if (input.LifecycleActionResult !== 'CONTINUE' && input.LifecycleActionResult !== 'ABANDON')
        throw awsError(
          'ValidationError',
          `1 validation error detected: Value '${input.LifecycleActionResult}' at 'lifecycleActionResult' failed to satisfy constraint: Member must be CONTINUE or ABANDON`,
        );
      f.endLifecycleAction(i, input.LifecycleActionResult, 'complete');
      return {};
    },
    RecordLifecycleActionHeartbeat(input) {
      const { i, a } = activeAction(f, input);
      const hook = f.asgs.get(i.asg)!.hooks.find((h) => h.LifecycleHookName === a.LifecycleHookName)!;
      a.timeoutAt = f.nowMs + hook.HeartbeatTimeout * 1000;
      a.heartbeats.push(f.nowMs);
      return {};
    },
    CreateOrUpdateTags(input) {
      for (const t of input.Tags as { ResourceId: string; Key: string; Value?: string }[]) groupOrThrow(f, t.ResourceId).tags[t.Key] = t.Value ?? '';
      return {};
    },
    DeleteTags(input) {
      for (const t of input.Tags as { ResourceId: string; Key: string }[]) Reflect.deleteProperty(groupOrThrow(f, t.ResourceId).tags, t.Key);
      return {};
    },
    // ---- TerminateInstanceInAutoScalingGroup (for `sipbake drain INSTANCE-ID`) ----
    // AWS API reference, TerminateInstanceInAutoScalingGroup
    // (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TerminateInstanceInAutoScalingGroup.html), and
    // "Control which instances terminate" / "How lifecycle hooks work": the instance takes the ordinary termination
    // path (deregistration from its target groups, then the termination hook's Terminating:Wait: beginTermination).
    // ShouldDecrementDesiredCapacity (required) false: "Amazon EC2 Auto Scaling launches instances to replace the ones
    // that are terminated"; true: the desired capacity drops by one, refused below the group's minimum size.
    TerminateInstanceInAutoScalingGroup(input) {
      if (typeof input.ShouldDecrementDesiredCapacity !== 'boolean')
        throw awsError(
          'ValidationError',
          "1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null",
        );
      const i = f.instances.get(input.InstanceId);
      if (!i || i.LifecycleState === 'Terminated')
        throw awsError('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${input.InstanceId}`);
      const asg = groupOrThrow(f, i.asg);
      if (input.ShouldDecrementDesiredCapacity) {
        if (asg.DesiredCapacity - 1 < asg.MinSize)
          throw awsError(
            'ValidationError',
            `Currently, desiredCapacity is ${asg.DesiredCapacity} and minSize is ${asg.MinSize}. Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
          );
        asg.DesiredCapacity -= 1;
      }
      const already = i.LifecycleState.startsWith('Terminating');
      if (!already) {
        f.beginTermination(i);
        if (!input.ShouldDecrementDesiredCapacity) f.launchInstance(asg.AutoScalingGroupName, f.resolveGroupTarget(asg));
      }
      return {
        Activity: {
          ActivityId: crypto.randomUUID(),
          AutoScalingGroupName: asg.AutoScalingGroupName,
          Description: `Terminating EC2 instance: ${i.InstanceId}`,
          Cause: `At ${new Date(f.nowMs).toISOString()} instance ${i.InstanceId} was taken out of service in response to a user request${input.ShouldDecrementDesiredCapacity ? ', shrinking the capacity' : ''}.`,
          StartTime: new Date(f.nowMs),
          StatusCode: 'InProgress',
          Progress: 0,
        },
      };
    },
    // ---- end TerminateInstanceInAutoScalingGroup ----
    UpdateAutoScalingGroup(input) {
      const asg = groupOrThrow(f, input.AutoScalingGroupName);
      if (input.LaunchTemplate) asg.launchTemplate = input.LaunchTemplate;
      if (input.DesiredCapacity !== undefined) asg.DesiredCapacity = input.DesiredCapacity;
      return {};
    },
  };
}
