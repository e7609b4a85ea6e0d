// The health gate (pure): which new-AMI instances count against the AMI, and the reasons the gate fails.
// It counts over the whole refresh, so Auto Scaling replacing unhealthy instances cannot reset it.
import type { FleetInstance } from './types.js';

export interface GateParams {
  targetAmi: string;
  /** The launch template version of the refresh (identifies new instances while EC2 does not know their AMI yet). */
  toVersion: number;
  /** Fail once this many new-AMI instances went unhealthy or were replaced. */
  maxReplaced: number;
  /** The new AMI must have a healthy instance this long after its first launch, and every instance this long after its own. */
  deadlineMs: number;
  /**
   * The group's HealthCheckGracePeriod: Auto Scaling does not act on a new instance's failed health checks before it
   * ("Set the health check grace period", Amazon EC2 Auto Scaling user guide). Neither does the gate: a target that
   * reads `unhealthy` while its instance still boots counts only once the grace period since its launch is over.
   */
  graceMs: number;
}

interface GateState {
  firstNewLaunchMs?: number;
  proven: boolean;
  bad: Record<string, string>;
  seenNew: string[];
}

export function isNew(i: FleetInstance, p: Pick<GateParams, 'targetAmi' | 'toVersion'>): boolean {
  return i.ami !== undefined ? i.ami === p.targetAmi : i.ltVersion === String(p.toVersion);
}

export function isHealthyEverywhere(i: FleetInstance): boolean {
  const states = Object.values(i.targets);
  return i.lifecycleState === 'InService' && states.length > 0 && states.every((s) => s === 'healthy');
}

/**
 * InService and Standby instances not on the new AMI once AWS called the refresh Successful: a scale-out from the
 * old configuration, or a protected or standby instance the refresh ignored (ScaleInProtectedInstances/
 * StandbyInstances Ignore, API_RefreshPreferences). A Standby instance counts: ExitStandby puts it back in service
 * as it is ("Temporarily remove instances from your Auto Scaling group"), on the old AMI. Instances whose AMI EC2
 * does not report yet count by their launch template version.
 */
export function offTarget(instances: FleetInstance[], p: Pick<GateParams, 'targetAmi' | 'toVersion'>): FleetInstance[] {
  return instances.filter((i) => (i.lifecycleState === 'InService' || i.lifecycleState === 'Standby') && !isNew(i, p));
}

/** New-AMI instances newly seen unhealthy, leaving, or gone while the refresh goes forward. */
export function badNewInstances(s: GateState, o: { atMs: number; instances: FleetInstance[] }, p: GateParams, status: string): Record<string, string> {
  if (status !== 'InProgress' && status !== 'Baking' && status !== 'Pending') return {};
  const out: Record<string, string> = {};
  for (const i of o.instances.filter((x) => isNew(x, p) && !s.bad[x.id])) {
    const sick = Object.entries(i.targets).filter(([, st]) => st === 'unhealthy');
    const graced = o.atMs - (i.launchedAtMs ?? o.atMs) < p.graceMs;
    if (sick.length && !graced)
      out[i.id] = `unhealthy in ${sick.map(([tg]) => tg).join(', ')}${p.graceMs ? ` after the ${Math.round(p.graceMs / 1000)} s grace period` : ''}`;
    else if (i.asgHealth === 'Unhealthy') out[i.id] = 'marked Unhealthy by Auto Scaling';
    else if (i.lifecycleState.startsWith('Terminat')) out[i.id] = 'replaced by Auto Scaling';
  }
  const present = new Set(o.instances.map((i) => i.id));
  for (const id of s.seenNew) if (!present.has(id) && !s.bad[id]) out[id] = 'replaced by Auto Scaling (gone)';
  return out;
}

export function gateReasons(s: GateState, o: { atMs: number; instances: FleetInstance[]; alarms: { name: string; state: string }[] }, p: GateParams): string[] {
  const reasons: string[] = [];
  const bad = Object.entries(s.bad);
  if (bad.length >= p.maxReplaced)
    reasons.push(
      `${bad.length} instance(s) of ${p.targetAmi} went unhealthy or were replaced (limit ${p.maxReplaced}): ${bad.map(([id, why]) => `${id} ${why}`).join(', ')}`,
    );
  const secs = Math.round(p.deadlineMs / 1000);
  if (s.firstNewLaunchMs !== undefined && !s.proven && o.atMs - s.firstNewLaunchMs >= p.deadlineMs)
    reasons.push(`no instance of ${p.targetAmi} became healthy within ${secs} s of its first launch (deadline ${secs} s)`);
  else
    for (const i of o.instances.filter((x) => isNew(x, p) && x.lifecycleState === 'InService' && !isHealthyEverywhere(x))) {
      const waited = o.atMs - (i.launchedAtMs ?? o.atMs);
      if (waited >= p.deadlineMs)
        reasons.push(
          `instance ${i.id} is not healthy after ${Math.round(waited / 1000)} s (deadline ${secs} s): ${Object.entries(i.targets)
            .map(([tg, st]) => `${tg} ${st}`)
            .join(', ')}`,
        );
    }
  for (const a of o.alarms) if (a.state === 'ALARM') reasons.push(`alarm ${a.name} is in ALARM`);
  return reasons;
}
