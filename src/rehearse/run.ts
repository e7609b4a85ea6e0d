import os from 'node:os';
import path from 'node:path';
import { awaitCalls, summarize } from './report.js';
import { fleetUp, networkUp, serveRegion } from './fleet.js';
import { preflight, removeStale, removeStaleDirs, usePinnedBinaries } from './host.js';
import { prepareImage, type RehearsalImage } from './image.js';
import { awaitFirstCalls, loadUp } from './load.js';
import { bakeImages } from './baked-instance.js'; // r4-baked: --baked
import { planRehearsal, type RehearsalPlan } from './plan.js';
import { closeRig, event, openRig, type Rig } from './rig.js';
import { roll } from './roll-phase.js';
import type { RehearsalSummary, RehearseOptions } from './types.js';

// The rehearsal, in phases: plan (pure timings), images, network up, fleet up (the old image's instances behind the
// NLB), load (live calls and the trunk), roll (controller.ts until every instance runs the new image), measure and
// report; the rig (rig.ts) removes every namespace and process it made in `finally`, on Ctrl-C and on errors.

export type { RehearsalSummary, RehearseOptions, TimelineEntry } from './types.js';

/** The old image and the new one (default: the same definition rendered again). */
async function images(rig: Rig, plan: RehearsalPlan): Promise<{ old: RehearsalImage; new: RehearsalImage }> {
  const { o } = rig;
  const patch = { scale: o.scale, hookTimeoutSeconds: o.hookTimeoutSeconds };
  const oldImg = await prepareImage(o.root, o.image, path.join(rig.dir, 'old'), patch);
  const newImg = await prepareImage(o.root, o.to ?? o.image, path.join(rig.dir, 'new'), patch);
  event(
    rig,
    'rehearsal',
    `${oldImg.name} → ${newImg.name}: ${o.instances} instance(s), ${o.calls} call(s) of ${plan.hold.minMs / 1000}-${plan.hold.maxMs / 1000} s, time scale 1/${o.scale}`,
  );
  if (o.baked) await bakeImages(rig, { old: oldImg, new: newImg }); // r4-baked: two local bakes
  return { old: oldImg, new: newImg };
}

export async function rehearse(o: RehearseOptions): Promise<RehearsalSummary> {
  usePinnedBinaries(o.log ?? (() => undefined));
  await preflight();
  await removeStale(o.log ?? (() => undefined));
  await removeStaleDirs(os.tmpdir(), o.log ?? (() => undefined));
  const plan = planRehearsal(o);
  const rig = await openRig(o);
  try {
    const imgs = await images(rig, plan);
    // The callers dial the old image's port; the new image's Via and Record-Route advertise its own port.
    await networkUp(rig, plan, [imgs.old.port, imgs.new.port]);
    const fleet = await serveRegion(rig, plan, imgs);
    await fleetUp(rig, fleet, imgs.old);
    const load = await loadUp(rig, plan, imgs.old, imgs.new);
    await awaitFirstCalls(rig, fleet, plan);
    const rec = await roll(rig, fleet, load, plan, imgs);
    const callsEnded = await awaitCalls(rig, plan, load);
    return await summarize(rig, fleet, plan, load, rec, imgs, callsEnded);
  } finally {
    await closeRig(rig);
  }
}
