// The roll plan (pure): from the observed state and the deploy section to what a roll would do and refuse.
import { AMI_TAG } from '../contract/tags.js';
import { replacementTime } from './drain-timing.js';
import type { RefreshPreferences } from '@aws-sdk/client-auto-scaling';
import type { DeployConfig } from '../definition/deploy-schema.js';
import { inService } from './fleet.js';
import { guards, type GuardInput } from './guards.js';
import type { Finding } from './finding.js';
import { hookTimeoutFor } from './preflight-drain.js';
import { preflight, resumableRefresh } from './preflight.js';
import { ACTIVE_STATUSES, AMI_TAGS, parseMarker, type AmiInfo, type Observed, type RollMarker } from './types.js';

export interface Batch {
  /** Instances launched in this batch. */
  launch: number;
  /** Old instances terminated once the batch is healthy. */
  terminate: number;
  /** Checkpoint percentage reached after this batch, if any. */
  checkpoint?: number;
}

export interface RollPlan {
  image: string;
  asgName: string;
  /**
   * start: a new refresh; resume: attach to ours; undo: roll our own active refresh back (rollback);
   * noop: the launch template and every instance already run the AMI; refuse: a check failed.
   */
  mode: 'start' | 'resume' | 'undo' | 'noop' | 'refuse';
  /** Why this mode, in sentences. */
  reasons: string[];
  resumeRefreshId?: string;
  undo?: { refreshId: string; ltId: string; marker: RollMarker };
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

export interface PlanInput extends Omit<GuardInput, 'kind' | 'force' | 'nowMs'>, Partial<Pick<GuardInput, 'kind' | 'force' | 'nowMs'>> {
  /** Health-check figures of the slowest target group. */
  healthSeconds?: number;
}

/** The active refresh, when it is sipbake's roll of this image away from `ami` (what a rollback undoes). */
function activeRollFrom(obs: Observed, image: string, ami: string): RollPlan['undo'] {
  const active = obs.refreshes.find((r) => ACTIVE_STATUSES.includes(r.status));
  const marker = parseMarker(obs.activeDesired?.description);
  if (!active || !marker || !obs.activeDesired || marker.image !== image || marker.fromAmi !== ami) return undefined;
  return { refreshId: active.id, ltId: obs.activeDesired.ltId, marker };
}

export function planRoll(i: PlanInput): RollPlan {
  const { obs, deploy, image, amiId } = i;
  const g: GuardInput = { ...i, kind: i.kind ?? 'roll', force: i.force ?? false, nowMs: i.nowMs ?? Date.now() };
  const undo = g.kind === 'rollback' ? activeRollFrom(obs, image, amiId) : undefined;
  // Undoing our own active roll is what a rollback is for: the "refresh active" refusal does not apply to it.
  const findings = [...preflight(i), ...guards(g)].filter((f) => !(undo && f.check === 'noActiveRefresh' && f.level === 'refuse'));
  const prefs = refreshPreferences(deploy);
  const desired = obs.group?.desired ?? 0;
  const healthSeconds = i.healthSeconds ?? Math.max(0, ...obs.targetGroups.map((t) => t.intervalSeconds * t.healthyThreshold));
  const live = obs.currentAmi?.imageId ?? obs.current?.imageId;
  const serving = inService(obs.fleet ?? []);
  const fleet: Record<string, number> = {};
  for (const f of serving) fleet[f.ami ?? 'unknown'] = (fleet[f.ami ?? 'unknown'] ?? 0) + 1;
  const off = serving.filter((f) => f.ami !== amiId).length;
  const total = live === amiId && deploy.refresh.skipMatching ? off : desired;
  const batches = planBatches(
    desired,
    total,
    deploy.refresh.minHealthyPercentage,
    deploy.refresh.maxHealthyPercentage,
    deploy.refresh.checkpointPercentages ?? [],
  );
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
  const drain = busyLeave - idleLeave;
  const resumeId = resumableRefresh(i);
  const fleetText =
    Object.entries(fleet)
      .map(([a, n]) => `${n} on ${a}`)
      .join(', ') || 'no instance in service';
  let mode: RollPlan['mode'] = 'start';
  let reasons: string[] = [`launch template version ${obs.current?.version ?? '?'} runs ${live ?? 'an unknown AMI'}; instances: ${fleetText}`];
  if (findings.some((f) => f.level === 'refuse')) {
    mode = 'refuse';
    reasons = findings.filter((f) => f.level === 'refuse').map((f) => f.message);
  } else if (undo) {
    mode = 'undo';
    reasons = [`rollback to ${amiId} requested while sipbake's roll to ${undo.marker.ami} (refresh ${undo.refreshId}) was active`];
  } else if (resumeId) {
    mode = 'resume';
    reasons = [`refresh ${resumeId} (sipbake's roll to ${amiId}) is still active`];
  } else if (live === amiId && off === 0) {
    mode = 'noop';
    reasons = [`launch template version ${obs.current?.version} and every instance in service run ${amiId}`];
  } else if (live === amiId) reasons.push(`the launch template already runs ${amiId} but ${off} instance(s) do not: refresh them onto it`);
  return {
    image,
    asgName: deploy.asgName,
    mode,
    reasons,
    ...(resumeId && mode === 'resume' ? { resumeRefreshId: resumeId } : {}),
    ...(undo && mode === 'undo' ? { undo } : {}),
    createVersion: live !== amiId,
    fleet,
    ...(obs.current ? { from: { ltId: obs.current.ltId, version: obs.current.version, ...(live ? { ami: live } : {}) } } : {}),
    to: { ami: amiId },
    amiDiff: amiDiff(obs.currentAmi, obs.target),
    ltDiff: live === amiId ? [] : [{ field: 'ImageId', ...(live ? { from: live } : {}), to: amiId }],
    preferences: prefs,
    batches,
    expectedSeconds,
    worstCaseSeconds: expectedSeconds + batches.length * drain,
    findings,
  };
}

export function refusals(p: RollPlan): Finding[] {
  return p.findings.filter((f) => f.level === 'refuse');
}
