// `sipbake status`'s per-instance table (load + pure shaping): AMI, lifecycle state, Auto Scaling health, each
// target group's view, and whether the instance is draining (leaving the group, or draining in a target group).
import type { AwsClients } from '../aws/clients.js';
import { describeFleet } from './fleet.js';
import { describeGroup } from './observe.js';
import type { FleetInstance } from './types.js';

export interface InstanceRow {
  id: string;
  ami: string;
  lifecycle: string;
  health: string;
  targets: Record<string, string>;
  draining: boolean;
}

const nameOf = (arn: string): string => /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;

/** Draining: Auto Scaling is terminating it (the hook's wait is the drain), or a target group drains it. */
function isDraining(i: Pick<FleetInstance, 'lifecycleState' | 'targets'>): boolean {
  return i.lifecycleState.startsWith('Terminating') || Object.values(i.targets).includes('draining');
}

export async function instanceRows(c: AwsClients, asgName: string): Promise<InstanceRow[]> {
  const group = await describeGroup(c, asgName);
  if (!group) return [];
  const tgs = group.targetGroupArns.map((arn) => ({ arn, name: nameOf(arn), intervalSeconds: 0, healthyThreshold: 0, deregistrationDelay: 0 }));
  const fleet = await describeFleet(c, group, tgs);
  return fleet.map((i) => ({
    id: i.id,
    ami: i.ami ?? 'unknown',
    lifecycle: i.lifecycleState,
    health: i.asgHealth ?? '-',
    targets: i.targets,
    draining: isDraining(i),
  }));
}

export function formatInstanceRows(rows: InstanceRow[], liveAmi: string | undefined): string[] {
  return rows.map((r) => {
    const targets =
      Object.entries(r.targets)
        .map(([tg, s]) => `${tg}=${s}`)
        .join(',') || 'no target';
    const notLive = liveAmi && r.ami !== liveAmi ? ' (not the live AMI)' : '';
    return `  ${r.id} ${r.ami}${notLive} ${r.lifecycle} ${r.health} ${targets}${r.draining ? ' DRAINING' : ''}`;
  });
}
