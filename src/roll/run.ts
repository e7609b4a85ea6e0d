// Roll orchestration: load (observe) → plan (one decision) → lease → machine (perform.ts) → summary.
// `roll` (newest AMI or --ami) and `rollback` (--to or --previous) share all of it.
import { mapAwsError } from '../aws/errors.js';
import { tagGroup } from './apply.js';
import { describeFleet } from './fleet.js';
import { describeGroup } from './observe.js';
import { retryThrottled } from './retry.js';
import { TAG_LAST_ROLL } from './types.js';
import { AbortError, UserError } from '../core/errors.js';
import { formatFindings, formatPlan } from './format.js';
import { getAmi, listImageAmis } from './images.js';
import { repairRecord } from './record.js';
import { observe } from './observe.js';
import { planRoll, refusals, type RollPlan } from './plan.js';
import { choosePrevious } from './previous.js';
import type { RollCtx } from './roll-ctx.js';
import { rollStages } from './stages.js';
import { reportSummary, type Outcome, type RollSummary } from './summary.js';
import { refreshRecoveryLines } from './recovery.js';
import type { RollDeps, RollRequest } from './request.js';
import { rollTasks } from './tasks.js';
import type { Observed } from './types.js';

export type { Renderer } from './tasks.js';
export type { RollDeps, RollRequest } from './request.js';
export type { RollSummary } from './summary.js';

async function chooseAmi(req: RollRequest, deps: RollDeps, obs: Observed): Promise<string> {
  if (req.ami) return req.ami;
  const amis = await listImageAmis(deps.clients, req.image);
  if (req.previous) {
    const prev = choosePrevious(obs, amis, req.image);
    if (!prev)
      throw new UserError(
        `no earlier AMI of ${req.image} to roll back to`,
        `name one: sipbake rollback ${req.image} --to ami-… (sipbake history ${req.image} lists them)`,
      );
    deps.reporter.line(`previous AMI of ${req.image}: ${prev.ami} (${prev.why})`);
    return prev.ami;
  }
  const newest = amis.find((a) => a.state === 'available');
  if (!newest) throw new UserError(`no available AMI of ${req.image} in ${req.deploy.region}`, `bake one first: sipbake build ${req.image}`);
  return newest.imageId;
}

async function planFor(req: RollRequest, deps: RollDeps): Promise<{ plan: RollPlan; obs: Observed }> {
  const obs = await observe(deps.clients, {
    asgName: req.deploy.asgName,
    targetGroupArns: req.deploy.targetGroupArns,
    alarms: req.deploy.refresh.alarms,
  });
  const ami = await chooseAmi(req, deps, obs);
  obs.target = await getAmi(deps.clients, ami);
  const plan = planRoll({
    obs,
    image: req.image,
    deploy: req.deploy,
    drainMaxSeconds: req.drainMaxSeconds,
    ...(req.mediaAnchored === undefined ? {} : { mediaAnchored: req.mediaAnchored }),
    ...(req.drainPollSeconds ? { drainPollSeconds: req.drainPollSeconds } : {}),
    amiId: ami,
    kind: req.kind,
    force: req.force ?? false,
    nowMs: deps.clock.now(),
  });
  return { obs, plan };
}

/** Once a refresh runs, an interrupt or error only stops sipbake watching it: how to follow it or roll it back. */
function recoveryOf(ctx: RollCtx): string[] {
  const { req, plan } = ctx;
  return ctx.started
    ? refreshRecoveryLines({
        kind: req.kind,
        image: req.image,
        refreshId: ctx.started.refreshId,
        asgName: req.deploy.asgName,
        region: req.deploy.region,
        to: plan.to.ami,
        ...(plan.from?.ami ? { from: plan.from.ami } : {}),
      })
    : [];
}

/** An error that ends a started roll keeps its sentence and fix, and gains the recovery lines. */
function withRecovery(e: unknown, lines: string[]): unknown {
  if (e instanceof UserError) return new UserError(e.message, e.fix, { cause: e.cause ?? e, details: [...e.details, ...lines], exitCode: e.exitCode });
  const mapped = mapAwsError(e, 'watching the refresh');
  if (mapped) return withRecovery(mapped, lines);
  return new UserError(`watching the refresh failed: ${e instanceof Error ? e.message : String(e)}`, 'follow the refresh with the commands below', {
    cause: e,
    details: lines,
  });
}

/** The re-run of an interrupted roll whose refresh has ended since: record and report that end (nothing to start). */
async function finishInterrupted(
  req: RollRequest,
  deps: RollDeps,
  plan: RollPlan,
  summaryOf: (o: Outcome, extra?: Partial<RollSummary>) => RollSummary,
): Promise<{ exitCode: number; summary: RollSummary; plan: RollPlan }> {
  const f = plan.finish;
  if (!f) throw new Error('internal: a finish plan without the refresh it finishes');
  const outcome: Outcome = f.status === 'RollbackSuccessful' ? 'rolled-back' : 'rollback-failed';
  const at = new Date(deps.clock.now()).toISOString();
  const unrecorded: string[] = [];
  await retryThrottled({ clock: deps.clock, signal: deps.signal }, () =>
    tagGroup(deps.clients, req.deploy.asgName, { [TAG_LAST_ROLL]: `${outcome} ${req.image} ${plan.to.ami} ${at}: ${plan.reasons.join('; ')}`.slice(0, 256) }),
  ).catch((e: unknown) => unrecorded.push(`${TAG_LAST_ROLL}: ${(e as Error).message}`));
  const g = await describeGroup(deps.clients, req.deploy.asgName);
  const fleet = g ? await describeFleet(deps.clients, g, []) : [];
  const summary = summaryOf(outcome, {
    refreshId: f.refreshId,
    ...(g?.launchTemplate ? { groupVersion: g.launchTemplate.version } : {}),
    instances: fleet.filter((i) => !i.lifecycleState.startsWith('Terminat')).map((i) => ({ id: i.id, ami: i.ami ?? '' })),
    ...(unrecorded.length ? { unrecorded } : {}),
  });
  reportSummary(deps.reporter, summary);
  return { exitCode: 1, summary, plan };
}

/** Lease, start, wait, rollback, end: the stages, with the recovery lines kept where the CLI reads them. */
async function watch(ctx: RollCtx): Promise<void> {
  const { deps } = ctx;
  const unregister = deps.onInterrupt?.(() => recoveryOf(ctx));
  let keep = false;
  try {
    await rollTasks(rollStages(), ctx, deps.renderer, deps.reporter, () => deps.clock.now()).run();
    if (ctx.thrown !== undefined) throw ctx.thrown;
    // A stage that shows its failure and lets the next run (the gate) swallows an interrupt: raise it here.
    deps.signal.throwIfAborted();
  } catch (e) {
    const notice = recoveryOf(ctx);
    if (!notice.length) throw e;
    if (!(deps.signal.aborted || e instanceof AbortError)) throw withRecovery(e, notice);
    // The CLI prints the registered lines after runRoll returns (main.ts): they stay registered until then.
    keep = deps.onInterrupt !== undefined;
    if (keep) throw e;
    // Without the CLI's interrupt path (tests, library use) the recovery lines travel in the error.
    throw new AbortError(`${e instanceof Error ? e.message : String(e)}; ${notice.join('\n')}`);
  } finally {
    if (!keep) unregister?.();
    await ctx.lease?.release();
  }
}

export async function runRoll(req: RollRequest, deps: RollDeps): Promise<{ exitCode: number; summary: RollSummary; plan: RollPlan }> {
  const started = deps.clock.now();
  const { reporter } = deps;
  const { plan, obs } = await planFor(req, deps);
  const base = {
    image: req.image,
    asgName: req.deploy.asgName,
    kind: req.kind,
    to: { ami: plan.to.ami },
    reasons: plan.reasons,
    instances: [] as RollSummary['instances'],
  };
  const summaryOf = (outcome: Outcome, extra: Partial<RollSummary> = {}): RollSummary => ({
    ...base,
    outcome,
    ...(plan.from ? { from: { version: plan.from.version, ...(plan.from.ami ? { ami: plan.from.ami } : {}) } } : {}),
    ...extra,
    seconds: Math.round((deps.clock.now() - started) / 1000),
  });
  if (req.planOnly) {
    for (const l of formatPlan(plan)) reporter.line(l);
    return { exitCode: refusals(plan).length ? 1 : 0, summary: summaryOf('planned'), plan };
  }
  const refused = refusals(plan);
  if (refused.length)
    throw new UserError(
      `${req.kind} of ${req.image} onto ${req.deploy.asgName} refused: ${refused.length} check${refused.length === 1 ? '' : 's'} failed`,
      refused[0]?.fix,
      {
        details: formatFindings(refused),
      },
    );
  for (const l of formatFindings(plan.findings.filter((f) => f.level === 'warn' || f.level === 'act'))) reporter.line(l.trim(), 'warn');
  if (plan.mode === 'noop') {
    reporter.line(`${req.deploy.asgName} already runs ${plan.to.ami} (launch template and every instance); nothing to roll`, 'success');
    const fixed = await repairRecord(deps, plan, obs);
    const instances = (obs.fleet ?? []).filter((i) => !i.lifecycleState.startsWith('Terminat')).map((i) => ({ id: i.id, ami: i.ami ?? '' }));
    return {
      exitCode: fixed.failed.length ? 1 : 0,
      summary: summaryOf('noop', {
        reasons: [...plan.reasons, ...fixed.notes],
        instances,
        ...(fixed.failed.length ? { unrecorded: fixed.failed } : {}),
      }),
      plan,
    };
  }
  if (plan.mode === 'finish') return finishInterrupted(req, deps, plan, summaryOf);
  if (deps.confirm && !(await deps.confirm(plan)))
    throw new UserError(`${req.kind} of ${req.image} not confirmed; nothing changed`, 'run it again and answer y, or pass --yes');

  const ctx: RollCtx = { plan, obs, req, deps, tagFailures: [] };
  await watch(ctx);
  const s = ctx.state;
  const summary = summaryOf(s?.outcome ?? 'rollback-failed', {
    ...(ctx.started ? { refreshId: ctx.started.refreshId } : {}),
    to: { ami: plan.to.ami, ...(ctx.started?.toVersion ? { version: ctx.started.toVersion } : {}) },
    reasons: s?.reasons ?? plan.reasons,
    ...(s?.rollback
      ? {
          rollback: {
            how: s.rollback.how,
            refreshId: s.rollback.refreshId,
            gateFailedAtMs: s.gateFailedAtMs ?? s.rollback.startedAtMs,
            startedAtMs: s.rollback.startedAtMs,
          },
        }
      : {}),
    ...(ctx.end ? { groupVersion: ctx.end.groupVersion, instances: ctx.end.instances } : {}),
    ...(ctx.tagFailures.length ? { unrecorded: ctx.tagFailures } : {}),
  });
  reportSummary(reporter, summary);
  const wanted = plan.mode === 'undo' ? 'rolled-back' : 'succeeded';
  return { exitCode: summary.outcome === wanted && !summary.unrecorded ? 0 : 1, summary, plan };
}
