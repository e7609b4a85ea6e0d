import { readFileSync } from 'node:fs';
import { nextDelayMs, step, type Action, type ControllerParams } from './controller.js';
import { checkTargets, healthy, launch, setTargets, type Fleet } from './fleet.js';
import type { RehearsalImage } from './image.js';
import { endLoad, type Load } from './load.js';
import { ADDR, instanceIp, tcpResetCommands } from './net-plan.js';
import type { RehearsalPlan } from './plan.js';
import { check, ctlSocket, event, liveOf, run, sleep, type Rig } from './rig.js';

// The roll: observe (the replacement's health, lifecycle calls) → step (controller.ts) → perform its actions on the
// namespaces, the NLB and the instances, until every old instance is replaced.

/** A replacement whose Kamailio exited says so, once, with the last lines of its log (kept in the summary). */
function reportExit(rig: Rig, id: string, rec: RollRecord): void {
  const kam = rig.live.get(id)?.kamailio;
  if (kam === undefined || kam.running || rec.launchFailures.has(id)) return;
  const why = `Kamailio exited at start: ${kam.tail(3).join(' | ') || '(no output)'}`;
  rec.launchFailures.set(id, why);
  event(rig, id, why);
}

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

/** The Call-IDs of the dialogs in kamcmd dlg.list output. */
function dialogCallIds(out: string): string[] {
  return [...out.matchAll(/(?:call-id|callid):\s*(\S+)/gi)].flatMap(([, id]) => (id === undefined ? [] : [id]));
}

async function dialogsHeld(tree: string): Promise<string[]> {
  return dialogCallIds(await run(['kamcmd', '-s', ctlSocket(tree), 'dlg.list']).catch(() => ''));
}

/** Which instance holds the trunk's flow at the NLB now (its conntrack entry's reply source). */
async function trunkTarget(rig: Rig): Promise<string | undefined> {
  const out = await run(['ip', 'netns', 'exec', rig.names.nlb, 'conntrack', '-L', '-p', 'udp', '--orig-src', ADDR.trunk, '--orig-port-src', '5060']).catch(
    () => '',
  );
  return /sport=5060 dport=\d+\s+src=(10\.0\.1\.\d+)/.exec(out)?.[1];
}

async function perform(rig: Rig, f: Fleet, load: Load, newImg: RehearsalImage, rec: RollRecord, a: Action): Promise<void> {
  switch (a.type) {
    case 'event':
      return event(rig, a.id, a.what);
    case 'launch':
      return launch(rig, f, a.k, a.id, newImg, rig.o.break);
    case 'register':
      return setTargets(rig, f);
    case 'deregister': {
      await setTargets(rig, f);
      const ip = instanceIp(liveOf(rig, a.id).k);
      if (load.trunk !== undefined && (await trunkTarget(rig)) === ip) {
        load.trunkDraining.push({ id: a.id, from: Date.now() });
        event(rig, a.id, `keeps the trunk's flow (${ADDR.trunk}:5060) through its deregistration delay`);
      }
      return;
    }
    case 'set-target-state': {
      f.imdsState.set(a.id, a.state);
      // Which calls the instance holds now (the dialogs its drain has to wait for).
      const held = await dialogsHeld(liveOf(rig, a.id).tree);
      rec.callsAtPick.set(a.id, held);
      event(rig, a.id, `holds ${held.length} call(s)`);
      return;
    }
    case 'cut-flows':
      for (const w of load.trunkDraining) if (w.id === a.id && w.to === undefined) w.to = Date.now();
      // TCP first: conntrack -D does not reset a TCP connection; the RST goes out while the NLB still maps it.
      for (const c of tcpResetCommands(liveOf(rig, a.id).ns, Object.values(f.sipPort))) await run(c).catch(() => '');
      await run(['ip', 'netns', 'exec', rig.names.nlb, 'conntrack', '-D', '--dst-nat', instanceIp(liveOf(rig, a.id).k)]).catch(() => '');
      return;
    case 'terminate': {
      const l = liveOf(rig, a.id);
      rec.heldAtTerminate.set(a.id, { at: Date.now(), calls: await dialogsHeld(l.tree) });
      await Promise.all(l.procs.map((p) => p.stop('SIGTERM', 1000)));
      await run(['ip', 'netns', 'del', l.ns]).catch(() => '');
      return;
    }
  }
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

export async function roll(rig: Rig, f: Fleet, load: Load, plan: RehearsalPlan, imgs: { old: RehearsalImage; new: RehearsalImage }): Promise<RollRecord> {
  const newImg = imgs.new;
  await killFault(rig, f);
  const params: ControllerParams = {
    deregistrationDelayMs: plan.deregMs,
    hookTimeoutMs: plan.hookTimeoutMs,
    healthyThreshold: 2,
    launchTimeoutMs: 30_000,
  };
  const rec: RollRecord = { rollEndedAt: 0, rollMs: 0, callsAtPick: new Map(), heldAtTerminate: new Map(), launchFailures: new Map() };
  const rollStart = Date.now();
  while (!f.cs.done) {
    check(rig);
    const health: Record<string, boolean> = {};
    if (f.cs.launching) {
      const launching = f.cs.launching;
      const inst = f.cs.instances.find((i) => i.id === launching);
      if (inst === undefined) throw new Error(`rehearsal: the controller launches ${launching}, which is not one of its instances`);
      health[inst.id] = await healthy(f, inst.k, newImg.healthPort);
      reportExit(rig, inst.id, rec);
    }
    await checkTargets(rig, f, (image) => (image === 'old' ? imgs.old.healthPort : imgs.new.healthPort));
    const obs = { now: Date.now(), health, completed: f.pending.completed.splice(0), heartbeats: f.pending.heartbeats.splice(0) };
    const r = step(f.cs, obs, params);
    f.cs = r.state;
    for (const a of r.actions) await perform(rig, f, load, newImg, rec, a);
    await sleep(Math.max(20, nextDelayMs(f.cs, Date.now(), 200, params)));
  }
  rec.rollEndedAt = Date.now();
  rec.rollMs = rec.rollEndedAt - rollStart;
  endLoad(load);
  event(rig, 'asg', f.cs.failed ? `roll failed: ${f.cs.failed}` : `every instance replaced in ${(rec.rollMs / 1000).toFixed(1)} s`);
  return rec;
}
