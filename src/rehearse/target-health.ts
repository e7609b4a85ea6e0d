// Pure: the emulated NLB's health checks of its registered targets, with the target group's thresholds.
// A target turns unhealthy after UnhealthyThresholdCount consecutive failed checks and healthy again after
// HealthyThresholdCount consecutive passes, one check per HealthCheckIntervalSeconds. The NLB routes no new flow to an
// unhealthy target (its existing flows are left to their own fate).
// Defaults for a TCP/UDP target group (CreateTargetGroup, Elastic Load Balancing API reference:
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html, and "Health
// checks for Network Load Balancer target groups":
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html):
// HealthyThresholdCount 5, UnhealthyThresholdCount 2, HealthCheckIntervalSeconds 30.

const NLB_HEALTH_CHECK = { HealthCheckIntervalSeconds: 30, HealthyThresholdCount: 5, UnhealthyThresholdCount: 2 } as const;

export interface HealthCheckParams {
  /** Between two checks of one target (scaled). */
  intervalMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

type TargetGroupHealthCheck = Record<keyof typeof NLB_HEALTH_CHECK, number>;

/** The target group's check (the TCP defaults unless given), its interval scaled. */
export function scaledHealthCheck(scale: number, tg: TargetGroupHealthCheck = NLB_HEALTH_CHECK): HealthCheckParams {
  return {
    intervalMs: (tg.HealthCheckIntervalSeconds * 1000) / scale,
    healthyThreshold: tg.HealthyThresholdCount,
    unhealthyThreshold: tg.UnhealthyThresholdCount,
  };
}

export interface TargetHealth {
  /** initial: just registered, not yet through either threshold (Elb.InitialHealthChecking). */
  state: 'initial' | 'healthy' | 'unhealthy';
  /** Consecutive checks that disagree with state (initial: that agree with lastOk). */
  streak: number;
  lastOk?: boolean;
  lastCheckAt?: number;
}

/** A target just registered: initial until HealthyThresholdCount passes or UnhealthyThresholdCount failures in a row. */
export const initialTarget = (): TargetHealth => ({ state: 'initial', streak: 0 });

/** A target that passed its checks (the old fleet, before the roll). */
export const registeredHealthy = (): TargetHealth => ({ state: 'healthy', streak: 0 });

export function checkDue(h: TargetHealth, now: number, p: HealthCheckParams): boolean {
  return h.lastCheckAt === undefined || now - h.lastCheckAt >= p.intervalMs;
}

/** One check's result: the next health, and the state it turned to, if it turned. */
export function observeCheck(h: TargetHealth, ok: boolean, now: number, p: HealthCheckParams): { next: TargetHealth; turned?: 'healthy' | 'unhealthy' } {
  if (h.state === 'initial') {
    const streak = h.lastOk === ok ? h.streak + 1 : 1;
    const state = ok ? 'healthy' : 'unhealthy';
    if (streak >= (ok ? p.healthyThreshold : p.unhealthyThreshold)) return { next: { state, streak: 0, lastCheckAt: now }, turned: state };
    return { next: { ...h, streak, lastOk: ok, lastCheckAt: now } };
  }
  const agrees = ok === (h.state === 'healthy');
  if (agrees) return { next: { ...h, streak: 0, lastCheckAt: now } };
  const streak = h.streak + 1;
  const threshold = h.state === 'healthy' ? p.unhealthyThreshold : p.healthyThreshold;
  if (streak < threshold) return { next: { ...h, streak, lastCheckAt: now } };
  const state = h.state === 'healthy' ? 'unhealthy' : 'healthy';
  return { next: { state, streak: 0, lastCheckAt: now }, turned: state };
}
