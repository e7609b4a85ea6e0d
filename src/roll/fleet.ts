// The instances' truth (effects): which AMI each instance of the group runs, since when, and how its targets are.
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, type TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients.js';
import { awsErrorKind, isAwsError } from '../aws/errors.js';
import type { FleetInstance, GroupInfo, TargetGroupInfo } from './types.js';

const NOT_FOUND = /^InvalidInstanceID\.NotFound$/;

/**
 * ImageId and LaunchTime of each id. EC2 is eventually consistent: an instance Auto Scaling just launched may be
 * unknown to DescribeInstances for a while (InvalidInstanceID.NotFound). Those ids are left out (their AMI is
 * unknown for this poll) instead of failing the roll; when the error names no id, the whole lookup is skipped.
 */
async function describeAmis(c: Pick<AwsClients, 'ec2'>, ids: string[]): Promise<Map<string, { ami?: string; launchedAtMs?: number }>> {
  const out = new Map<string, { ami?: string; launchedAtMs?: number }>();
  let ask = [...ids];
  for (let attempt = 0; ask.length > 0 && attempt < 3; attempt++) {
    try {
      const r = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: ask }));
      for (const i of (r.Reservations ?? []).flatMap((x) => x.Instances ?? []))
        if (i.InstanceId)
          out.set(i.InstanceId, {
            ...(i.ImageId ? { ami: i.ImageId } : {}),
            ...(i.LaunchTime ? { launchedAtMs: i.LaunchTime.getTime() } : {}),
          });
      return out;
    } catch (e) {
      if (!isAwsError(e, NOT_FOUND)) throw e;
      const named = new Set(((e as Error).message.match(/i-[0-9a-f]+/g) ?? []).filter((id) => ask.includes(id)));
      if (named.size === 0) return out;
      ask = ask.filter((id) => !named.has(id));
    }
  }
  return out;
}

export async function describeFleet(c: Pick<AwsClients, 'ec2' | 'elbv2'>, group: GroupInfo, targetGroups: TargetGroupInfo[]): Promise<FleetInstance[]> {
  const live = group.instances.filter((i) => i.lifecycleState !== 'Terminated');
  if (live.length === 0) return [];
  const amis = await describeAmis(
    c,
    live.map((i) => i.id),
  );
  const fleet: FleetInstance[] = live.map((i) => ({
    id: i.id,
    lifecycleState: i.lifecycleState,
    ...(i.ltVersion ? { ltVersion: i.ltVersion } : {}),
    ...amis.get(i.id),
    ...(i.health ? { asgHealth: i.health } : {}),
    targets: {},
  }));
  for (const tg of targetGroups) {
    for (const d of await targetHealth(c, tg.arn, fleet)) {
      const i = fleet.find((f) => f.id === d.Target?.Id);
      if (i) i.targets[tg.name] = d.TargetHealth?.State ?? 'unknown';
    }
    // Not in the listing (ELB does not know it yet): unknown, neither healthy nor unhealthy for the gate.
    for (const i of fleet) i.targets[tg.name] ??= 'unknown';
  }
  return fleet.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Target health of the group's instances. ELB answers InvalidTarget for the whole call when it names an instance it
 * does not know yet (just launched: eventual consistency); the group's registered targets are then listed instead
 * (DescribeTargetHealth without Targets, ELBv2 API reference), leaving the unknown instance out.
 */
async function targetHealth(c: Pick<AwsClients, 'elbv2'>, arn: string, fleet: FleetInstance[]): Promise<TargetHealthDescription[]> {
  try {
    const out = await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: fleet.map((i) => ({ Id: i.id })) }));
    return out.TargetHealthDescriptions ?? [];
  } catch (e) {
    if (awsErrorKind(e) !== 'consistency') throw e;
    return (await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? [];
  }
}

/** Instances that serve (not leaving, not pending). */
export function inService(fleet: FleetInstance[]): FleetInstance[] {
  return fleet.filter((i) => i.lifecycleState === 'InService');
}
