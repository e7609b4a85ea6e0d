// The roll: the same code as `sipbake roll IMAGE --ami <new> --yes` (src/roll/run.ts runRoll: preflight, launch
// template version, StartInstanceRefresh, the gate, rollback, lease, summary), with real SDK v3 clients the region
// model answers and a Clock on the model's scaled time. The model does the refresh (launch before terminate,
// lifecycle hooks, deregistration delay, health replacement); reflect.ts carries what it does onto the rig.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { UserError } from '../core/errors.js';
import type { Reporter } from '../core/reporter.js';
import type { ImageDefinition } from '../definition/schema.js';
import { runRoll, type RollSummary } from '../roll/run.js';
import type { Fleet } from './fleet.js';
import { SLOW_BOOT_AWS_SECONDS } from './fleet.js';
import type { RehearsalImage } from './image.js';
import { endLoad, type Load } from './load.js';
import { reflectModel, type RollRecord } from './reflect.js';
import { wireClients } from './region-clients.js';
import { fleetBootSeconds, graceFromBoot, seedRegion, type SeededRegion } from './region-seed.js';
import { bootSecondsOf } from './baked-instance.js';
import { check, event, run, type Rig } from './rig.js';
import type { RehearsalSummary } from './types.js';

export type { RollRecord } from './reflect.js';

/** The definition `sipbake roll` is given: the new image's (its deploy section names the group). */
export async function rollDefinition(rig: Rig): Promise<ImageDefinition> {
  const { loadImageOrThrow } = await import('../definition/load.js');
  const { image, file } = await loadImageOrThrow(rig.o.root, rig.o.to ?? rig.o.image);
  if (!image.deploy)
    throw new UserError(
      `${file} has no deploy: section, so the rehearsal has no Auto Scaling group to model`,
      'add deploy: (see the README, section "Rolling")',
    );
  return image;
}

/** The region model as the definition's deploy section describes the group, the two images registered as AMIs. */
export function modelRegion(rig: Rig, def: ImageDefinition): SeededRegion {
  const deploy = def.deploy;
  if (!deploy) throw new Error('rehearsal: a definition without deploy reached modelRegion');
  const { o } = rig;
  return seedRegion({
    image: def.name,
    deploy,
    instances: o.instances,
    deregistrationDelaySeconds: o.deregistrationDelaySeconds,
    hookTimeoutSeconds: o.hookTimeoutSeconds,
  });
}

/** The group's HealthCheckGracePeriod from the old fleet's measured boot (launch to healthy, × scale). */
function setGrace(rig: Rig, f: Fleet): void {
  const booted = bootSecondsOf(rig);
  const bootAws = fleetBootSeconds(f.cs.instances, booted) * rig.o.scale;
  const grace = graceFromBoot(bootAws, rig.o.break === 'slow-boot' ? SLOW_BOOT_AWS_SECONDS : 0);
  f.model.asg.HealthCheckGracePeriod = grace;
  const nspawn = f.cs.instances.map((i) => booted.get(i.id)).filter((x) => x !== undefined);
  const detail = nspawn.length ? `; booted images: ${Math.max(...nspawn)} s real, nspawn to running` : '';
  event(rig, 'asg', `HealthCheckGracePeriod ${grace} s (measured boot ${Math.round(bootAws)} s${detail})`);
}

/** The engine's lines join the rehearsal's timeline; its progress events stay out (the timeline has the model's). */
function rollReporter(rig: Rig): Reporter {
  return { json: false, line: (m) => event(rig, 'roll', m), result: () => undefined, event: () => undefined };
}

function readComm(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Fault injection (--kill-kamailio K): instance K's Kamailio gets SIGKILL as the roll starts. */
async function killFault(rig: Rig, f: Fleet): Promise<void> {
  const k = rig.o.killKamailio;
  if (k === undefined) return;
  const i = f.cs.instances.find((x) => x.k === k);
  const l = i ? rig.live.get(i.id) : undefined;
  if (i === undefined || l === undefined) throw new Error(`rehearsal: --kill-kamailio ${k}: no such old instance (1-${rig.o.instances})`);
  // Its main process and every worker it forked (they all run in the instance's namespace, started by us).
  const pids = (await run(['ip', 'netns', 'pids', l.ns]).catch(() => '')).split('\n').filter(Boolean);
  const kamailios = pids.filter((p) => readComm(p) === 'kamailio');
  for (const p of kamailios) process.kill(Number(p), 'SIGKILL');
  event(rig, i.id, `Kamailio killed (SIGKILL to ${kamailios.length} process(es), fault injection)`);
}

export interface RollResult {
  rec: RollRecord;
  outcome: RehearsalSummary['outcome'];
  /** Why the roll did not succeed (the engine's reasons), absent on success. */
  failed?: string;
  /** The group's InService instances when the roll ended, by AMI (the model's state). */
  fleetAtEnd: { old: number; new: number; other: number };
}

function fleetAtEnd(f: Fleet): RollResult['fleetAtEnd'] {
  const { region, asg, amis } = f.model;
  const serving = region.instancesOf(asg.AutoScalingGroupName).filter((i) => i.LifecycleState === 'InService');
  const old = serving.filter((i) => i.ImageId === amis.old).length;
  const fresh = serving.filter((i) => i.ImageId === amis.new).length;
  return { old, new: fresh, other: serving.length - old - fresh };
}

/** The engine's outcome, checked against the model: every InService instance on the AMI the outcome claims. */
function outcomeOf(f: Fleet, s: RollSummary | undefined): RehearsalSummary['outcome'] {
  const { region, asg, amis } = f.model;
  const serving = region.instancesOf(asg.AutoScalingGroupName).filter((i) => i.LifecycleState === 'InService');
  if (s?.outcome === 'succeeded' && serving.every((i) => i.ImageId === amis.new)) return 'succeeded';
  if (s?.outcome === 'rolled-back' && serving.every((i) => i.ImageId === amis.old)) return 'rolled-back';
  return 'failed';
}

async function engine(rig: Rig, f: Fleet, def: ImageDefinition): Promise<{ summary?: RollSummary; error?: string }> {
  const deploy = def.deploy;
  if (!deploy) throw new Error('rehearsal: a definition without deploy reached the roll');
  const req = {
    kind: 'roll' as const,
    image: def.name,
    deploy,
    drainMaxSeconds: def.drain.maxSeconds,
    mediaAnchored: def.media.rtpproxy.enabled,
    drainPollSeconds: def.drain.pollSeconds,
    ami: f.model.amis.new,
  };
  const signal = rig.o.signal ?? new AbortController().signal;
  const wire = await wireClients(f.model.region);
  const deps = {
    clients: wire.clients,
    clock: f.link.clock,
    reporter: rollReporter(rig),
    signal,
    renderer: 'silent' as const,
    owner: `sipbake-rehearse@${os.hostname()}:${process.pid}`,
  };
  try {
    const r = await runRoll(req, deps);
    return { summary: r.summary, ...(r.exitCode !== 0 ? { error: r.summary.reasons.join('; ') || r.summary.outcome } : {}) };
  } catch (e) {
    // Ctrl-C stops the engine through its signal: say so as the rest of the rehearsal does.
    check(rig);
    return { error: e instanceof Error ? `${e.message}${e instanceof UserError && e.details.length ? `: ${e.details.join('; ')}` : ''}` : String(e) };
  } finally {
    await wire.close();
  }
}

export async function roll(rig: Rig, f: Fleet, load: Load, def: ImageDefinition, imgs: { old: RehearsalImage; new: RehearsalImage }): Promise<RollResult> {
  setGrace(rig, f);
  await killFault(rig, f);
  const rec: RollRecord = { rollEndedAt: 0, rollMs: 0, callsAtPick: new Map(), heldAtTerminate: new Map(), launchFailures: new Map() };
  const stop = reflectModel({ rig, f, load, imgs, rec, queue: [] });
  const rollStart = Date.now();
  let r: Awaited<ReturnType<typeof engine>>;
  try {
    r = await engine(rig, f, def);
  } finally {
    await stop();
  }
  rec.rollEndedAt = Date.now();
  rec.rollMs = rec.rollEndedAt - rollStart;
  endLoad(load);
  const outcome = outcomeOf(f, r.summary);
  const failed =
    outcome === 'succeeded' ? undefined : [r.error ?? `sipbake roll: ${r.summary?.outcome ?? 'no outcome'}`, ...rec.launchFailures.values()].join('; ');
  if (failed !== undefined) f.cs.failed = failed;
  event(rig, 'asg', `sipbake roll: ${r.summary?.outcome ?? 'failed'}${failed ? ` (${failed})` : ''} in ${(rec.rollMs / 1000).toFixed(1)} s`);
  return { rec, outcome, fleetAtEnd: fleetAtEnd(f), ...(failed !== undefined ? { failed } : {}) };
}
