// The instance refresh lifecycle of the fake, stepped once per simulated second.
// Honours MinHealthyPercentage/MaxHealthyPercentage, checkpoints, warm-up, bake time, alarms and rollback.
import type { Region } from './region.js';
import type { FakeAsg, FakeInstance, FakeRefresh, ReplaceTarget } from './model.js';

const sec = 1000;

/** HealthCheckGracePeriod: what DescribeAutoScalingGroups reports for the group (300 s unless a test sets it). */
export function gracePeriodOf(asg: FakeAsg): number {
  return asg.HealthCheckGracePeriod ?? 300;
}

/** What ELB reports now: unhealthy (a bad image once its checks failed, or a slow good one before it answers). */
function elbUnhealthy(i: FakeInstance, now: number): boolean {
  if (i.health === 'unhealthy') return now >= i.healthAt;
  return i.unhealthyFrom !== undefined && now >= i.unhealthyFrom && now < i.healthAt;
}

/** Every health replacement the fake made, per fake: instance, its AMI, when. */
const replacements = new WeakMap<Region, { instanceId: string; imageId: string; atMs: number }[]>();
export function healthReplacements(f: Region): { instanceId: string; imageId: string; atMs: number }[] {
  return replacements.get(f) ?? [];
}

/**
 * AWS "Health checks for instances in an Auto Scaling group" / "Replace unhealthy instances": with ELB health
 * checks, an InService instance the target group reports unhealthy is marked Unhealthy once the grace period since
 * it went InService is over, then terminated (termination hooks apply) and replaced. Here the replacement is the
 * active refresh's next launch (the refresh wants its count of new instances back).
 */
function replaceUnhealthy(f: Region, asgName: string, now: number): void {
  const asg = f.asgs.get(asgName);
  if (!asg || asg.HealthCheckType !== 'ELB') return;
  const grace = gracePeriodOf(asg) * sec;
  for (const i of f.instancesOf(asgName)) {
    if (i.LifecycleState !== 'InService' || !elbUnhealthy(i, now) || now < i.inServiceAt + grace) continue;
    replacements.set(f, [...healthReplacements(f), { instanceId: i.InstanceId, imageId: i.ImageId, atMs: now }]);
    f.beginTermination(i);
  }
}

function matches(i: FakeInstance, t: ReplaceTarget): boolean {
  return i.ltId === t.LaunchTemplateId && i.ltVersion === t.version;
}

function live(f: Region, asg: string): FakeInstance[] {
  return f.instancesOf(asg).filter((i) => i.LifecycleState === 'Pending' || i.LifecycleState === 'InService');
}

/** Healthy in every target group (or InService for EC2 health checks). */
function isHealthy(f: Region, i: FakeInstance, now: number): boolean {
  return i.LifecycleState === 'InService' && i.health === 'healthy' && now >= i.healthAt;
}

/** A replacement counts once it is healthy and its warm-up has passed. */
function isReady(f: Region, r: FakeRefresh, i: FakeInstance, now: number): boolean {
  return isHealthy(f, i, now) && now >= i.healthAt + r.prefs.InstanceWarmup * sec;
}

interface Pass {
  target: ReplaceTarget;
  total: number;
  toReplace: Set<string>;
  checkpoints: number[];
}

/** One step of replacing `toReplace` with instances of `target`. Returns true when every one is replaced. */
function replaceStep(f: Region, r: FakeRefresh, p: Pass, now: number): { done: boolean; atCheckpoint: boolean } {
  const asg = f.asgs.get(r.asg)!;
  const D = asg.DesiredCapacity;
  const all = live(f, r.asg);
  const old = all.filter((i) => p.toReplace.has(i.InstanceId));
  const fresh = all.filter((i) => !p.toReplace.has(i.InstanceId) && matches(i, p.target));
  const cp = p.checkpoints[r.checkpointIndex] ?? 100;
  const goal = Math.ceil((p.total * cp) / 100);
  const allowedOld = p.total - goal;
  const maxCount = Math.max(D, Math.floor((D * r.prefs.MaxHealthyPercentage) / 100));
  const minHealthy = Math.ceil((D * r.prefs.MinHealthyPercentage) / 100);
  const healthy = all.filter((i) => (p.toReplace.has(i.InstanceId) ? isHealthy(f, i, now) : isReady(f, r, i, now)));
  // Terminate old instances while enough healthy capacity remains.
  // Unhealthy old instances add no capacity, so they may always go; healthy ones only above the minimum.
  const sick = old.filter((i) => !isHealthy(f, i, now));
  const canTerminate = Math.max(0, Math.min(old.length - allowedOld, sick.length + Math.max(0, healthy.length - minHealthy)));
  const terminable = sick.concat(old.filter((i) => isHealthy(f, i, now)));
  let liveCount = all.length;
  for (const i of terminable.slice(0, canTerminate)) {
    f.beginTermination(i);
    liveCount--;
  }
  const oldLeft = old.length - Math.min(canTerminate, old.length);
  // Launch replacements up to the checkpoint goal and the maximum healthy percentage.
  const wantFresh = D - allowedOld;
  const toLaunch = Math.max(0, Math.min(wantFresh - fresh.length, maxCount - liveCount));
  for (let n = 0; n < toLaunch; n++) f.launchInstance(r.asg, p.target);
  const leaving = f.instancesOf(r.asg).some((i) => i.LifecycleState.startsWith('Terminating'));
  const freshReady = fresh.filter((i) => isReady(f, r, i, now)).length;
  const atCheckpoint = oldLeft <= allowedOld && freshReady >= wantFresh && !leaving;
  return { done: atCheckpoint && cp >= 100, atCheckpoint };
}

function percent(r: FakeRefresh, toReplace: Set<string>, total: number, f: Region): { pct: number; left: number } {
  const left = live(f, r.asg).filter((i) => toReplace.has(i.InstanceId)).length;
  if (total === 0) return { pct: 100, left: 0 };
  return { pct: Math.floor((100 * (total - left)) / total), left };
}

export function progressOf(f: Region, r: FakeRefresh): { pct: number; left: number; rbPct?: number; rbLeft?: number } {
  const main = percent(r, r.toReplace, r.total, f);
  if (!r.rollback) return main;
  const rb = percent(r, r.rollback.toReplace, r.rollback.total, f);
  return { ...main, rbPct: rb.pct, rbLeft: rb.left };
}

export function startRollback(f: Region, r: FakeRefresh, reason: string, now: number): void {
  const asg = f.asgs.get(r.asg)!;
  const target = f.resolveGroupTarget(asg);
  const toReplace = new Set(
    live(f, r.asg)
      .filter((i) => !matches(i, target))
      .map((i) => i.InstanceId),
  );
  r.rollback = { reason, startTime: now, target, total: toReplace.size, toReplace };
  r.Status = 'RollbackInProgress';
  r.StatusReason = reason;
  r.checkpointIndex = 0;
  r.checkpointReachedAt = undefined;
  f.emit('rollback-started', r);
}

function finish(f: Region, r: FakeRefresh, status: FakeRefresh['Status'], reason: string | undefined, now: number): void {
  r.Status = status;
  r.StatusReason = reason;
  r.EndTime = now;
  f.emit(status, r);
}

export function stepRefresh(f: Region, r: FakeRefresh, now: number): void {
  replaceUnhealthy(f, r.asg, now);
  if (r.Status === 'Pending') {
    if (now < r.pendingUntil) return;
    r.Status = 'InProgress';
  }
  if (r.Status === 'Cancelling') return finish(f, r, 'Cancelled', 'Cancelled by request', now);
  if (r.Status === 'InProgress' || r.Status === 'Baking') {
    const firing = r.prefs.Alarms.filter((a) => f.alarms.get(a)?.StateValue === 'ALARM');
    if (firing.length > 0) {
      const reason = `Alarm ${firing.join(', ')} is in ALARM state`;
      if (r.prefs.AutoRollback) return startRollback(f, r, reason, now);
      return finish(f, r, 'Failed', reason, now);
    }
  }
  if (r.Status === 'InProgress') {
    const pass: Pass = {
      target: r.target,
      total: r.total,
      toReplace: r.toReplace,
      checkpoints: r.prefs.CheckpointPercentages,
    };
    const { done, atCheckpoint } = replaceStep(f, r, pass, now);
    if (done && waitForHeld(f, r, now)) return;
    if (done) {
      if (r.prefs.BakeTime > 0) {
        r.Status = 'Baking';
        r.StatusReason = `Waiting for bake time of ${r.prefs.BakeTime} seconds`;
        r.bakeStartedAt = now;
        f.emit('Baking', r);
      } else return succeed(f, r, now);
    } else if (atCheckpoint) {
      if (r.checkpointReachedAt === undefined) {
        r.checkpointReachedAt = now;
        r.StatusReason = `Waiting for checkpoint delay of ${r.prefs.CheckpointDelay} seconds at ${r.prefs.CheckpointPercentages[r.checkpointIndex]}%`;
        f.emit('checkpoint', r);
      } else if (now - r.checkpointReachedAt >= r.prefs.CheckpointDelay * sec) {
        r.checkpointIndex++;
        r.checkpointReachedAt = undefined;
        r.StatusReason = undefined;
        stepRefresh(f, r, now);
      }
    }
    return;
  }
  if (r.Status === 'Baking') {
    if (now - r.bakeStartedAt! >= r.prefs.BakeTime * sec) succeed(f, r, now);
    return;
  }
  if (r.Status === 'RollbackInProgress') {
    const rb = r.rollback!;
    const pass: Pass = { target: rb.target, total: rb.total, toReplace: rb.toReplace, checkpoints: [100] };
    if (replaceStep(f, r, pass, now).done) finish(f, r, 'RollbackSuccessful', r.StatusReason, now);
  }
}

/** One hour: how long a refresh waits for protected or Standby instances (`Wait`) before it fails. */
const WAIT_FOR_HELD_SECONDS = 3600;

/**
 * ScaleInProtectedInstances / StandbyInstances `Wait` (API_RefreshPreferences): "Amazon EC2 Auto Scaling waits one
 * hour for you to remove scale-in protection" / "to return the instances to service. Otherwise, the instance refresh
 * will fail." Called when everything else is replaced. An instance freed (protection removed, back InService) joins
 * the refresh and is replaced; a terminated one is forgotten. True while the refresh still waits (or has just
 * failed, or started its rollback: AutoRollback covers a failed refresh too).
 */
function waitForHeld(f: Region, r: FakeRefresh, now: number): boolean {
  let freed = false;
  for (const id of [...r.waitFor]) {
    const i = f.instances.get(id);
    if (!i || i.asg !== r.asg || i.LifecycleState === 'Terminated' || i.LifecycleState.startsWith('Terminating')) r.waitFor.delete(id);
    else if (i.LifecycleState === 'InService' && !(i.ProtectedFromScaleIn && r.prefs.ScaleInProtectedInstances === 'Wait')) {
      r.waitFor.delete(id);
      r.toReplace.add(id);
      r.total++;
      freed = true;
    }
  }
  if (freed) {
    r.waitingSince = undefined;
    return true;
  }
  if (r.waitFor.size === 0) return false;
  r.waitingSince ??= now;
  const held = [...r.waitFor].map((id) => `${id} (${f.instances.get(id)?.LifecycleState === 'Standby' ? 'in Standby' : 'protected from scale in'})`);
  if (now - r.waitingSince < WAIT_FOR_HELD_SECONDS * sec) {
    r.StatusReason = `Waiting for instances protected from scale in or in Standby: ${held.join(', ')}`;
    return true;
  }
  const reason = `The instance refresh waited ${WAIT_FOR_HELD_SECONDS} seconds for ${held.join(', ')}`;
  if (r.prefs.AutoRollback && r.desired) startRollback(f, r, reason, now);
  else finish(f, r, 'Failed', reason, now);
  return true;
}

function succeed(f: Region, r: FakeRefresh, now: number): void {
  const asg = f.asgs.get(r.asg)!;
  // After a successful refresh with a DesiredConfiguration, AWS updates the group to it.
  if (r.desired) asg.launchTemplate = { LaunchTemplateId: r.desired.LaunchTemplateId, Version: r.desired.Version };
  finish(f, r, 'Successful', undefined, now);
}
