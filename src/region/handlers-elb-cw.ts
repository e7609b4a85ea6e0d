// ELBv2 (target groups, target health, deregistration delay) and CloudWatch (alarms) commands of the fake.
import type { Region } from './region.js';
import { awsError } from './faults.js';
import type { FakeInstance, FakeTargetGroup } from './model.js';

type In = Record<string, any>;

/** initial → healthy | unhealthy after the thresholds; draining while it leaves. */
function targetState(f: Region, i: FakeInstance): { State: string; Reason?: string } | undefined {
  // Not registered: not yet in service, gone, or in Standby (EnterStandby deregisters its targets).
  if (i.LifecycleState === 'Terminated' || i.LifecycleState === 'Pending' || i.LifecycleState === 'Standby') return undefined;
  // Draining for the deregistration delay; after it the target is no longer registered.
  if (i.LifecycleState === 'Terminating' && f.nowMs < (i.deregisteredAt ?? 0)) return { State: 'draining', Reason: 'Target.DeregistrationInProgress' };
  if (i.LifecycleState.startsWith('Terminating')) return undefined;
  if (f.nowMs < i.healthAt)
    return i.unhealthyFrom !== undefined && f.nowMs >= i.unhealthyFrom
      ? { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' }
      : { State: 'initial', Reason: 'Elb.InitialHealthChecking' };
  return i.health === 'healthy' ? { State: 'healthy' } : { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' };
}

/**
 * The port a target is registered on. Auto Scaling registers an instance on the target group's port ("Use Elastic
 * Load Balancing to distribute incoming application traffic in your Auto Scaling group", Auto Scaling user guide);
 * RegisterTargets may give a target its own Port (API_RegisterTargets, API_TargetDescription), which
 * DescribeTargetHealth then answers (a rehearsal's images on different SIP ports).
 */
function targetPortOf(tg: FakeTargetGroup, i: FakeInstance | undefined): number {
  return i?.targetPort ?? tg.Port;
}

function tgOrThrow(f: Region, arn: string) {
  const tg = f.targetGroups.get(arn);
  if (!tg) throw awsError('TargetGroupNotFoundException', `Target groups '${arn}' not found`);
  return tg;
}

export function elbHandlers(f: Region): Record<string, (input: In) => unknown> {
  return {
    DescribeTargetGroups(input) {
      const arns = (input.TargetGroupArns as string[] | undefined) ?? [...f.targetGroups.keys()];
      return {
        TargetGroups: arns.map((a) => {
          const tg = tgOrThrow(f, a);
          return {
            TargetGroupArn: tg.TargetGroupArn,
            TargetGroupName: tg.TargetGroupName,
            Protocol: 'TCP_UDP',
            Port: tg.Port,
            HealthCheckProtocol: 'TCP',
            HealthCheckIntervalSeconds: tg.HealthCheckIntervalSeconds,
            HealthyThresholdCount: tg.HealthyThresholdCount,
            UnhealthyThresholdCount: tg.UnhealthyThresholdCount,
            TargetType: 'instance',
          };
        }),
      };
    },
    DescribeTargetGroupAttributes(input) {
      const tg = tgOrThrow(f, input.TargetGroupArn);
      return { Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(tg.deregistrationDelay) }] };
    },
    ModifyTargetGroupAttributes(input) {
      const tg = tgOrThrow(f, input.TargetGroupArn);
      for (const a of input.Attributes as { Key: string; Value: string }[])
        if (a.Key === 'deregistration_delay.timeout_seconds') tg.deregistrationDelay = Number(a.Value);
      return { Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(tg.deregistrationDelay) }] };
    },
    DescribeTargetHealth(input) {
      const tg = tgOrThrow(f, input.TargetGroupArn);
      const wanted = (input.Targets as { Id: string }[] | undefined)?.map((t) => t.Id);
      // Eventual consistency: an instance id EC2 does not know yet is not a valid target.
      const lag = f.opts.consistencyLagSeconds * 1000;
      const unknown = (wanted ?? []).filter((id) => {
        const i = f.instances.get(id);
        return i !== undefined && f.nowMs < (i.knownAt ?? i.launchedAt + lag);
      });
      if (unknown.length) throw awsError('InvalidTargetException', `The following targets are not valid instances: ${unknown.join(', ')}`);
      const members = [...f.instances.values()].filter((i) => f.asgs.get(i.asg)?.TargetGroupARNs.includes(tg.TargetGroupArn));
      const out = (wanted ?? members.map((i) => i.InstanceId)).flatMap((id) => {
        const i = f.instances.get(id);
        const s = i && members.includes(i) ? targetState(f, i) : undefined;
        const Target = { Id: id, Port: targetPortOf(tg, i) };
        if (!s) return wanted ? [{ Target, TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered' } }] : [];
        return [{ Target, TargetHealth: s }];
      });
      return { TargetHealthDescriptions: out };
    },
  };
}

export function cloudwatchHandlers(f: Region): Record<string, (input: In) => unknown> {
  return {
    DescribeAlarms(input) {
      // "If you omit this parameter [AlarmTypes], only metric alarms are returned" (CloudWatch API reference).
      const types = (input.AlarmTypes as string[] | undefined) ?? ['MetricAlarm'];
      if (input.AlarmNames && (input.AlarmNames as string[]).length > 100) throw awsError('InvalidParameterValue', 'AlarmNames may hold at most 100 names');
      const names = (input.AlarmNames as string[] | undefined) ?? [...f.alarms.keys()];
      const found = names.flatMap((n) => {
        const a = f.alarms.get(n);
        return a ? [a] : [];
      });
      const view = (a: (typeof found)[number]) => ({
        AlarmName: a.AlarmName,
        StateValue: a.StateValue,
        StateReason: `fake alarm is ${a.StateValue}`,
      });
      return {
        MetricAlarms: types.includes('MetricAlarm') ? found.filter((a) => a.type !== 'composite').map(view) : [],
        CompositeAlarms: types.includes('CompositeAlarm') ? found.filter((a) => a.type === 'composite').map(view) : [],
      };
    },
  };
}
