// The roll's stages (effects, shown by tasks.ts): take the lease, start (or attach, or undo), wait behind the
// health gate, roll back when it fails, read the end state. The decisions are the machine's (machine.ts).
import { describeFleet } from './fleet.js';
import { leaseOwner, RollLease } from './lease.js';
import { type MachineState } from './machine.js';
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
        if (ctx.state?.outcome === 'succeeded' && ami) await clearRejection(ctx.deps, ctx.req.deploy.asgName, ami, ctx.obs.group?.tags ?? {});
        ctx.end = {
          ...(g?.launchTemplate ? { groupVersion: g.launchTemplate.version } : {}),
          instances: fleet.filter((i) => !i.lifecycleState.startsWith('Terminat')).map((i) => ({ id: i.id, ami: i.ami ?? '' })),
        };
      },
    },
  ];
}
