// The roll's stages (effects, shown by tasks.ts): take the lease, start (or attach, or undo), wait behind the
// health gate, roll back when it fails, read the end state. The decisions are the machine's (machine.ts).
import type { AwsClients } from '../aws/clients.js';
import { aws } from '../aws/errors.js';
import { createVersion, ensureTerminationHook, startRefresh } from './apply.js';
import { describeFleet } from './fleet.js';
import { leaseOwner, RollLease } from './lease.js';
import { initialState, resumedState, undo, type Action, type MachineParams, type MachineState } from './machine.js';
import { describeGroup } from './observe.js';
import { drive, tagWithRetry, type PerformDeps } from './perform.js';
import type { RollPlan } from './plan.js';
import { instanceLine, refreshLine } from './progress.js';
import { clearRejection, pruneRejections, recordLkgIfMissing } from './record.js';
import type { RollDeps, RollRequest } from './request.js';
import type { Stage } from './tasks.js';
import { parseMarker, TAG_LAST_ROLL, type Observed } from './types.js';
import { duration } from './format.js';

/** What the start stage established: the refresh to watch, where it heads, and where a rollback returns. */
interface Started {
  refreshId: string;
  toVersion: number;
  /** Forward AMI the machine gates (in an undo: the AMI being undone). */
  forwardAmi: string;
  previous: MachineParams['previous'];
}

export interface RollCtx {
  plan: RollPlan;
  obs: Observed;
  req: RollRequest;
  deps: RollDeps;
  lease?: RollLease;
  started?: Started;
  state?: MachineState;
  pending?: Action[];
  tagFailures: string[];
  end?: { groupVersion?: string; instances: { id: string; ami: string }[] };
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`internal: ${what} is not known at this stage`);
  return v;
}

function performDeps(ctx: RollCtx, setOutput: (t: string) => void): PerformDeps {
  const { deps, req, obs, plan } = ctx;
  // Only changes are shown, so the plain renderer in CI prints a block per change, not one per poll.
  let last = '';
  const show = (text: string) => {
    if (text !== last) setOutput(text);
    last = text;
  };
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
    onSnap: (o) => show([refreshLine(o), ...o.instances.map(instanceLine)].join('\n')),
    onPoll: () => ctx.lease?.renew() ?? Promise.resolve(),
  };
}

function params(ctx: RollCtx): MachineParams {
  const d = ctx.req.deploy;
  const st = need(ctx.started, 'the refresh');
  return {
    image: ctx.req.image,
    targetAmi: st.forwardAmi,
    toVersion: st.toVersion,
    previous: st.previous,
    gated: ctx.plan.mode !== 'undo',
    maxReplaced: d.maxReplacedInstances,
    deadlineMs: d.healthyDeadlineSeconds * 1000,
    rollbackDeadlineMs:
      (d.rollbackDeadlineSeconds ?? Math.max(600, 2 * ctx.plan.worstCaseSeconds + d.healthyDeadlineSeconds)) * 1000,
  };
}

/** Undo: sipbake's own active roll away from the requested AMI is rolled back. */
function startUndo(ctx: RollCtx): Started {
  const u = need(ctx.plan.undo, 'the roll to undo');
  const r = undo(u.refreshId, ctx.plan.reasons[0] ?? 'rollback requested', ctx.deps.clock.now());
  Object.assign(ctx, { state: r.state, pending: r.actions });
  return {
    refreshId: u.refreshId,
    toVersion: ctx.obs.activeDesired?.version ?? 0,
    forwardAmi: u.marker.ami,
    previous: { ltId: u.ltId, version: u.marker.fromVersion, ami: u.marker.fromAmi },
  };
}

/** Resume: attach to the refresh sipbake started for this AMI. */
function startResume(ctx: RollCtx): Started {
  const v = need(ctx.obs.activeDesired, 'the active refresh version');
  const marker = need(parseMarker(v.description), 'the active roll marker');
  const refreshId = need(ctx.plan.resumeRefreshId, 'the refresh to resume');
  ctx.state = resumedState(refreshId, ctx.obs.group?.tags ?? {});
  const counted = Object.keys(ctx.state.bad).length;
  ctx.deps.reporter.line(
    `resuming: refresh ${refreshId} (sipbake's roll to ${marker.ami}) is still active; attaching to it${counted ? ` (the gate already counts ${counted} bad instance(s))` : ''}`,
  );
  return {
    refreshId,
    toVersion: v.version,
    forwardAmi: marker.ami,
    previous: { ltId: v.ltId, version: marker.fromVersion, ami: marker.fromAmi },
  };
}

/** Start: hook, last-known-good, launch template version (only now, with the lease held), refresh. */
async function startNew(ctx: RollCtx): Promise<Started> {
  const { plan, obs, req, deps } = ctx;
  const c: AwsClients = deps.clients;
  const d = req.deploy;
  const from = need(plan.from, 'the live launch template version');
  if (plan.findings.some((f) => f.check === 'terminationHook' && f.level === 'act')) {
    await ensureTerminationHook(c, d.asgName, d.lifecycleHook.name, req.drainMaxSeconds);
    deps.reporter.line(`created termination lifecycle hook ${d.lifecycleHook.name}`);
  }
  await recordLkgIfMissing(deps, plan, obs);
  const pruned = await pruneRejections(deps, d.asgName, obs.group?.tags ?? {});
  if (pruned.length)
    deps.reporter.line(`dropped the oldest rejections from ${d.asgName} (50 tags per group): ${pruned.join(', ')}`);
  // A refused or raced roll never gets here, so it leaves no orphan version behind.
  const toVersion = plan.createVersion
    ? await createVersion(c, from.ltId, from.version, {
        image: req.image,
        ami: plan.to.ami,
        fromVersion: from.version,
        fromAmi: from.ami ?? 'unknown',
      })
    : from.version;
  if (plan.createVersion)
    deps.reporter.line(`launch template ${from.ltId} version ${toVersion}: ImageId ${from.ami} → ${plan.to.ami}`);
  const refreshId = await startRefresh(c, d.asgName, from.ltId, toVersion, plan.preferences);
  ctx.state = initialState(refreshId);
  deps.reporter.line(
    `started instance refresh ${refreshId} (${plan.batches.length} batch(es), expected ${duration(plan.expectedSeconds)})`,
  );
  await aws(`tagging ${d.asgName}`, () =>
    tagWithRetry(
      performDeps(ctx, () => undefined),
      { [TAG_LAST_ROLL]: `started ${req.image} ${plan.to.ami} version ${toVersion} refresh ${refreshId}` },
    ),
  ).catch((e: Error) => ctx.tagFailures.push(`${TAG_LAST_ROLL}: ${e.message}`));
  return {
    refreshId,
    toVersion,
    forwardAmi: plan.to.ami,
    previous: { ltId: from.ltId, version: from.version, ami: from.ami ?? 'unknown' },
  };
}

async function start(ctx: RollCtx, setTitle: (t: string) => void): Promise<void> {
  const { plan, deps } = ctx;
  const st = plan.mode === 'undo' ? startUndo(ctx) : plan.mode === 'resume' ? startResume(ctx) : await startNew(ctx);
  ctx.started = st;
  setTitle(`Refresh ${st.refreshId} → launch template ${st.previous.ltId} version ${st.toVersion} (${st.forwardAmi})`);
  deps.reporter.event({
    event: 'stage',
    stage: 'refresh',
    refreshId: st.refreshId,
    mode: plan.mode,
    launchTemplate: st.previous.ltId,
    version: st.toVersion,
    ami: st.forwardAmi,
  });
}

async function run(ctx: RollCtx, setOutput: (t: string) => void, until: (s: MachineState) => boolean): Promise<void> {
  const r = await drive(
    performDeps(ctx, setOutput),
    params(ctx),
    need(ctx.state, 'the machine state'),
    ctx.pending ?? [],
    until,
  );
  ctx.pending = [];
  ctx.state = r.state;
  ctx.tagFailures.push(...r.tagFailures);
}

export function rollStages(): Stage<RollCtx>[] {
  return [
    {
      name: 'lease',
      title: 'Take the roll lease on the group',
      run: async (ctx, _o, setTitle) => {
        const { deps, req } = ctx;
        ctx.lease = await RollLease.take(
          {
            clients: deps.clients,
            clock: deps.clock,
            signal: deps.signal,
            asgName: req.deploy.asgName,
            image: req.image,
          },
          deps.owner ?? leaseOwner(),
        );
        setTitle(
          `Roll lease on ${req.deploy.asgName}: ${ctx.lease.lease.owner} until ${ctx.lease.lease.expiresAt} (renewed while the roll runs)`,
        );
      },
    },
    { name: 'start', title: 'Start the refresh', run: (ctx, _o, setTitle) => start(ctx, setTitle) },
    {
      name: 'wait',
      title: 'Wait for the refresh (health-gated)',
      enabled: (ctx) => ctx.plan.mode !== 'undo',
      run: (ctx, setOutput) => run(ctx, setOutput, (s) => s.phase !== 'rolling'),
      failed: (ctx) =>
        ctx.state?.phase === 'rolling-back' || ctx.state?.outcome === 'rolled-back'
          ? `gate failed: ${ctx.state.reasons.join('; ')}`
          : undefined,
    },
    {
      name: 'rollback',
      title: 'Roll back to the previous version',
      enabled: (ctx) => ctx.state?.phase === 'rolling-back',
      run: async (ctx, setOutput, setTitle) => {
        const prev = need(ctx.started, 'the refresh').previous;
        setTitle(`Roll back to version ${prev.version} (${prev.ami})`);
        await run(ctx, setOutput, () => false);
      },
      failed: (ctx) =>
        ctx.state?.outcome === 'rollback-failed' ? `rollback did not finish: ${ctx.state.reasons.at(-1)}` : undefined,
    },
    {
      name: 'end',
      title: 'Read what every instance runs',
      run: async (ctx) => {
        const g = await describeGroup(ctx.deps.clients, ctx.req.deploy.asgName);
        const fleet = g ? await describeFleet(ctx.deps.clients, g, []) : [];
        const ami = ctx.started?.forwardAmi;
        if (ctx.state?.outcome === 'succeeded' && ami)
          await clearRejection(ctx.deps, ctx.req.deploy.asgName, ami, ctx.obs.group?.tags ?? {});
        ctx.end = {
          ...(g?.launchTemplate ? { groupVersion: g.launchTemplate.version } : {}),
          instances: fleet
            .filter((i) => !i.lifecycleState.startsWith('Terminat'))
            .map((i) => ({ id: i.id, ami: i.ami ?? '' })),
        };
      },
    },
  ];
}
