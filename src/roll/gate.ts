// The health gate (pure): named predicates over one poll's snapshot, each giving the reason it fails.
import type { RefreshInfo } from './types.js';

export interface InstanceHealth {
  id: string;
  lifecycleState: string;
  /** Target group name → state (initial, healthy, unhealthy, draining, unused …). */
  targets: Record<string, string>;
  launchedAtMs: number;
}

export interface Snapshot {
  atMs: number;
  refresh: RefreshInfo;
  /** Instances on the refresh's desired launch template version. */
  newInstances: InstanceHealth[];
  alarms: { name: string; state: string }[];
}

export interface GateVerdict {
  ok: boolean;
  reasons: string[];
}

/** Every new instance is healthy in every target group, or still inside its deadline. */
export function newInstancesHealthyInTime(s: Snapshot, deadlineSeconds: number): string[] {
  return s.newInstances.flatMap((i) => {
    const bad = Object.entries(i.targets).filter(([, state]) => state !== 'healthy');
    const waited = (s.atMs - i.launchedAtMs) / 1000;
    if (bad.length === 0 || waited < deadlineSeconds) return [];
    return [`instance ${i.id} is not healthy after ${Math.round(waited)} s (deadline ${deadlineSeconds} s): ${bad.map(([tg, st]) => `${tg} ${st}`).join(', ')}`];
  });
}

/** No alarm of the definition is in ALARM. */
export function noAlarmFiring(s: Snapshot): string[] {
  return s.alarms.filter((a) => a.state === 'ALARM').map((a) => `alarm ${a.name} is in ALARM`);
}

export function gate(s: Snapshot, deadlineSeconds: number): GateVerdict {
  const reasons = [...newInstancesHealthyInTime(s, deadlineSeconds), ...noAlarmFiring(s)];
  return { ok: reasons.length === 0, reasons };
}

/** One progress line: status, percentage, instances to update, each new instance's health, checkpoint, bake. */
export function progressLine(s: Snapshot): string {
  const r = s.refresh;
  const parts = [`${r.status} ${r.percentageComplete}%`, `${r.instancesToUpdate} to update`];
  if (r.rollback) parts.push(`rollback ${r.rollback.percentageComplete ?? 0}% (${r.rollback.instancesToUpdate ?? 0} to update)`);
  if (s.newInstances.length)
    parts.push(s.newInstances.map((i) => `${i.id} ${Object.values(i.targets).join('/') || i.lifecycleState}`).join(', '));
  if (r.checkpoints.length) parts.push(`checkpoints ${r.checkpoints.join('/')}%`);
  if (r.status === 'Baking') parts.push(`baking ${r.bakeTime ?? 0} s`);
  if (r.statusReason) parts.push(r.statusReason);
  const firing = noAlarmFiring(s);
  if (firing.length) parts.push(firing.join(', '));
  return parts.join(' · ');
}
