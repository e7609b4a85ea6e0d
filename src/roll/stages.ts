// The roll's stages (effects, shown by tasks.ts): take the lease, start (or attach, or undo), wait behind the
// health gate, roll back when it fails, read the end state. The decisions are the machine's (roll-machine.ts).
import { describeFleet } from './fleet.js';
import { offTarget } from './gate.js';
import { tagWithRetry } from './perform.js';
import { TAG_LAST_ROLL, type FleetInstance } from './types.js';
import { leaseOwner, RollLease } from './lease.js';
import { type MachineState } from './roll-machine.js';
import { describeGroup } from './observe.js';
import { drive } from './perform.js';
import { clearRejection } from './record.js';
import type { Stage } from './tasks.js';

import { need, params, performDeps, type RollCtx } from './roll-ctx.js';
import { start } from './start.js';

async function run(ctx: RollCtx, setOutput: (t: string) => void, until: (s: MachineState) => boolean): Promise<void> {
  const r = await drive(performDeps(ctx, setOutput), params(ctx), need(ctx.state, 'the machine state'), ctx.pending ?? [], until);
  ctx.pending = [];
  ctx.state = r.state;
  ctx.tagFailures.push(...r.tagFailures);
}

/** AWS called the refresh Successful but some instances in service run another AMI: say which, record it. */
async function recordMixed(ctx: RollCtx, ami: string, off: FleetInstance[]): Promise<void> {
  const state = need(ctx.state, 'the machine state');
  const where = (i: FleetInstance) => `${i.id} ${i.ami ?? `version ${i.ltVersion ?? '?'}`}${i.lifecycleState === 'Standby' ? ' (Standby)' : ''}`;
  const reason = `${off.length} instance(s) in service or in Standby still run another AMI: ${off.map(where).join(', ')} (launched from the old configuration during the refresh, or protected/standby instances it ignored)`;
  ctx.state = { ...state, outcome: 'mixed', reasons: [...state.reasons, reason] };
  const at = new Date(ctx.deps.clock.now()).toISOString();
  await tagWithRetry(
    performDeps(ctx, () => undefined),
    { [TAG_LAST_ROLL]: `mixed ${ctx.req.image} ${ami} ${at}: ${reason}`.slice(0, 256) },
  ).catch((e: unknown) => ctx.tagFailures.push(`${TAG_LAST_ROLL}: ${(e as Error).message}`));
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
        setTitle(`Roll lease on ${req.deploy.asgName}: ${ctx.lease.lease.owner} until ${ctx.lease.lease.expiresAt} (renewed while the roll runs)`);
      },
    },
    { name: 'start', title: 'Start the refresh', run: (ctx, _o, setTitle) => start(ctx, setTitle) },
    {
      name: 'wait',
      title: 'Wait for the refresh (health-gated)',
      enabled: (ctx) => ctx.plan.mode !== 'undo',
      run: (ctx, setOutput) => run(ctx, setOutput, (s) => s.phase !== 'rolling'),
      failed: (ctx) =>
        ctx.state?.phase === 'rolling-back' || ctx.state?.outcome === 'rolled-back' ? `gate failed: ${ctx.state.reasons.join('; ')}` : undefined,
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
      failed: (ctx) => (ctx.state?.outcome === 'rollback-failed' ? `rollback did not finish: ${ctx.state.reasons.at(-1)}` : undefined),
    },
    {
      name: 'end',
      title: 'Read what every instance runs',
      run: async (ctx) => {
        const g = await describeGroup(ctx.deps.clients, ctx.req.deploy.asgName);
        const fleet = g ? await describeFleet(ctx.deps.clients, g, []) : [];
        const ami = ctx.started?.forwardAmi;
        if (ctx.state?.outcome === 'succeeded' && ami) {
          const off = offTarget(fleet, { targetAmi: ami, toVersion: need(ctx.started, 'the refresh').toVersion });
          if (off.length) await recordMixed(ctx, ami, off);
          else await clearRejection(ctx.deps, ctx.req.deploy.asgName, ami, ctx.obs.group?.tags ?? {});
        }
        ctx.end = {
          ...(g?.launchTemplate ? { groupVersion: g.launchTemplate.version } : {}),
          instances: fleet.filter((i) => !i.lifecycleState.startsWith('Terminat')).map((i) => ({ id: i.id, ami: i.ami ?? '' })),
        };
      },
    },
  ];
}
