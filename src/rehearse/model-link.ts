// What ties the region model to the rig, besides the events reflect.ts carries: the model's clock following this
// machine's at --scale (and the roll engine's Clock on it), the model's target health following the NLB's real
// checks, and the instances' Auto Scaling and EC2 calls answered by the model.
import type { Clock } from '../aws/clock.js';
import { realClock } from '../aws/clock.js';
import type { FakeInstance } from '../region/model.js';
import { asgHandlers } from '../region/handlers-asg.js';
import type { Region } from '../region/region.js';
import type { AutoScalingBackend, Ec2Instance } from './endpoints.js';
import type { Fleet } from './fleet.js';
import { instanceIp } from './net-plan.js';

export interface ClockLink {
  /** Moves the model to now × scale (its timers, refreshes and lifecycle timeouts run on the way). */
  sync(): void;
  /** For the roll engine: model time, and sleeps 1/scale as long in real time, so its polls are scaled too. */
  clock: Clock;
}

export function linkClock(region: Region, scale: number): ClockLink {
  const real0 = Date.now();
  const model0 = region.nowMs;
  const sync = () => {
    const target = model0 + (Date.now() - real0) * scale;
    if (target > region.nowMs) region.advance(target - region.nowMs);
  };
  return {
    sync,
    clock: {
      now: () => {
        sync();
        return region.nowMs;
      },
      sleep: (ms, signal) => realClock.sleep(ms / scale, signal),
    },
  };
}

/**
 * The model reports a target as its fields say (src/region/handlers-elb-cw.ts targetState, refresh-engine.ts
 * elbUnhealthy/isHealthy): initial before healthAt, unhealthy from unhealthyFrom until healthAt, then `health`.
 * The rehearsal sets them from the NLB's real checks. An unhealthy target is written as the model's slow boot is
 * (unhealthyFrom, healthAt not yet): the model's `health: 'unhealthy'` would also make Auto Scaling's HealthStatus
 * Unhealthy at once, inside the group's grace period, where AWS waits for the grace period to end
 * (HealthCheckGracePeriod, API_CreateAutoScalingGroup).
 */
export function setModelTargetHealth(i: FakeInstance, state: 'initial' | 'healthy' | 'unhealthy', nowMs: number): void {
  i.health = 'healthy';
  if (state === 'unhealthy') i.unhealthyFrom = nowMs;
  else delete i.unhealthyFrom;
  i.healthAt = state === 'healthy' ? nowMs : Number.POSITIVE_INFINITY;
}

/** The Auto Scaling calls the drain agents make, answered by the model (its lifecycle actions, its group). */
export function asgBackend(f: Fleet, hookTimeoutSeconds: number): AutoScalingBackend {
  const { region, asg } = f.model;
  const group = asg.AutoScalingGroupName;
  const hookName = asg.hooks[0]?.LifecycleHookName ?? 'sipbake-drain';
  const call = (name: 'RecordLifecycleActionHeartbeat' | 'CompleteLifecycleAction', id: string, extra: Record<string, string> = {}) => {
    f.link.sync();
    try {
      asgHandlers(region)[name]?.({ AutoScalingGroupName: group, LifecycleHookName: hookName, InstanceId: id, ...extra });
      return true;
    } catch {
      return false;
    }
  };
  return {
    groupName: group,
    hookName,
    hookTimeoutSeconds,
    stateOf: (id) => {
      const i = region.instances.get(id);
      return i?.asg === group && i.LifecycleState !== 'Terminated' ? i.LifecycleState : undefined;
    },
    members: () =>
      region.instancesOf(group).map((i) => ({
        id: i.InstanceId,
        lifecycleState: i.LifecycleState,
        healthy: f.targetHealth.get(i.InstanceId)?.state !== 'unhealthy',
      })),
    heartbeat: (id) => call('RecordLifecycleActionHeartbeat', id),
    complete: (id, result) => call('CompleteLifecycleAction', id, { LifecycleActionResult: result }),
  };
}

/** EC2 DescribeInstances for the agents' peer discovery: the model's instances at their rig addresses. */
export function ec2View(f: Fleet): Ec2Instance[] {
  return f.cs.instances.map((v) => {
    const m = f.model.region.instances.get(v.id);
    return {
      id: v.id,
      imageId: m?.ImageId ?? '',
      privateIp: instanceIp(v.k),
      state: m === undefined || m.LifecycleState === 'Terminated' ? ('terminated' as const) : ('running' as const),
    };
  });
}
