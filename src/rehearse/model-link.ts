// What ties the region model to the rig, besides the events reflect.ts carries: the model's clock following this
// machine's at --scale (and the roll engine's Clock on it), and the model's target health following the NLB's real
// checks. (The instances' Auto Scaling and EC2 calls reach the model through its own wire server: fleet.ts.)
import type { Clock } from '../aws/clock.js';
import { realClock } from '../aws/clock.js';
import type { FakeInstance } from '../region/model.js';
import type { Region } from '../region/region.js';

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

/**
 * The agents' view of the model's answers: they run on this machine's clock while the model runs × scale, so the
 * durations they plan by are divided by scale. DescribeLifecycleHooks' HeartbeatTimeout and GlobalTimeout (seconds,
 * API_LifecycleHook) are the only ones the drain agent reads (its heartbeat cadence and its wait for the action).
 */
export function agentView(scale: number): (service: string, action: string, out: unknown) => unknown {
  const scaled = (s: number | undefined) => (s === undefined ? undefined : Math.max(1, Math.round(s / scale)));
  return (service, action, out) => {
    if (service !== 'autoscaling' || action !== 'DescribeLifecycleHooks') return out;
    const o = out as { LifecycleHooks?: Array<{ HeartbeatTimeout?: number; GlobalTimeout?: number }> };
    return {
      ...o,
      LifecycleHooks: (o.LifecycleHooks ?? []).map((h) => ({ ...h, HeartbeatTimeout: scaled(h.HeartbeatTimeout), GlobalTimeout: scaled(h.GlobalTimeout) })),
    };
  };
}
