// The model decides, the rig follows: each turn moves the model's clock, boots a namespace for every instance the
// model launched, runs the NLB's health checks (the model's target health follows them), and carries the model's
// termination events onto the rig in AWS's order (the model keeps it: src/region/region.ts beginTermination):
//   terminating  → the target leaves the NLB's map (no new flows); IMDS says Terminated (read from the model);
//   deregistered → the deregistration delay is over: its remaining flows are cut (conntrack);
//   wait         → Terminating:Wait: the drain agent's CompleteLifecycleAction now finds an action;
//   terminated   → the namespace's processes stop and the namespace goes.
import type { FakeInstance } from '../region/model.js';
import type { InstanceEvent } from '../region/region.js';
import { checkTargets, launch, setTargets, type Fleet, type FleetInstance } from './fleet.js';
import type { RehearsalImage } from './image.js';
import type { Load } from './load.js';
import { setModelTargetHealth } from './model-link.js';
import { ADDR, instanceIp, tcpResetCommands } from './net-plan.js';
import { ctlSocket, event, run, sleep, type Rig } from './rig.js';
import { initialTarget } from './target-health.js';

export interface RollRecord {
  rollEndedAt: number;
  /** Replacements whose Kamailio exited, and the last words of its log. */
  launchFailures: Map<string, string>;
  rollMs: number;
  /** The dialogs each old instance held when it was picked. */
  callsAtPick: Map<string, string[]>;
  /** The dialogs each old instance still held when it was terminated. */
  heldAtTerminate: Map<string, { at: number; calls: string[] }>;
}

export interface Reflection {
  rig: Rig;
  f: Fleet;
  load: Load;
  imgs: { old: RehearsalImage; new: RehearsalImage };
  rec: RollRecord;
  queue: { event: InstanceEvent; id: string }[];
}

/** The Call-IDs of the dialogs in kamcmd dlg.list output. */
function dialogCallIds(out: string): string[] {
  return [...out.matchAll(/(?:call-id|callid):\s*(\S+)/gi)].flatMap(([, id]) => (id === undefined ? [] : [id]));
}

async function dialogsHeld(rig: Rig, id: string): Promise<string[]> {
  const l = rig.live.get(id);
  return l === undefined ? [] : dialogCallIds(await run(['kamcmd', '-s', ctlSocket(l.tree), 'dlg.list']).catch(() => ''));
}

/** Which instance holds the trunk's flow at the NLB now (its conntrack entry's reply source). */
async function trunkTarget(rig: Rig): Promise<string | undefined> {
  const out = await run(['ip', 'netns', 'exec', rig.names.nlb, 'conntrack', '-L', '-p', 'udp', '--orig-src', ADDR.trunk, '--orig-port-src', '5060']).catch(
    () => '',
  );
  return /sport=5060 dport=\d+\s+src=(10\.0\.1\.\d+)/.exec(out)?.[1];
}

/** An instance the model launched: the rig's record, its target initial, its namespace booting. */
function reflectLaunch(r: Reflection, m: FakeInstance): void {
  const { rig, f } = r;
  const k = Math.max(0, ...f.cs.instances.map((i) => i.k)) + 1;
  const image = m.ImageId === f.model.amis.new ? 'new' : 'old';
  const v: FleetInstance = { id: m.InstanceId, k, image, state: m.LifecycleState, launchedAt: Date.now(), heartbeats: 0 };
  f.cs.instances.push(v);
  m.PrivateIpAddress = instanceIp(k);
  setModelTargetHealth(m, 'initial', f.model.region.nowMs);
  f.targetHealth.set(m.InstanceId, initialTarget());
  const img = image === 'new' ? r.imgs.new : r.imgs.old;
  m.targetPort = img.port;
  event(rig, m.InstanceId, `launched by Auto Scaling from ${m.ImageId} (${img.name}${image === 'new' && rig.o.break ? `, --break ${rig.o.break}` : ''})`);
  const booting = launch(rig, f, k, m.InstanceId, img, image === 'new' ? rig.o.break : undefined).catch((e: unknown) => {
    r.rec.launchFailures.set(m.InstanceId, `launch failed: ${e instanceof Error ? e.message : String(e)}`);
  });
  f.launching.set(m.InstanceId, booting);
}

/** A replacement whose Kamailio exited says so, once, with the last lines of its log (kept in the summary). */
function reportExits(r: Reflection): void {
  for (const v of r.f.cs.instances) {
    const kam = r.rig.live.get(v.id)?.kamailio;
    if (kam === undefined || kam.running || r.rec.launchFailures.has(v.id) || v.terminatedAt !== undefined) continue;
    const why = `Kamailio exited at start: ${kam.tail(3).join(' | ') || '(no output)'}`;
    r.rec.launchFailures.set(v.id, why);
    event(r.rig, v.id, why);
  }
}

async function picked(r: Reflection, v: FleetInstance): Promise<void> {
  const { rig, f, load } = r;
  v.pickedAt = Date.now();
  await setTargets(rig, f);
  const held = await dialogsHeld(rig, v.id);
  r.rec.callsAtPick.set(v.id, held);
  event(
    rig,
    v.id,
    `picked for termination: IMDS target-lifecycle-state Terminated; deregistered from the NLB (new flows go elsewhere); holds ${held.length} call(s)`,
  );
  if (load.trunk !== undefined && (await trunkTarget(rig)) === instanceIp(v.k)) {
    load.trunkDraining.push({ id: v.id, from: Date.now() });
    event(rig, v.id, `keeps the trunk's flow (${ADDR.trunk}:5060) through its deregistration delay`);
  }
}

async function terminated(r: Reflection, v: FleetInstance, m: FakeInstance | undefined): Promise<void> {
  const { rig, f } = r;
  await f.launching.get(v.id);
  r.rec.heldAtTerminate.set(v.id, { at: Date.now(), calls: await dialogsHeld(rig, v.id) });
  v.terminatedAt = Date.now();
  const a = m?.lifecycleAction;
  if (a?.endedBy === 'complete' || a?.endedBy === 'timeout') v.endedBy = a.endedBy;
  v.heartbeats = a?.heartbeats.length ?? 0;
  if (a?.endedBy === 'timeout') event(rig, v.id, `lifecycle hook timed out (default result ${a.defaultResult})`);
  const l = rig.live.get(v.id);
  if (l !== undefined) {
    await Promise.all(l.procs.map((p) => p.stop('SIGTERM', 1000)));
    await run(['ip', 'netns', 'del', l.ns]).catch(() => '');
  }
  const since = v.pickedAt ?? v.launchedAt;
  event(rig, v.id, `terminated ${((Date.now() - since) / 1000).toFixed(1)} s after it was picked`);
  await setTargets(rig, f);
}

async function carry(r: Reflection, e: { event: InstanceEvent; id: string }): Promise<void> {
  const v = r.f.cs.instances.find((i) => i.id === e.id);
  const m = r.f.model.region.instances.get(e.id);
  if (v === undefined) return;
  v.state = m?.LifecycleState ?? v.state;
  if (e.event === 'terminating') return picked(r, v);
  if (e.event === 'deregistered') {
    for (const w of r.load.trunkDraining) if (w.id === v.id && w.to === undefined) w.to = Date.now();
    // TCP first: conntrack -D does not reset a TCP connection; the RST goes out while the NLB still maps it.
    const live = r.rig.live.get(v.id);
    if (live) for (const c of tcpResetCommands(live.ns, Object.values(r.f.sipPort))) await run(c).catch(() => '');
    await run(['ip', 'netns', 'exec', r.rig.names.nlb, 'conntrack', '-D', '--dst-nat', instanceIp(v.k)]).catch(() => '');
    return event(r.rig, v.id, 'deregistration delay over: remaining flows cut');
  }
  if (e.event === 'wait')
    return event(r.rig, v.id, `Terminating:Wait (hook timeout ${m?.lifecycleAction ? (m.lifecycleAction.timeoutAt - r.f.model.region.nowMs) / 1000 : '?'} s)`);
  return terminated(r, v, m);
}

/** One turn: the model's clock, its launches, the NLB's checks, then its events in order. */
async function turn(r: Reflection): Promise<void> {
  const { f } = r;
  f.link.sync();
  const known = new Set(f.cs.instances.map((i) => i.id));
  for (const m of f.model.region.instances.values()) if (!known.has(m.InstanceId)) reflectLaunch(r, m);
  reportExits(r);
  await checkTargets(r.rig, f, (image) => (image === 'old' ? r.imgs.old.healthPort : r.imgs.new.healthPort));
  for (let e = r.queue.shift(); e !== undefined; e = r.queue.shift()) await carry(r, e);
}

/** Turns until stopped; the returned function stops it and carries what is left. */
export function reflectModel(r: Reflection): () => Promise<void> {
  let stopped = false;
  r.f.model.region.onInstance((event, i) => r.queue.push({ event, id: i.InstanceId }));
  let failed: Error | undefined;
  const loop = (async () => {
    while (!stopped && !r.rig.closing) {
      await turn(r);
      await sleep(50);
    }
  })().catch((e: unknown) => {
    failed = e instanceof Error ? e : new Error(String(e));
  });
  return async () => {
    stopped = true;
    await loop;
    if (failed !== undefined) throw failed;
    await turn(r);
    await Promise.all(r.f.launching.values());
  };
}
