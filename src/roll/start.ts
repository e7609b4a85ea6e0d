// The start stage of a roll (effects): a new refresh (launch template version first), an attach to our own
// active one, or the undo of our own roll; it records what it started on the group.
import type { AwsClients } from '../aws/clients.js';
import { aws } from '../aws/errors.js';
import { createVersion, ensureTerminationHook, startRefresh } from './apply.js';
import { initialState, resumedState, undo } from './roll-machine.js';
import { tagWithRetry } from './perform.js';
import { pruneRejections, recordLkgIfMissing } from './record.js';
import { TAG_LAST_ROLL } from './types.js';
import { duration } from './format.js';
import { formatLastRoll } from './tags.js';

import { need, performDeps, type RollCtx, type Started } from './roll-ctx.js';

/** Undo: sipbake's own active roll away from the requested AMI is rolled back. */
function startUndo(ctx: RollCtx): Started {
  const u = need(ctx.plan.undo, 'the roll to undo');
  const r = undo(u.refreshId, ctx.plan.reasons[0] ?? 'rollback requested', ctx.deps.clock.now());
  Object.assign(ctx, { state: r.state, pending: r.actions });
  return {
    refreshId: u.refreshId,
    toVersion: u.toVersion,
    forwardAmi: u.marker.ami,
    previous: { ltId: u.ltId, version: u.marker.fromVersion, ami: u.marker.fromAmi },
  };
}

/** Resume: attach to the refresh sipbake started for this AMI. */
function startResume(ctx: RollCtx): Started {
  const { refreshId, ltId, toVersion, marker } = need(ctx.plan.resume, 'the refresh to resume');
  ctx.state = resumedState(refreshId, ctx.obs.group?.tags ?? {});
  const counted = Object.keys(ctx.state.bad).length;
  ctx.deps.reporter.line(
    `resuming: refresh ${refreshId} (sipbake's roll to ${marker.ami}) is still active; attaching to it${counted ? ` (the gate already counts ${counted} bad instance(s))` : ''}`,
  );
  return {
    refreshId,
    toVersion,
    forwardAmi: marker.ami,
    previous: { ltId, version: marker.fromVersion, ami: marker.fromAmi },
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
  if (pruned.length) deps.reporter.line(`dropped the oldest rejections from ${d.asgName} (50 tags per group): ${pruned.join(', ')}`);
  // A refused or raced roll never gets here, so it leaves no orphan version behind.
  const toVersion = plan.createVersion
    ? await createVersion(c, from.ltId, from.version, {
        image: req.image,
        ami: plan.to.ami,
        fromVersion: from.version,
        fromAmi: from.ami ?? 'unknown',
      })
    : from.version;
  if (plan.createVersion) deps.reporter.line(`launch template ${from.ltId} version ${toVersion}: ImageId ${from.ami} → ${plan.to.ami}`);
  const refreshId = await startRefresh(c, d.asgName, from.ltId, toVersion, plan.preferences);
  ctx.state = initialState(refreshId);
  deps.reporter.line(`started instance refresh ${refreshId} (${plan.batches.length} batch(es), expected ${duration(plan.expectedSeconds)})`);
  await aws(`tagging ${d.asgName}`, () =>
    tagWithRetry(
      performDeps(ctx, () => undefined),
      { [TAG_LAST_ROLL]: formatLastRoll({ image: req.image, ami: plan.to.ami, version: toVersion, refreshId }) },
    ),
  ).catch((e: unknown) => ctx.tagFailures.push(`${TAG_LAST_ROLL}: ${e instanceof Error ? e.message : String(e)}`));
  return {
    refreshId,
    toVersion,
    forwardAmi: plan.to.ami,
    previous: { ltId: from.ltId, version: from.version, ami: from.ami ?? 'unknown' },
  };
}

export async function start(ctx: RollCtx, setTitle: (t: string) => void): Promise<void> {
  const { plan, deps } = ctx;
  const st = plan.mode === 'undo' ? startUndo(ctx) : plan.mode === 'resume' ? startResume(ctx) : await startNew(ctx);
  ctx.started = st;
  setTitle(`Refresh ${st.refreshId} → launch template ${st.previous.ltId} version ${st.toVersion} (${st.forwardAmi})`);
  deps.reporter.event({
    event: 'refresh',
    refreshId: st.refreshId,
    mode: plan.mode,
    launchTemplate: st.previous.ltId,
    version: st.toVersion,
    ami: st.forwardAmi,
  });
}
