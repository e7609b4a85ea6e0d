import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { readKamailioUnit } from '../contract/kamailio-args.js';
import { UserError } from '../core/errors.js';
import { agentEnv, bootInstance, type InstanceBoot } from './boot.js';
import { serveRegion as serveRegionWire, type RegionServer } from '../region/wire/server.js';
import { renderInstance, type RehearsalImage } from './image.js';
import { ADDR, baseCommands, instanceCommands, instanceIp, internetRuleset, mapScript, natRuleset, nlbRuleset, rebalance, targetKey } from './net-plan.js';
import { startRtpproxy } from './rtp-proxy.js';
import { rtpproxyBinary } from '../try/upstream.js';
import type { RehearsalPlan } from './plan.js';
import { agentView, linkClock, setModelTargetHealth, type ClockLink } from './model-link.js';
import type { SeededRegion } from './region-seed.js';
import type { BreakKind } from './types.js';
import { checkDue, initialTarget, observeCheck, registeredHealthy, scaledHealthCheck, type HealthCheckParams, type TargetHealth } from './target-health.js';
import { check, event, liveOf, run, sh, sleep, start, type Rig } from './rig.js';
import { launch as launchBaked } from './baked-instance.js';
import { AGENT_ENDPOINTS, agentForwards } from './agent-endpoints.js';
import { breakConfig } from './break-config.js';
import { serveInstanceImds } from './instance-imds.js'; // r4-baked: --baked

// The network (internet, NLB, NAT gateway), the endpoints the instances reach (IMDS, Auto Scaling, EC2: each
// answered from the region model), and the instances: each one a namespace with the image's own boot agent,
// Kamailio and drain agent. What the model decides reaches the rig through reflect.ts.

/** The rehearsal's record of one of the group's instances (the model's events, on this machine's clock). */
export interface FleetInstance {
  id: string;
  /** Index in the subnet (address 10.0.1.(10+k)) and namespace name. */
  k: number;
  image: 'old' | 'new';
  /** The model's LifecycleState, as last reflected. */
  state: string;
  launchedAt: number;
  /** When the NLB first saw its target healthy. */
  inServiceAt?: number;
  pickedAt?: number;
  /**
   * When its drain agent started polling (after the boot agent and Kamailio, as sipbake-drain.service is ordered). A new
   * instance picked while still booting (a rollback) has no agent to read IMDS until then; the rig's boot is not
   * scaled, so that wait is this machine's, not AWS's (report.ts drainWithinBound).
   */
  agentStartedAt?: number;
  terminatedAt?: number;
  endedBy?: 'complete' | 'timeout';
  heartbeats: number;
}

export interface Fleet {
  /** The group's instances as the rig saw them (reflect.ts keeps it). */
  cs: { instances: FleetInstance[]; failed?: string };
  /** The AWS side: the region model, seeded from the image's deploy section. */
  model: SeededRegion;
  /** The model's clock, following this machine's at --scale. */
  link: ClockLink;
  /** A model instance still booting on the rig: its launch. */
  launching: Map<string, Promise<void>>;
  /** The region's own wire server the instances' agents reach (Auto Scaling, EC2 on unix sockets); its requests. */
  agentWire?: RegionServer;
  boots: Map<string, InstanceBoot>;
  /** The NLB's flow-hash buckets, each a registered target's targetKey() (address:port). */
  buckets: string[];
  /** Buckets the holder callers' sources hash to (load.ts): never moved away from a registered target. */
  pinnedBuckets: Map<number, string>;
  /** The SIP port each image's instances register with (a target group keeps one port per target). */
  sipPort: Record<'old' | 'new', number>;
  probeSock: string;
  asgSock: string;
  ec2Sock: string;
  elbv2Sock: string;
  peerDiscovery: boolean;
  /** The NLB's view of each target (target-health.ts); the model's target health follows it. */
  targetHealth: Map<string, TargetHealth>;
  healthCheck: HealthCheckParams;
}

/** listenPorts: the NLB's SIP listeners (the old image's port first). */
export async function networkUp(rig: Rig, plan: RehearsalPlan, listenPorts: readonly number[], mediaRtpPorts?: { min: number; max: number }): Promise<void> {
  const { names } = rig;
  // mediaRtpPorts (r3-media): each instance's own media Elastic IP, 1:1 NAT (net-plan.ts).
  const net = { udpIdleSeconds: plan.udpIdleSeconds, stickiness: true, listenPorts, ...(mediaRtpPorts ? { mediaRtpPorts } : {}) };
  await sh(rig, baseCommands(names, net));
  await run(['ip', 'netns', 'exec', names.nlb, 'nft', '-f', '-'], nlbRuleset(net));
  await run(['ip', 'netns', 'exec', names.nat, 'nft', '-f', '-'], natRuleset());
  await run(['ip', 'netns', 'exec', names.inet, 'nft', '-f', '-'], internetRuleset());
  event(
    rig,
    'network',
    `internet, NLB ${ADDR.nlbEip}:${[...new Set(listenPorts)].join(', ')} (flow hash, source-IP stickiness, UDP idle ${plan.udpIdleSeconds} s), NAT gateway ${ADDR.natEip} (random ports)`,
  );
}

/** The group's AWS side on the rig: the NLB's health checker, and the endpoints the instances' agents reach. */
export async function serveRegion(rig: Rig, imgs: { old: RehearsalImage; new: RehearsalImage }, model: SeededRegion): Promise<Fleet> {
  const f: Fleet = {
    cs: { instances: [] },
    model,
    link: linkClock(model.region, rig.o.scale),
    launching: new Map(),
    boots: new Map(),
    buckets: [],
    pinnedBuckets: new Map(),
    sipPort: { old: imgs.old.port, new: imgs.new.port },
    probeSock: path.join(rig.dir, 'probe.sock'),
    asgSock: path.join(rig.dir, 'autoscaling.sock'),
    ec2Sock: path.join(rig.dir, 'ec2.sock'),
    elbv2Sock: path.join(rig.dir, 'elbv2.sock'),
    peerDiscovery: rig.o.peerDiscovery ?? true,
    targetHealth: new Map(),
    healthCheck: scaledHealthCheck(rig.o.scale, model.tg),
  };
  start(rig, ['ip', 'netns', 'exec', rig.names.nlb, process.execPath, rig.helper, '--probe', f.probeSock], 'nlb health checker');
  // The agents' Auto Scaling and EC2 calls cross the region's own wire server (src/region/wire): the model's handlers,
  // its throttling and eventual consistency, as the roll engine's calls do; its clock follows this machine's first,
  // and the hook's durations are shown to the agents in this machine's seconds (agentView).
  // Without peer discovery the EC2 and ELBv2 sockets are absent: no forwarder, the lookup's connection is refused.
  const sockets = { autoscaling: f.asgSock, ...(f.peerDiscovery ? { ec2: f.ec2Sock, elbv2: f.elbv2Sock } : {}) };
  f.agentWire = await serveRegionWire(model.region, { sockets, clock: () => f.link.sync(), view: agentView(rig.o.scale) });
  rig.servers.push(f.agentWire);
  return f;
}

/** A slow but good boot (--break slow-boot): Kamailio starts this many AWS seconds (scaled) after the boot agent. */
export const SLOW_BOOT_AWS_SECONDS = 90;

/** One instance of img: its namespace, IMDS, boot agent, Kamailio and drain agent. */
export async function launch(rig: Rig, f: Fleet, k: number, id: string, img: RehearsalImage, brk?: BreakKind): Promise<void> {
  if (rig.o.baked) return launchBaked(rig, f, k, id, img, brk); // r4-baked: the baked root booted instead
  const ns = rig.names.instance(k);
  await sh(rig, instanceCommands(rig.names, k));
  const tree = path.join(rig.dir, `i${k}`);
  await renderInstance(rig.o.root, img, tree);
  const cfgFile = path.join(tree, 'etc/kamailio/kamailio.cfg');
  if (brk === 'start' || brk === '503') await writeFile(cfgFile, breakConfig(await readFile(cfgFile, 'utf8'), brk));
  const imdsSock = await serveInstanceImds(rig, f, k, id, img);
  const nsx = ['ip', 'netns', 'exec', ns];
  const helperArgs = [
    ...agentForwards(f, imdsSock),
    // r3-media: the stand-in only where this machine has no rtpproxy (rtp-proxy.ts starts the real one).
    ...(img.rtpproxy && !rtpproxyBinary() ? ['--rtpproxy', '127.0.0.1:7722'] : []),
  ];
  const h = start(rig, [...nsx, process.execPath, rig.helper, ...helperArgs], `helper ${ns}`);
  await h.waitForLine(/^ready$/, 10_000);
  // The image's boot agent (sipbake-boot.service's ExecStart) writes the boot include, and rtpproxy-boot.env
  // for recorder-lb, from this instance's IMDS; Kamailio starts only after it succeeded.
  f.boots.set(id, await bootInstance(nsx, tree, id, path.join(rig.dir, `boot-${k}.log`), rig.o.signal));
  if (brk === 'slow-boot') {
    event(rig, id, `slow boot (--break slow-boot): Kamailio starts ${SLOW_BOOT_AWS_SECONDS} s late`);
    await sleep((SLOW_BOOT_AWS_SECONDS * 1000) / rig.o.scale);
  }
  // r3-media: the real RTPProxy from the tree's unit (rtp-proxy.ts), up before Kamailio as the unit orders it.
  const rtp = img.rtpproxy ? await startRtpproxy(rig, nsx, tree, id, k) : undefined;
  const kam = start(rig, [...nsx, ...(await readKamailioUnit(tree))], `kamailio ${id}`, `kamailio-${k}.log`);
  const agent = start(
    rig,
    [...nsx, ...agentEnv(tree), ...AGENT_ENDPOINTS, 'SIPBAKE_KAMCMD=kamcmd', process.execPath, path.join(tree, 'usr/local/lib/sipbake/agent.mjs'), 'drain'],
    `drain agent ${id}`,
    `agent-${k}.log`,
  );
  rig.live.set(id, { k, id, ns, tree, procs: [h, ...(rtp ? [rtp] : []), kam, agent], agent, kamailio: kam });
  // Its first line: the agent has read its manifest and IMDS and starts polling (node's own start, unscaled, apart).
  // No such line: the bound counts from the pick.
  const v = f.cs.instances.find((i) => i.id === id);
  void agent.waitForLine(/health-check port \d+/, 60_000).then(
    () => {
      if (v !== undefined) v.agentStartedAt = Date.now();
    },
    () => undefined,
  );
}

/** One NLB health check of instance k's health port, from the NLB's namespace. */
function healthy(f: Fleet, k: number, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const req = http.get({ socketPath: f.probeSock, path: `/tcp?host=${instanceIp(k)}&port=${port}`, timeout: 3000 }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b === '1'));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** Routable: InService in the model (not leaving) and healthy at the NLB; new flows go to these only. */
export function routable(f: Fleet, id: string): boolean {
  return f.model.region.instances.get(id)?.LifecycleState === 'InService' && f.targetHealth.get(id)?.state === 'healthy';
}

/** The NLB's map to the routable targets (flows of targets that stay keep their bucket). */
export async function setTargets(rig: Rig, f: Fleet): Promise<void> {
  const keys = f.cs.instances.filter((i) => routable(f, i.id)).map((i) => targetKey({ ip: instanceIp(i.k), port: f.sipPort[i.image] }));
  const next = rebalance(f.buckets, keys, f.pinnedBuckets);
  if (next.join() === f.buckets.join()) return;
  f.buckets = next;
  await run(['ip', 'netns', 'exec', rig.names.nlb, 'nft', '-f', '-'], mapScript(f.buckets));
}

/** One NLB check of one target; a turn is told, and the model's target health follows it. */
async function checkOne(rig: Rig, f: Fleet, i: FleetInstance, port: number): Promise<boolean> {
  const h = f.targetHealth.get(i.id) ?? initialTarget();
  const r = observeCheck(h, await healthy(f, i.k, port), Date.now(), f.healthCheck);
  f.targetHealth.set(i.id, r.next);
  if (r.turned === undefined) return false;
  const m = f.model.region.instances.get(i.id);
  if (m !== undefined) setModelTargetHealth(m, r.turned, f.model.region.nowMs);
  if (r.turned === 'healthy') i.inServiceAt ??= Date.now();
  const n = r.turned === 'unhealthy' ? f.healthCheck.unhealthyThreshold : f.healthCheck.healthyThreshold;
  event(
    rig,
    i.id,
    `NLB target ${r.turned} after ${n} consecutive health check(s): ${r.turned === 'unhealthy' ? 'no new flow goes to it' : 'new flows go to it'}`,
  );
  return true;
}

/** The NLB's health checks of the group's targets (InService in the model), each at its interval. */
export async function checkTargets(rig: Rig, f: Fleet, healthPortOf: (image: 'old' | 'new') => number): Promise<void> {
  const due = f.cs.instances.filter((i) => {
    const h = f.targetHealth.get(i.id);
    return f.model.region.instances.get(i.id)?.LifecycleState === 'InService' && (h === undefined || checkDue(h, Date.now(), f.healthCheck));
  });
  const turned = await Promise.all(due.map((i) => checkOne(rig, f, i, healthPortOf(i.image))));
  if (turned.some(Boolean)) await setTargets(rig, f);
}

/** The model's seeded instances, booted from the old image, healthy and registered. */
export async function fleetUp(rig: Rig, f: Fleet, oldImg: RehearsalImage): Promise<void> {
  const seeded = f.model.region.instancesOf(f.model.asg.AutoScalingGroupName);
  f.cs.instances = seeded.map((m, n) => {
    m.PrivateIpAddress = instanceIp(n + 1);
    m.targetPort = oldImg.port;
    return { id: m.InstanceId, k: n + 1, image: 'old' as const, state: m.LifecycleState, launchedAt: Date.now(), heartbeats: 0 };
  });
  await Promise.all(f.cs.instances.map((i) => launch(rig, f, i.k, i.id, oldImg)));
  const until = Date.now() + 30_000;
  for (const i of f.cs.instances) {
    while (!(await healthy(f, i.k, oldImg.healthPort))) {
      check(rig);
      const l = liveOf(rig, i.id);
      if (l.kamailio && !l.kamailio.running) throw l.kamailio.failure('Kamailio exited at start');
      if (Date.now() > until)
        throw new UserError(
          `instance ${i.id} never passed its health check (port ${oldImg.healthPort})`,
          `see ${rig.dir}/kamailio-${i.k}.log and agent-${i.k}.log`,
        );
      await sleep(200);
    }
    f.targetHealth.set(i.id, registeredHealthy());
    i.inServiceAt = Date.now();
  }
  await setTargets(rig, f);
  event(rig, 'asg', `${rig.o.instances} instance(s) of ${oldImg.name} InService and registered`);
}
