// The roll plan (pure): from the observed state and the deploy section to what a roll would do and refuse.
import type { RefreshPreferences } from '@aws-sdk/client-auto-scaling';
import type { DeployConfig } from '../definition/deploy-schema.js';
import { preflight, resumableRefresh, type Finding, type PreflightInput } from './preflight.js';
import { AMI_TAGS, type AmiInfo, type Observed } from './types.js';

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
  /** start: a new refresh; resume: attach to ours; noop: already live; refuse: a check failed. */
  mode: 'start' | 'resume' | 'noop' | 'refuse';
  resumeRefreshId?: string;
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

export function refreshPreferences(d: DeployConfig): RefreshPreferences {
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

export function amiDiff(from: AmiInfo | undefined, to: AmiInfo | undefined): RollPlan['amiDiff'] {
  return AMI_TAGS.filter((t) => t !== 'sipbake:image').map((tag) => ({
    tag: tag.replace('sipbake:', ''),
    ...(from?.tags[tag] !== undefined ? { from: from.tags[tag] } : {}),
    ...(to?.tags[tag] !== undefined ? { to: to.tags[tag] } : {}),
  }));
}

export interface PlanInput extends PreflightInput {
  /** Health-check figures of the slowest target group. */
  healthSeconds?: number;
}

export function planRoll(i: PlanInput): RollPlan {
  const { obs, deploy, image, amiId } = i;
  const findings = preflight(i);
  const prefs = refreshPreferences(deploy);
  const desired = obs.group?.desired ?? 0;
  const healthSeconds = i.healthSeconds ?? Math.max(0, ...obs.targetGroups.map((t) => t.intervalSeconds * t.healthyThreshold));
  const live = obs.currentAmi?.imageId ?? obs.current?.imageId;
  const total = live === amiId && deploy.refresh.skipMatching ? 0 : desired;
  const batches = planBatches(desired, total, deploy.refresh.minHealthyPercentage, deploy.refresh.maxHealthyPercentage, deploy.refresh.checkpointPercentages ?? []);
  const cps = (deploy.refresh.checkpointPercentages ?? []).filter((c) => c < 100).length;
  const expectedSeconds = batches.length * (deploy.refresh.instanceWarmup + healthSeconds) + cps * deploy.refresh.checkpointDelay + (batches.length ? deploy.refresh.bakeTime : 0);
  const drain = Math.max(i.drainMaxSeconds, ...obs.targetGroups.map((t) => t.deregistrationDelay));
  const resumeId = resumableRefresh(i);
  let mode: RollPlan['mode'] = 'start';
  if (findings.some((f) => f.level === 'refuse')) mode = 'refuse';
  else if (resumeId) mode = 'resume';
  else if (live === amiId) mode = 'noop';
  return {
    image,
    asgName: deploy.asgName,
    mode,
    ...(resumeId ? { resumeRefreshId: resumeId } : {}),
    ...(obs.current ? { from: { ltId: obs.current.ltId, version: obs.current.version, ...(live ? { ami: live } : {}) } } : {}),
    to: { ami: amiId },
    amiDiff: amiDiff(obs.currentAmi, obs.target),
    ltDiff: [{ field: 'ImageId', ...(live ? { from: live } : {}), to: amiId }],
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

export type { Observed };
