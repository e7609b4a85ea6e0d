// Polling an instance refresh (effects). There is no SDK waiter for refreshes, so this polls on a Clock.
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients.js';
import type { Clock } from '../aws/clock.js';
import { isThrottle } from '../aws/errors.js';
import { gate, progressLine, type InstanceHealth, type Snapshot } from './gate.js';
import { describeGroup, describeRefreshes } from './observe.js';
import type { TargetGroupInfo } from './types.js';

export interface WatchDeps {
  clients: AwsClients;
  clock: Clock;
  signal: AbortSignal;
  /** Progress output (a listr2 task's output, or a reporter line). */
  onProgress: (line: string) => void;
  onNote: (line: string) => void;
}

export interface WatchTarget {
  asgName: string;
  refreshId: string;
  targetGroups: TargetGroupInfo[];
  alarms: string[];
  pollSeconds: number;
  /** Undefined: no gate (waiting for a rollback). */
  healthyDeadlineSeconds?: number;
}

export type WatchEnd =
  | { kind: 'status'; status: string; reason?: string; atMs: number }
  | { kind: 'gate-failed'; reasons: string[]; atMs: number };

const DONE = ['Successful', 'Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'];

async function snapshot(d: WatchDeps, t: WatchTarget, launchedAt: Map<string, number>): Promise<Snapshot> {
  const [refresh] = await describeRefreshes(d.clients, t.asgName, [t.refreshId]);
  if (!refresh) throw new Error(`instance refresh ${t.refreshId} vanished from ${t.asgName}`);
  const group = await describeGroup(d.clients, t.asgName);
  const now = d.clock.now();
  const fresh = (group?.instances ?? []).filter((i) => refresh.desired && i.ltVersion === refresh.desired.version && !i.lifecycleState.startsWith('Terminat'));
  // The deadline runs from each instance's launch time (EC2), so a resumed run keeps the same deadline.
  const unseen = fresh.filter((i) => !launchedAt.has(i.id)).map((i) => i.id);
  if (unseen.length) {
    const out = await d.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: unseen }));
    for (const inst of (out.Reservations ?? []).flatMap((r) => r.Instances ?? []))
      if (inst.InstanceId) launchedAt.set(inst.InstanceId, inst.LaunchTime?.getTime() ?? now);
  }
  const newInstances: InstanceHealth[] = fresh.map((i) => {
    if (!launchedAt.has(i.id)) launchedAt.set(i.id, now);
    return { id: i.id, lifecycleState: i.lifecycleState, targets: {}, launchedAtMs: launchedAt.get(i.id)! };
  });
  if (newInstances.length) {
    for (const tg of t.targetGroups) {
      const out = await d.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn, Targets: newInstances.map((i) => ({ Id: i.id })) }));
      for (const desc of out.TargetHealthDescriptions ?? []) {
        const i = newInstances.find((n) => n.id === desc.Target?.Id);
        if (i) i.targets[tg.name] = desc.TargetHealth?.State ?? 'unknown';
      }
    }
  }
  let alarms: Snapshot['alarms'] = [];
  if (t.alarms.length) {
    const out = await d.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: t.alarms }));
    alarms = (out.MetricAlarms ?? []).map((a) => ({ name: a.AlarmName ?? '', state: a.StateValue ?? 'INSUFFICIENT_DATA' }));
  }
  return { atMs: now, refresh, newInstances, alarms };
}

/**
 * Polls until the refresh ends or the gate fails. A throttled poll is skipped (the next one comes a poll later);
 * the SDK's adaptive retry already spaced its own attempts.
 */
export async function watchRefresh(d: WatchDeps, t: WatchTarget): Promise<WatchEnd> {
  const launchedAt = new Map<string, number>();
  let throttled = 0;
  let last = '';
  for (;;) {
    d.signal.throwIfAborted();
    let s: Snapshot | undefined;
    try {
      s = await snapshot(d, t, launchedAt);
      if (throttled) d.onNote(`AWS stopped throttling after ${throttled} skipped poll(s)`);
      throttled = 0;
    } catch (e) {
      if (!isThrottle(e)) throw e;
      throttled++;
      if (throttled === 1) d.onNote(`AWS is throttling the status poll; skipping polls until it stops`);
    }
    if (s) {
      // Only changes are shown, so the plain renderer in CI prints one line per change, not one per poll.
      const line = progressLine(s);
      if (line !== last) d.onProgress(line);
      last = line;
      if (DONE.includes(s.refresh.status)) return { kind: 'status', status: s.refresh.status, ...(s.refresh.statusReason ? { reason: s.refresh.statusReason } : {}), atMs: s.atMs };
      if (s.refresh.status === 'RollbackInProgress' && t.healthyDeadlineSeconds !== undefined)
        return { kind: 'status', status: 'RollbackInProgress', reason: s.refresh.rollback?.reason ?? s.refresh.statusReason ?? 'AWS started a rollback', atMs: s.atMs };
      if (t.healthyDeadlineSeconds !== undefined && s.refresh.status !== 'Cancelling') {
        const v = gate(s, t.healthyDeadlineSeconds);
        if (!v.ok) return { kind: 'gate-failed', reasons: v.reasons, atMs: s.atMs };
      }
    }
    await d.clock.sleep(t.pollSeconds * 1000, d.signal);
  }
}

/** The AMI of every instance of the group that is not leaving. */
export async function instanceAmis(c: AwsClients, asgName: string): Promise<{ id: string; ami: string }[]> {
  const group = await describeGroup(c, asgName);
  const ids = (group?.instances ?? []).filter((i) => !i.lifecycleState.startsWith('Terminat')).map((i) => i.id);
  if (ids.length === 0) return [];
  const out = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => ({ id: i.InstanceId!, ami: i.ImageId ?? '' })).sort((a, b) => a.id.localeCompare(b.id));
}
