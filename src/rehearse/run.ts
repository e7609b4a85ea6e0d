import os from 'node:os';
import path from 'node:path';
import { awaitCalls, summarize } from './report.js';
import { fleetUp, networkUp, serveRegion } from './fleet.js';
import { preflight, removeStale, removeStaleDirs, removeStaleMachines, usePinnedBinaries } from './host.js';
import { prepareImage, type RehearsalImage } from './image.js';
import { awaitFirstCalls, loadUp } from './load.js';
import { bakeImages } from './baked-instance.js'; // r4-baked: --baked
import { planRehearsal, type RehearsalPlan } from './plan.js';
import { closeRig, event, openRig, type Rig } from './rig.js';
import { modelRegion, roll, rollDefinition } from './roll-phase.js';
import type { RehearsalSummary, RehearseOptions } from './types.js';

// The rehearsal, in phases: plan (pure timings), images, network up, fleet up (the old image's instances behind the
// NLB), load (live calls and the trunk), roll (`sipbake roll`'s engine on the region model, reflected onto the rig), measure and
// report; the rig (rig.ts) removes every namespace and process it made in `finally`, on Ctrl-C and on errors.

export type { RehearsalSummary, RehearseOptions, TimelineEntry } from './types.js';

/** The old image and the new one (default: the same definition rendered again). */
async function images(rig: Rig, plan: RehearsalPlan): Promise<{ old: RehearsalImage; new: RehearsalImage }> {
  const { o } = rig;
  const patch = { scale: o.scale, hookTimeoutSeconds: o.hookTimeoutSeconds, ...(o.mediaAddress ? { mediaAddress: o.mediaAddress } : {}) };
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
  await removeStaleMachines(o.log ?? (() => undefined));
  // Work directories live under TMPDIR, or /tmp when TMPDIR is too long for a ctl socket (src/try/run-dir.ts).
  for (const tmp of new Set([os.tmpdir(), '/tmp'])) await removeStaleDirs(tmp, o.log ?? (() => undefined));
  const plan = planRehearsal(o);
  const rig = await openRig(o);
  try {
    const def = await rollDefinition(rig);
    const imgs = await images(rig, plan);
    // The callers dial the old image's port; the new image's Via and Record-Route advertise its own port.
    await networkUp(rig, plan, [imgs.old.port, imgs.new.port], imgs.old.mediaOwnAddress ? imgs.old.rtpPorts : undefined);
    const fleet = await serveRegion(rig, imgs, modelRegion(rig, def));
    await fleetUp(rig, fleet, imgs.old);
    const load = await loadUp(rig, plan, imgs.old, imgs.new, fleet);
    await awaitFirstCalls(rig, fleet, plan);
    const rolled = await roll(rig, fleet, load, def, imgs);
    const callsEnded = await awaitCalls(rig, plan, load);
    return await summarize(rig, fleet, plan, load, rolled, imgs, callsEnded);
  } finally {
    await closeRig(rig);
  }
}
