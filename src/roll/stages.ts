// The roll's stages (effects, shown by tasks.ts): take the lease, start (or attach, or undo), wait behind the
// health gate, roll back when it fails, read the end state. The decisions are the machine's (machine.ts).
import { DeleteTagsCommand } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients.js';
import { aws } from '../aws/errors.js';
import { createVersion, ensureTerminationHook, startRefresh } from './apply.js';
import { describeFleet } from './fleet.js';
import { leaseOwner, RollLease } from './lease.js';
import { initialState, undo, type Action, type MachineParams, type MachineState } from './machine.js';
import { describeGroup } from './observe.js';
import { drive, tagWithRetry, type PerformDeps } from './perform.js';
import type { RollPlan } from './plan.js';
import { instanceLine, refreshLine } from './progress.js';
import { recordLkgIfMissing } from './record.js';
import type { RollDeps, RollRequest } from './run.js';
import { setInFlight } from './summary.js';
import { REJECTED_PREFIX } from './tags.js';
import type { Stage } from './tasks.js';
import { parseMarker, TAG_LAST_ROLL, type Observed } from './types.js';
import { duration } from './format.js';

export interface RollCtx {
  plan: RollPlan;
  obs: Observed;
  req: RollRequest;
  deps: RollDeps;
  lease?: RollLease;
  refreshId?: string;
  toVersion?: number;
  /** Forward AMI the machine gates (in an undo: the AMI being undone). */
  forwardAmi?: string;
  previous?: MachineParams['previous'];
  state?: MachineState;
  pending?: Action[];
  tagFailures: string[];
  end?: { groupVersion?: string; instances: { id: string; ami: string }[] };
}

function performDeps(ctx: RollCtx, setOutput: (t: string) => void): PerformDeps {
  const { deps, req, obs, plan } = ctx;
  return {
    clients: deps.clients,
    clock: deps.clock,
    signal: deps.signal,
    reporter: deps.reporter,
    asgName: req.deploy.asgName,
    targetGroups: obs.targetGroups,
    alarms: req.deploy.refresh.alarms,
    pollSeconds: req.deploy.pollSeconds,
    preferences: plan.preferences,
    onSnap: (o) => setOutput([refreshLine(o), ...o.instances.map(instanceLine)].join('\n')),
    onPoll: () => ctx.lease?.renew() ?? Promise.resolve(),
  };
}

function params(ctx: RollCtx): MachineParams {
  const d = ctx.req.deploy;
  return {
    image: ctx.req.image,
    targetAmi: ctx.forwardAmi!,
    toVersion: ctx.toVersion!,
    previous: ctx.previous!,
    gated: ctx.plan.mode !== 'undo',
    maxReplaced: d.maxReplacedInstances,
    deadlineMs: d.healthyDeadlineSeconds * 1000,
    rollbackDeadlineMs: (d.rollbackDeadlineSeconds ?? Math.max(600, 2 * ctx.plan.worstCaseSeconds + d.healthyDeadlineSeconds)) * 1000,
  };
}

async function start(ctx: RollCtx, setTitle: (t: string) => void): Promise<void> {
  const { plan, obs, req, deps } = ctx;
  const c: AwsClients = deps.clients;
  const d = req.deploy;
  if (plan.mode === 'undo') {
    const u = plan.undo!;
    Object.assign(ctx, { refreshId: u.refreshId, toVersion: parseMarker(obs.activeDesired?.description) ? obs.activeDesired!.version : 0, forwardAmi: u.marker.ami });
    ctx.previous = { ltId: u.ltId, version: u.marker.fromVersion, ami: u.marker.fromAmi };
    const r = undo(u.refreshId, plan.reasons[0]!, deps.clock.now());
    Object.assign(ctx, { state: r.state, pending: r.actions });
  } else if (plan.mode === 'resume') {
    const marker = parseMarker(obs.activeDesired?.description)!;
    Object.assign(ctx, { refreshId: plan.resumeRefreshId!, toVersion: obs.activeDesired!.version, forwardAmi: marker.ami });
    ctx.previous = { ltId: obs.activeDesired!.ltId, version: marker.fromVersion, ami: marker.fromAmi };
    ctx.state = initialState(ctx.refreshId!);
    deps.reporter.line(`resuming: refresh ${ctx.refreshId} (sipbake's roll to ${marker.ami}) is still active; attaching to it`);
  } else {
    const from = plan.from!;
    ctx.previous = { ltId: from.ltId, version: from.version, ami: from.ami ?? 'unknown' };
    ctx.forwardAmi = plan.to.ami;
    if (plan.findings.some((f) => f.check === 'terminationHook' && f.level === 'act')) {
      await ensureTerminationHook(c, d.asgName, d.lifecycleHook.name, req.drainMaxSeconds);
      deps.reporter.line(`created termination lifecycle hook ${d.lifecycleHook.name}`);
    }
    await recordLkgIfMissing(deps, plan, obs);
    // Only now, with the lease held: a refused or raced roll leaves no orphan version behind.
    ctx.toVersion = plan.createVersion
      ? await createVersion(c, from.ltId, from.version, { image: req.image, ami: plan.to.ami, fromVersion: from.version, fromAmi: from.ami ?? 'unknown' })
      : from.version;
    if (plan.createVersion) deps.reporter.line(`launch template ${from.ltId} version ${ctx.toVersion}: ImageId ${from.ami} → ${plan.to.ami}`);
    ctx.refreshId = await startRefresh(c, d.asgName, from.ltId, ctx.toVersion, plan.preferences);
    ctx.state = initialState(ctx.refreshId);
    deps.reporter.line(`started instance refresh ${ctx.refreshId} (${plan.batches.length} batch(es), expected ${duration(plan.expectedSeconds)})`);
    await aws(`tagging ${d.asgName}`, () =>
      tagWithRetry(performDeps(ctx, () => undefined), { [TAG_LAST_ROLL]: `started ${req.image} ${plan.to.ami} version ${ctx.toVersion} refresh ${ctx.refreshId}` }),
    ).catch((e: Error) => ctx.tagFailures.push(`${TAG_LAST_ROLL}: ${e.message}`));
  }
  setInFlight({ image: req.image, asgName: d.asgName, refreshId: ctx.refreshId! });
  setTitle(`Refresh ${ctx.refreshId} → launch template ${ctx.previous!.ltId} version ${ctx.toVersion} (${ctx.forwardAmi})`);
  deps.reporter.event({ event: 'stage', stage: 'refresh', refreshId: ctx.refreshId, mode: plan.mode, launchTemplate: ctx.previous!.ltId, version: ctx.toVersion, ami: ctx.forwardAmi });
}

async function run(ctx: RollCtx, setOutput: (t: string) => void, until: (s: MachineState) => boolean): Promise<void> {
  const r = await drive(performDeps(ctx, setOutput), params(ctx), ctx.state!, ctx.pending ?? [], until);
  ctx.pending = [];
  ctx.state = r.state;
  ctx.tagFailures.push(...r.tagFailures);
}

/** A forced roll of a rejected AMI that succeeded: the rejection no longer holds. */
async function clearRejection(ctx: RollCtx): Promise<void> {
  const key = `${REJECTED_PREFIX}${ctx.forwardAmi}`;
  if (ctx.obs.group?.tags[key] === undefined) return;
  const d = ctx.req.deploy;
  try {
    await ctx.deps.clients.autoScaling.send(new DeleteTagsCommand({ Tags: [{ ResourceId: d.asgName, ResourceType: 'auto-scaling-group', Key: key }] }));
    ctx.deps.reporter.line(`${ctx.forwardAmi} passed the gate: its rejection on ${d.asgName} is cleared`);
  } catch (e) {
    ctx.deps.reporter.line(`could not clear the rejection of ${ctx.forwardAmi} (${(e as Error).message}): remove tag ${key} from ${d.asgName} by hand`, 'warn');
  }
}

export function rollStages(): Stage<RollCtx>[] {
  return [
    {
      name: 'lease',
      title: 'Take the roll lease on the group',
      run: async (ctx, _o, setTitle) => {
        const { deps, req } = ctx;
        ctx.lease = await RollLease.take({ clients: deps.clients, clock: deps.clock, signal: deps.signal, asgName: req.deploy.asgName, image: req.image }, deps.owner ?? leaseOwner());
        setTitle(`Roll lease on ${req.deploy.asgName}: ${ctx.lease.lease.owner} until ${ctx.lease.lease.expiresAt} (renewed while the roll runs)`);
      },
    },
    { name: 'start', title: 'Start the refresh', run: (ctx, _o, setTitle) => start(ctx, setTitle) },
    {
      name: 'wait',
      title: 'Wait for the refresh (health-gated)',
      enabled: (ctx) => ctx.plan.mode !== 'undo',
      run: (ctx, setOutput) => run(ctx, setOutput, (s) => s.phase !== 'rolling'),
      failed: (ctx) => (ctx.state?.phase === 'rolling-back' || ctx.state?.outcome === 'rolled-back' ? `gate failed: ${ctx.state.reasons.join('; ')}` : undefined),
    },
    {
      name: 'rollback',
      title: 'Roll back to the previous version',
      enabled: (ctx) => ctx.state?.phase === 'rolling-back',
      run: async (ctx, setOutput, setTitle) => {
        setTitle(`Roll back to version ${ctx.previous!.version} (${ctx.previous!.ami})`);
        await run(ctx, setOutput, () => false);
      },
      failed: (ctx) => (ctx.state?.outcome === 'rollback-failed' ? `rollback did not finish: ${ctx.state.reasons.at(-1)}` : undefined),
    },
    {
      name: 'end',
      title: 'Read what every instance runs',
      run: async (ctx) => {
        const g = await describeGroup(ctx.deps.clients, ctx.req.deploy.asgName);
        const fleet = g ? await describeFleet(ctx.deps.clients, g, []) : [];
        if (ctx.state?.outcome === 'succeeded') await clearRejection(ctx);
        ctx.end = {
          ...(g?.launchTemplate ? { groupVersion: g.launchTemplate.version } : {}),
          instances: fleet.filter((i) => !i.lifecycleState.startsWith('Terminat')).map((i) => ({ id: i.id, ami: i.ami ?? '' })),
        };
      },
    },
  ];
}
