// The roll plan (pure): from the observed state and the deploy section to what a roll would do and refuse.
import { AMI_TAG } from '../contract/tags.js';
import { replacementTime } from '../contract/drain-timing.js';
import type { RefreshPreferences } from '@aws-sdk/client-auto-scaling';
import type { DeployConfig } from '../definition/deploy-schema.js';
import { inService } from './fleet.js';
import { guards, type GuardInput } from './guards.js';
import type { Finding } from './finding.js';
import { hookTimeoutFor } from './preflight-drain.js';
import { preflight, resumableRefresh } from './preflight.js';
import { parseLastRoll, rejectionsOf } from './tags.js';
import { ACTIVE_STATUSES, AMI_TAGS, TAG_LAST_ROLL, type AmiInfo, type Observed, type RollMarker } from './types.js';

export interface Batch {
  /** Instances launched in this batch. */
  launch: number;
  /** Old instances terminated once the batch is healthy. */
  terminate: number;
  /** Checkpoint percentage reached after this batch, if any. */
  checkpoint?: number;
}

/** sipbake's own active refresh: its id, the launch template version it heads to, and the marker on it. */
interface ActiveRoll {
  refreshId: string;
  ltId: string;
  toVersion: number;
  marker: RollMarker;
}

export interface RollPlan {
  image: string;
  asgName: string;
  /**
   * start: a new refresh; resume: attach to ours; undo: roll our own active refresh back (rollback);
   * noop: the launch template and every instance already run the AMI; refuse: a check failed.
   */
  mode: 'start' | 'resume' | 'undo' | 'noop' | 'refuse' | 'finish';
  /**
   * finish: an earlier run of this roll was interrupted and its refresh has ended since (AWS rolled it back, or the
   * gate's rollback ran on): the re-run records that end instead of refusing the AMI that roll rejected.
   */
  finish?: { refreshId: string; status: string; rejected: string };
  /** Why this mode, in sentences. */
  reasons: string[];
  resumeRefreshId?: string;
  undo?: ActiveRoll;
  /** resume: sipbake's own active refresh to this AMI, with what the start stage needs to attach to it. */
  resume?: ActiveRoll;
  /** false: the live version already has the AMI and only instances differ (a mixed fleet): refresh onto it. */
  createVersion: boolean;
  /** AMI → InService instances running it, from the instances themselves. */
  fleet: Record<string, number>;
  from?: { ltId: string; version: number; ami?: string };
  to: { ami: string; version?: number };
  amiDiff: { tag: string; from?: string; to?: string }[];
  ltDiff: { field: string; from?: string; to?: string }[];
  preferences: RefreshPreferences;
  batches: Batch[];
  /** Floor: batches × (warm-up + healthy threshold × interval) + checkpoint delays + bake time. */
  expectedSeconds: number;
  /** Plus the longest drain of every batch, when calls hold instances until drain.maxSeconds. */
  worstCaseSeconds: number;
  findings: Finding[];
}

function refreshPreferences(d: DeployConfig): RefreshPreferences {
  const r = d.refresh;
  const cps = r.checkpointPercentages ?? [];
  return {
    MinHealthyPercentage: r.minHealthyPercentage,
    MaxHealthyPercentage: r.maxHealthyPercentage,
    InstanceWarmup: r.instanceWarmup,
    ...(cps.length > 0 ? { CheckpointPercentages: cps, CheckpointDelay: r.checkpointDelay } : {}),
    SkipMatching: r.skipMatching,
    AutoRollback: r.autoRollback,
    BakeTime: r.bakeTime,
    ...(r.alarms.length > 0 ? { AlarmSpecification: { Alarms: r.alarms } } : {}),
    // Always explicit: the default `Wait` stalls a refresh for an hour on a protected or standby instance.
    ScaleInProtectedInstances: r.scaleInProtectedInstances,
    StandbyInstances: r.standbyInstances,
  };
}

/** How Auto Scaling will batch `total` replacements in a group of `desired` (mirrors its min/max healthy rules). */
export function planBatches(desired: number, total: number, minPct: number, maxPct: number, checkpoints: number[]): Batch[] {
  const maxCount = Math.max(desired, Math.floor((desired * maxPct) / 100));
  const minHealthy = Math.ceil((desired * minPct) / 100);
  const goals = (checkpoints.length ? checkpoints : [100]).map((cp) => ({ cp, goal: Math.ceil((total * cp) / 100) }));
  const batches: Batch[] = [];
  let oldLeft = total;
  let fresh = desired - total;
  for (const { cp, goal } of goals) {
    const allowedOld = total - goal;
    while (oldLeft > allowedOld || fresh < desired - allowedOld) {
      const first = Math.max(0, Math.min(oldLeft - allowedOld, oldLeft + fresh - minHealthy));
      oldLeft -= first;
      const launch = Math.max(0, Math.min(desired - allowedOld - fresh, maxCount - (oldLeft + fresh)));
      fresh += launch;
      const after = Math.max(0, Math.min(oldLeft - allowedOld, oldLeft + fresh - minHealthy));
      oldLeft -= after;
      if (launch === 0 && first + after === 0) return batches; // cannot progress; AWS would refuse these percentages
      batches.push({ launch, terminate: first + after });
    }
    const last = batches.at(-1);
    if (last && cp < 100) last.checkpoint = cp;
  }
  return batches;
}

function amiDiff(from: AmiInfo | undefined, to: AmiInfo | undefined): RollPlan['amiDiff'] {
  return AMI_TAGS.filter((t) => t !== AMI_TAG.image).map((tag) => ({
    tag: tag.replace('sipbake:', ''),
    ...(from?.tags[tag] !== undefined ? { from: from.tags[tag] } : {}),
    ...(to?.tags[tag] !== undefined ? { to: to.tags[tag] } : {}),
  }));
}

/** The clock (nowMs) is a required input: the plan never reads the real clock. */
export interface PlanInput extends Omit<GuardInput, 'kind' | 'force'>, Partial<Pick<GuardInput, 'kind' | 'force'>> {
  /** Health-check figures of the slowest target group. */
  healthSeconds?: number;
}

/** The active refresh, when it is sipbake's roll of this image away from `ami` (what a rollback undoes). */
function activeRollFrom(obs: Observed, image: string, ami: string): RollPlan['undo'] {
  const desired = obs.active?.desired;
  const marker = desired?.marker;
  if (!obs.active || !desired || !marker || marker.image !== image || marker.fromAmi !== ami) return undefined;
  return { refreshId: obs.active.refresh.id, ltId: desired.ltId, toVersion: desired.version, marker };
}

/** The interrupted roll of this AMI whose refresh has ended since, when its AMI was rejected on the way. */
function unfinishedRoll(obs: Observed, image: string, ami: string): RollPlan['finish'] {
  const last = parseLastRoll(obs.group?.tags[TAG_LAST_ROLL]);
  const rejected = rejectionsOf(obs.group?.tags ?? {}).find((r) => r.ami === ami);
  const r = last && last.image === image && last.ami === ami ? obs.refreshes.find((x) => x.id === last.refreshId) : undefined;
  if (!r || !rejected || ACTIVE_STATUSES.includes(r.status)) return undefined;
  return { refreshId: r.id, status: r.status, rejected: rejected.reason };
}

function resumeOf(obs: Observed): { resume?: ActiveRoll } {
  const d = obs.active?.desired;
  return obs.active && d?.marker ? { resume: { refreshId: obs.active.refresh.id, ltId: d.ltId, toVersion: d.version, marker: d.marker } } : {};
}

/** Undoing our own active roll is what a rollback is for: the "refresh active" refusal does not apply to it; nor
 *  does "rejected" to the re-run of the interrupted roll that rejected the AMI (it records that roll's end). */
function findingsOf(i: PlanInput, g: GuardInput, undo: boolean, rerun: boolean): Finding[] {
  return [...preflight(i), ...guards(g)].filter(
    (f) => !(undo && f.check === 'noActiveRefresh' && f.level === 'refuse') && !(rerun && f.check === 'notRejected'),
  );
}

/** AMI → InService instances running it. */
function fleetOf(serving: { ami?: string }[]): Record<string, number> {
  const fleet: Record<string, number> = {};
  for (const f of serving) fleet[f.ami ?? 'unknown'] = (fleet[f.ami ?? 'unknown'] ?? 0) + 1;
  return fleet;
}

/** The floor and the worst case of the roll's duration, batch by batch. */
function durationOf(i: PlanInput, batches: Batch[]): Pick<RollPlan, 'expectedSeconds' | 'worstCaseSeconds'> {
  const { obs, deploy } = i;
  const healthSeconds = i.healthSeconds ?? Math.max(0, ...obs.targetGroups.map((t) => t.intervalSeconds * t.healthyThreshold));
  const cps = (deploy.refresh.checkpointPercentages ?? []).filter((c) => c < 100).length;
  // Each batch's old instances leave in AWS's order (drain-timing.ts): the whole deregistration delay, then the
  // hook until the agent completes: about the delay plus a poll when idle, up to drain.maxSeconds with calls up.
  const timing = {
    deregistrationDelaySeconds: Math.max(0, ...obs.targetGroups.map((t) => t.deregistrationDelay)),
    hookTimeoutSeconds: hookTimeoutFor(i.drainMaxSeconds),
    drainMaxSeconds: i.drainMaxSeconds,
    pollSeconds: i.drainPollSeconds ?? 5,
  };
  const idleLeave = replacementTime({ ...timing, longestCallSeconds: 0 }).totalSeconds;
  const busyLeave = replacementTime({ ...timing, longestCallSeconds: i.drainMaxSeconds }).totalSeconds;
  const expectedSeconds =
    batches.length * (deploy.refresh.instanceWarmup + healthSeconds + idleLeave) +
    cps * deploy.refresh.checkpointDelay +
    (batches.length ? deploy.refresh.bakeTime : 0);
  return { expectedSeconds, worstCaseSeconds: expectedSeconds + batches.length * (busyLeave - idleLeave) };
}

interface ModeInput {
  obs: Observed;
  amiId: string;
  findings: Finding[];
  finish: RollPlan['finish'];
  undo: RollPlan['undo'];
  resumeId: string | undefined;
  live: string | undefined;
  off: number;
  fleet: Record<string, number>;
}

/** Which mode, and why, in sentences: refuse, then finish, undo, resume, noop, start. */
function modeOf(x: ModeInput): Pick<RollPlan, 'mode' | 'reasons'> {
  const { obs, amiId, live } = x;
  const refused = x.findings.filter((f) => f.level === 'refuse');
  if (refused.length > 0) return { mode: 'refuse', reasons: refused.map((f) => f.message) };
  if (x.finish) return { mode: 'finish', reasons: [`the interrupted roll's refresh ${x.finish.refreshId} ended ${x.finish.status}: ${x.finish.rejected}`] };
  if (x.undo)
    return {
      mode: 'undo',
      reasons: [`rollback to ${amiId} requested while sipbake's roll to ${x.undo.marker.ami} (refresh ${x.undo.refreshId}) was active`],
    };
  if (x.resumeId) return { mode: 'resume', reasons: [`refresh ${x.resumeId} (sipbake's roll to ${amiId}) is still active`] };
  if (live === amiId && x.off === 0)
    return { mode: 'noop', reasons: [`launch template version ${obs.current?.version} and every instance in service run ${amiId}`] };
  const fleetText =
    Object.entries(x.fleet)
      .map(([a, n]) => `${n} on ${a}`)
      .join(', ') || 'no instance in service';
  const reasons = [`launch template version ${obs.current?.version ?? '?'} runs ${live ?? 'an unknown AMI'}; instances: ${fleetText}`];
  if (live === amiId) reasons.push(`the launch template already runs ${amiId} but ${x.off} instance(s) do not: refresh them onto it`);
  return { mode: 'start', reasons };
}

export function planRoll(i: PlanInput): RollPlan {
  const { obs, deploy, image, amiId } = i;
  const g: GuardInput = { ...i, kind: i.kind ?? 'roll', force: i.force ?? false };
  const undo = g.kind === 'rollback' ? activeRollFrom(obs, image, amiId) : undefined;
  const finish = g.kind === 'roll' ? unfinishedRoll(obs, image, amiId) : undefined;
  const resumeId = resumableRefresh(i);
  const findings = findingsOf(i, g, undo !== undefined, finish !== undefined || resumeId !== undefined);
  const desired = obs.group?.desired ?? 0;
  const live = obs.currentAmi?.imageId ?? obs.current?.imageId;
  const serving = inService(obs.fleet ?? []);
  const fleet = fleetOf(serving);
  const off = serving.filter((f) => f.ami !== amiId).length;
  const total = live === amiId && deploy.refresh.skipMatching ? off : desired;
  const r = deploy.refresh;
  const batches = planBatches(desired, total, r.minHealthyPercentage, r.maxHealthyPercentage, r.checkpointPercentages ?? []);
  const { mode, reasons } = modeOf({ obs, amiId, findings, finish, undo, resumeId, live, off, fleet });
  return {
    image,
    asgName: deploy.asgName,
    mode,
    reasons,
    ...(resumeId && mode === 'resume' ? { resumeRefreshId: resumeId, ...resumeOf(obs) } : {}),
    ...(undo && mode === 'undo' ? { undo } : {}),
    ...(finish && mode === 'finish' ? { finish } : {}),
    createVersion: live !== amiId,
    fleet,
    ...(obs.current ? { from: { ltId: obs.current.ltId, version: obs.current.version, ...(live ? { ami: live } : {}) } } : {}),
    to: { ami: amiId },
    amiDiff: amiDiff(obs.currentAmi, obs.target),
    ltDiff: live === amiId ? [] : [{ field: 'ImageId', ...(live ? { from: live } : {}), to: amiId }],
    preferences: refreshPreferences(deploy),
    batches,
    ...durationOf(i, batches),
    findings,
  };
}

export function refusals(p: RollPlan): Finding[] {
  return p.findings.filter((f) => f.level === 'refuse');
}
