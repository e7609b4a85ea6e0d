// Roll orchestration: load (observe) → plan (one decision) → lease → machine (perform.ts) → summary.
// `roll` (newest AMI or --ami) and `rollback` (--to or --previous) share all of it.
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
  if (deps.confirm && !(await deps.confirm(plan)))
    throw new UserError(`${req.kind} of ${req.image} not confirmed; nothing changed`, 'run it again and answer y, or pass --yes');

  const ctx: RollCtx = { plan, obs, req, deps, tagFailures: [] };
  // Once a refresh runs, an interrupt only stops sipbake watching it: say how to follow it or roll it back.
  const recovery = () =>
    ctx.started
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
  const unregister = deps.onInterrupt?.(recovery);
  try {
    await rollTasks(rollStages(), ctx, deps.renderer, reporter, () => deps.clock.now()).run();
    // A stage that shows its failure and lets the next run (the gate) swallows an interrupt: raise it here.
    deps.signal.throwIfAborted();
  } catch (e) {
    // Without the CLI's interrupt path (tests, library use) the recovery lines travel in the error.
    const notice = recovery();
    if (e instanceof AbortError && notice.length && !deps.onInterrupt) throw new AbortError(`${e.message}; ${notice.join('\n')}`);
    throw e;
  } finally {
    unregister?.();
    await ctx.lease?.release();
  }
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
