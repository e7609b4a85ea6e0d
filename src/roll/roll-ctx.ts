// The roll's context, shared by its stages (stages.ts, start.ts): what the plan decided, what the start stage
// established, and the effect dependencies derived from it.
import type { Action, MachineParams, MachineState } from './roll-machine.js';
import type { RollLease } from './lease.js';
import type { PerformDeps } from './perform.js';
import type { RollPlan } from './plan.js';
import { instanceLine, refreshLine } from './progress.js';
import type { RollDeps, RollRequest } from './request.js';
import type { Observed } from './types.js';

/** What the start stage established: the refresh to watch, where it heads, and where a rollback returns. */
export interface Started {
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
  /** The first error a stage threw (listr2 goes on after a stage that shows its failure; this one ends the roll). */
  thrown?: Error;
  end?: { groupVersion?: string; instances: { id: string; ami: string }[] };
}

export function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`internal: ${what} is not known at this stage`);
  return v;
}

export function performDeps(ctx: RollCtx, setOutput: (t: string) => void): PerformDeps {
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
    onState: (s) => {
      ctx.state = s;
    },
  };
}

export function params(ctx: RollCtx): MachineParams {
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
    graceMs: (ctx.obs.group?.healthCheckGracePeriod ?? 0) * 1000,
    rollbackDeadlineMs: (d.rollbackDeadlineSeconds ?? Math.max(600, 2 * ctx.plan.worstCaseSeconds + d.healthyDeadlineSeconds)) * 1000,
  };
}
