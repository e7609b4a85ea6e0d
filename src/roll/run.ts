// Roll orchestration: load (observe) → plan (pure) → apply (listr2 tasks that act and poll).
// Used by `roll` (newest AMI or --ami) and `rollback` (a pinned AMI, same machinery).
import { Listr } from 'listr2';
import type { AwsClients } from '../aws/clients.js';
import type { Clock } from '../aws/clock.js';
import { AbortError, UserError } from '../core/errors.js';
import type { Reporter } from '../core/reporter.js';
import type { DeployConfig } from '../definition/deploy-schema.js';
import { beginRollback, createVersion, ensureTerminationHook, startRefresh, tagGroup } from './apply.js';
import { duration, formatFindings, formatPlan } from './format.js';
import { getAmi, listImageAmis } from './images.js';
import { describeGroup, describeRefreshes, observe } from './observe.js';
import { planRoll, refusals, type RollPlan } from './plan.js';
import { choosePrevious } from './previous.js';
import { ACTIVE_STATUSES, formatLkg, parseLkg, parseMarker, TAG_LAST_KNOWN_GOOD, TAG_LAST_ROLL, type Observed, type RollMarker } from './types.js';
import { instanceAmis, watchRefresh, type WatchEnd } from './watch.js';

export type Renderer = 'default' | 'simple' | 'silent';

export interface RollDeps {
  clients: AwsClients;
  clock: Clock;
  reporter: Reporter;
  signal: AbortSignal;
  renderer: Renderer;
}

export interface RollRequest {
  kind: 'roll' | 'rollback';
  image: string;
  deploy: DeployConfig;
  drainMaxSeconds: number;
  /** roll: default newest AMI of the image; rollback: the pinned AMI (or use `previous`). */
  ami?: string;
  previous?: boolean;
  planOnly?: boolean;
}

export type Outcome = 'succeeded' | 'rolled-back' | 'rollback-failed' | 'noop' | 'planned';

export interface RollSummary {
  image: string;
  asgName: string;
  kind: RollRequest['kind'];
  outcome: Outcome;
  refreshId?: string;
  from?: { version: number; ami?: string };
  to: { version?: number; ami: string };
  reasons: string[];
  rollback?: { how: 'aws-rollback' | 'new-refresh'; refreshId: string; gateFailedAtMs: number; startedAtMs: number };
  /** The launch template version the group references at the end. */
  groupVersion?: string;
  instances: { id: string; ami: string }[];
  seconds: number;
}

async function chooseAmi(req: RollRequest, deps: RollDeps, obs: Observed): Promise<string> {
  if (req.ami) return req.ami;
  const amis = await listImageAmis(deps.clients, req.image);
  if (req.previous) {
    const prev = choosePrevious(obs, amis, req.image);
    if (!prev) throw new UserError(`no earlier AMI of ${req.image} to roll back to`, `name one: sipbake rollback ${req.image} --to ami-… (sipbake history ${req.image} lists them)`);
    deps.reporter.line(`previous AMI of ${req.image}: ${prev.ami} (${prev.why})`);
    return prev.ami;
  }
  const newest = amis.find((a) => a.state === 'available');
  if (!newest) throw new UserError(`no available AMI of ${req.image} in ${req.deploy.region}`, `bake one first: sipbake build ${req.image}`);
  return newest.imageId;
}

export async function planFor(req: RollRequest, deps: RollDeps): Promise<{ plan: RollPlan; obs: Observed }> {
  const base = { asgName: req.deploy.asgName, targetGroupArns: req.deploy.targetGroupArns, alarms: req.deploy.refresh.alarms };
  const obs = await observe(deps.clients, base);
  const ami = await chooseAmi(req, deps, obs);
  obs.target = await getAmi(deps.clients, ami);
  return { obs, plan: planRoll({ obs, image: req.image, deploy: req.deploy, drainMaxSeconds: req.drainMaxSeconds, amiId: ami }) };
}

interface Ctx {
  plan: RollPlan;
  refreshId?: string;
  previous?: { ltId: string; version: number; ami: string };
  toVersion?: number;
  end?: WatchEnd;
  rollback?: RollSummary['rollback'];
  outcome?: Outcome;
  reasons: string[];
}

export async function runRoll(req: RollRequest, deps: RollDeps): Promise<{ exitCode: number; summary: RollSummary; plan: RollPlan }> {
  const started = deps.clock.now();
  const { reporter, clients: c } = deps;
  const { plan, obs } = await planFor(req, deps);
  const summaryOf = (ctx: Partial<Ctx>, outcome: Outcome, instances: RollSummary['instances'] = [], groupVersion?: string): RollSummary => ({
    image: req.image,
    asgName: req.deploy.asgName,
    kind: req.kind,
    outcome,
    ...(ctx.refreshId ? { refreshId: ctx.refreshId } : {}),
    ...(plan.from ? { from: { version: plan.from.version, ...(plan.from.ami ? { ami: plan.from.ami } : {}) } } : {}),
    to: { ami: plan.to.ami, ...(ctx.toVersion ? { version: ctx.toVersion } : {}) },
    reasons: ctx.reasons ?? [],
    ...(ctx.rollback ? { rollback: ctx.rollback } : {}),
    ...(groupVersion ? { groupVersion } : {}),
    instances,
    seconds: Math.round((deps.clock.now() - started) / 1000),
  });

  if (req.planOnly) {
    for (const l of formatPlan(plan)) reporter.line(l);
    return { exitCode: refusals(plan).length ? 1 : 0, summary: summaryOf({}, 'planned'), plan };
  }
  // A rollback requested while sipbake's own roll away from that AMI is still active rolls that refresh back.
  const undo = req.kind === 'rollback' ? activeRollFrom(obs, req.image, plan.to.ami) : undefined;
  const refused = refusals(plan).filter((f) => !(undo && f.check === 'noActiveRefresh'));
  if (refused.length)
    throw new UserError(`${req.kind} of ${req.image} onto ${req.deploy.asgName} refused: ${refused.length} check${refused.length === 1 ? '' : 's'} failed`, refused[0]!.fix, {
      details: formatFindings(refused),
    });
  for (const l of formatFindings(plan.findings.filter((f) => f.level === 'warn' || f.level === 'act'))) reporter.line(l.trim(), 'warn');
  if (plan.mode === 'noop' && !undo) {
    reporter.line(`${req.deploy.asgName} already runs ${plan.to.ami}; nothing to roll`, 'success');
    await recordLkgIfMissing(deps, plan, obs);
    return { exitCode: 0, summary: summaryOf({ reasons: [] }, 'noop', await instanceAmis(c, req.deploy.asgName)), plan };
  }

  const ctx: Ctx = { plan, reasons: [] };
  const deploy = req.deploy;
  const watchTarget = (refreshId: string, gated: boolean) => ({
    asgName: deploy.asgName,
    refreshId,
    targetGroups: obs.targetGroups,
    alarms: gated ? deploy.refresh.alarms : [],
    pollSeconds: deploy.pollSeconds,
    ...(gated ? { healthyDeadlineSeconds: deploy.healthyDeadlineSeconds } : {}),
  });
  const tasks = new Listr<Ctx, Renderer, 'simple'>(
    [
      {
        title: undo ? `Stop the active roll ${undo.refreshId}` : plan.mode === 'resume' ? `Attach to refresh ${plan.resumeRefreshId}` : `Start the refresh of ${deploy.asgName} onto ${plan.to.ami}`,
        task: async (ctx, task) => {
          if (undo) {
            ctx.refreshId = undo.refreshId;
            ctx.previous = { ltId: undo.ltId, version: undo.marker.fromVersion, ami: undo.marker.fromAmi };
            ctx.toVersion = undo.marker.fromVersion;
            const reason = `rollback to ${plan.to.ami} requested while sipbake's roll to ${undo.marker.ami} (refresh ${undo.refreshId}) was active`;
            ctx.reasons = [reason];
            ctx.end = { kind: 'gate-failed', reasons: [reason], atMs: deps.clock.now() };
            reporter.line(`${reason}: rolling that refresh back`, 'warn');
            return;
          }
          if (plan.mode === 'resume') {
            ctx.refreshId = plan.resumeRefreshId!;
            const marker = parseMarker(obs.activeDesired?.description)!;
            ctx.previous = { ltId: obs.activeDesired!.ltId, version: marker.fromVersion, ami: marker.fromAmi };
            ctx.toVersion = obs.activeDesired!.version;
            reporter.line(`resuming: refresh ${ctx.refreshId} (sipbake's roll to ${marker.ami}) is still active; attaching to it`);
            return;
          }
          const from = plan.from!;
          ctx.previous = { ltId: from.ltId, version: from.version, ami: from.ami ?? 'unknown' };
          if (plan.findings.some((f) => f.check === 'terminationHook' && f.level === 'act')) {
            await ensureTerminationHook(c, deploy.asgName, deploy.lifecycleHook.name, req.drainMaxSeconds);
            reporter.line(`created termination lifecycle hook ${deploy.lifecycleHook.name}`);
          }
          await recordLkgIfMissing(deps, plan, obs);
          ctx.toVersion = await createVersion(c, from.ltId, from.version, { image: req.image, ami: plan.to.ami, fromVersion: from.version, fromAmi: from.ami ?? 'unknown' });
          task.output = `launch template ${from.ltId} version ${ctx.toVersion}: ImageId ${from.ami} → ${plan.to.ami}`;
          reporter.line(task.output);
          ctx.refreshId = await startRefresh(c, deploy.asgName, from.ltId, ctx.toVersion, plan.preferences);
          reporter.line(`started instance refresh ${ctx.refreshId} (${plan.batches.length} batch(es), expected ${duration(plan.expectedSeconds)})`);
          await tagGroup(c, deploy.asgName, { [TAG_LAST_ROLL]: `started ${req.image} ${plan.to.ami} version ${ctx.toVersion} refresh ${ctx.refreshId}` });
        },
      },
      {
        title: 'Wait for the refresh (health-gated)',
        enabled: () => !undo,
        task: async (ctx, task) => {
          ctx.end = await watchRefresh(
            { clients: c, clock: deps.clock, signal: deps.signal, onProgress: (l) => (task.output = l), onNote: (l) => reporter.line(l, 'warn') },
            watchTarget(ctx.refreshId!, true),
          );
          if (ctx.end.kind === 'status' && ctx.end.status === 'Successful') ctx.outcome = 'succeeded';
          else ctx.reasons = ctx.end.kind === 'gate-failed' ? ctx.end.reasons : [`refresh ${ctx.end.status}${ctx.end.reason ? `: ${ctx.end.reason}` : ''}`];
        },
        rendererOptions: { persistentOutput: true },
      },
      {
        title: 'Roll back to the previous version',
        enabled: (ctx) => ctx.outcome !== 'succeeded',
        task: async (ctx, task) => {
          if (!undo) for (const r of ctx.reasons) reporter.line(`gate failed: ${r}`, 'error');
          const end = ctx.end!;
          const prev = ctx.previous!;
          let refreshId = ctx.refreshId!;
          if (end.kind === 'status' && end.status === 'RollbackInProgress') {
            ctx.rollback = { how: 'aws-rollback', refreshId, gateFailedAtMs: end.atMs, startedAtMs: end.atMs };
            reporter.line(`AWS is already rolling refresh ${refreshId} back; waiting for it`);
          } else {
            const start = await beginRollback(c, deploy.asgName, prev, plan.preferences, () => waitInactive(deps, deploy.asgName, deploy.pollSeconds));
            refreshId = start.refreshId;
            ctx.rollback = { how: start.kind, refreshId, gateFailedAtMs: end.atMs, startedAtMs: deps.clock.now() };
            reporter.line(
              start.kind === 'aws-rollback'
                ? `RollbackInstanceRefresh accepted: AWS rolls ${deploy.asgName} back to version ${prev.version} (${prev.ami})`
                : `${start.why}: started refresh ${refreshId} back to version ${prev.version} (${prev.ami})`,
              'warn',
            );
          }
          const back = await watchRefresh(
            { clients: c, clock: deps.clock, signal: deps.signal, onProgress: (l) => (task.output = l), onNote: (l) => reporter.line(l, 'warn') },
            watchTarget(refreshId, false),
          );
          const ok = back.kind === 'status' && (back.status === 'RollbackSuccessful' || back.status === 'Successful');
          const amis = await instanceAmis(c, deploy.asgName);
          const allBack = amis.length > 0 && amis.every((i) => i.ami === prev.ami);
          ctx.outcome = ok && allBack ? 'rolled-back' : 'rollback-failed';
          if (!ok && back.kind === 'status') ctx.reasons.push(`rollback ended ${back.status}${back.reason ? `: ${back.reason}` : ''}`);
          if (ok && !allBack) ctx.reasons.push(`after the rollback some instances are not on ${prev.ami}: ${amis.filter((i) => i.ami !== prev.ami).map((i) => `${i.id} ${i.ami}`).join(', ')}`);
        },
        rendererOptions: { persistentOutput: true },
      },
      {
        title: 'Record the outcome on the group',
        task: async (ctx) => {
          const at = new Date(deps.clock.now()).toISOString();
          if (ctx.outcome === 'succeeded') {
            await tagGroup(c, deploy.asgName, { [TAG_LAST_KNOWN_GOOD]: formatLkg(ctx.toVersion!, plan.to.ami), [TAG_LAST_ROLL]: `succeeded ${req.image} ${plan.to.ami} ${at}` });
          } else {
            await tagGroup(c, deploy.asgName, { [TAG_LAST_ROLL]: `${ctx.outcome} ${req.image} ${plan.to.ami} ${at}: ${ctx.reasons.join('; ')}` });
          }
        },
      },
    ],
    { renderer: deps.renderer, fallbackRenderer: 'simple', registerSignalListeners: false, exitOnError: true, ctx },
  );
  try {
    await tasks.run();
  } catch (e) {
    if (e instanceof AbortError && ctx.refreshId)
      throw new AbortError(`${e.message}; refresh ${ctx.refreshId} goes on in AWS: run the same command again to attach to it (sipbake status ${req.image} shows it)`);
    throw e;
  }
  const instances = await instanceAmis(c, deploy.asgName);
  const g = await describeGroup(c, deploy.asgName);
  const summary = summaryOf(ctx, ctx.outcome!, instances, g?.launchTemplate?.version);
  reportSummary(reporter, summary);
  const wanted = undo ? 'rolled-back' : 'succeeded';
  return { exitCode: summary.outcome === wanted ? 0 : 1, summary, plan };
}

/** The active refresh, when it is sipbake's roll of this image away from `ami`. */
function activeRollFrom(obs: Observed, image: string, ami: string): { refreshId: string; ltId: string; marker: RollMarker } | undefined {
  const active = obs.refreshes.find((r) => ACTIVE_STATUSES.includes(r.status));
  const marker = parseMarker(obs.activeDesired?.description);
  if (!active || !marker || !obs.activeDesired || marker.image !== image || marker.fromAmi !== ami) return undefined;
  return { refreshId: active.id, ltId: obs.activeDesired.ltId, marker };
}

async function waitInactive(deps: RollDeps, asgName: string, pollSeconds: number): Promise<void> {
  for (;;) {
    const rs = await describeRefreshes(deps.clients, asgName);
    if (!rs.some((r) => ACTIVE_STATUSES.includes(r.status))) return;
    await deps.clock.sleep(pollSeconds * 1000, deps.signal);
  }
}

async function recordLkgIfMissing(deps: RollDeps, plan: RollPlan, obs: Observed): Promise<void> {
  if (!plan.from?.ami || parseLkg(obs.group?.tags[TAG_LAST_KNOWN_GOOD])) return;
  await tagGroup(deps.clients, plan.asgName, { [TAG_LAST_KNOWN_GOOD]: formatLkg(plan.from.version, plan.from.ami) });
}

export function reportSummary(reporter: Reporter, s: RollSummary): void {
  const what = `${s.kind} of ${s.image} (${s.asgName})`;
  const where = `group on launch template version ${s.groupVersion ?? '?'}; instances: ${s.instances.map((i) => `${i.id} ${i.ami}`).join(', ') || 'none'}`;
  if (s.outcome === 'succeeded') reporter.line(`${what} succeeded in ${duration(s.seconds)}: ${s.to.ami} is live and last-known-good; ${where}`, 'success');
  else if (s.outcome === 'rolled-back')
    reporter.line(`${what} FAILED and was rolled back to version ${s.from?.version} (${s.from?.ami}) in ${duration(s.seconds)}: ${s.reasons.join('; ')}; ${where}`, 'error');
  else if (s.outcome === 'rollback-failed')
    reporter.line(`${what} FAILED and the rollback did not finish: ${s.reasons.join('; ')}; ${where}. Fix: sipbake rollback ${s.image} --to ${s.from?.ami}`, 'error');
}
