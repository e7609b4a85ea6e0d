import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { readKamailioUnit } from '../contract/kamailio-args.js';
import { UserError } from '../core/errors.js';
import { agentEnv, bootInstance, instanceMac, type InstanceBoot } from './boot.js';
import { initialController, type ControllerState } from './controller.js';
import { instanceMetadata, serveAutoScaling, serveEc2, serveImds, type AsgCall } from './endpoints.js';
import { renderInstance, type RehearsalImage } from './image.js';
import { ADDR, baseCommands, instanceCommands, instanceIp, internetRuleset, mapScript, natRuleset, nlbRuleset, rebalance, targetKey } from './net-plan.js';
import type { RehearsalPlan } from './plan.js';
import type { BreakKind } from './types.js';
import { checkDue, observeCheck, registeredHealthy, scaledHealthCheck, type HealthCheckParams, type TargetHealth } from './target-health.js';
import { check, event, liveOf, run, sh, sleep, start, type Rig } from './rig.js';
import { launch as launchBaked } from './baked-instance.js'; // r4-baked: --baked

// The network (internet, NLB, NAT gateway), the Auto Scaling group's endpoints, and its instances: each one a
// namespace with the image's own boot agent, Kamailio and drain agent.

export interface Fleet {
  /** The controller's state: the group's instances (the endpoints read it as it changes). */
  cs: ControllerState;
  /** Lifecycle calls accepted since the controller last looked. */
  pending: { completed: string[]; heartbeats: string[] };
  asgCalls: AsgCall[];
  imdsState: Map<string, string>;
  boots: Map<string, InstanceBoot>;
  /** The NLB's flow-hash buckets, each a registered target's targetKey() (address:port). */
  buckets: string[];
  /** The SIP port each image's instances register with (a target group keeps one port per target). */
  sipPort: Record<'old' | 'new', number>;
  probeSock: string;
  asgSock: string;
  ec2Sock: string;
  peerDiscovery: boolean;
  /** The NLB's view of each registered target (target-health.ts); absent: not registered. */
  targetHealth: Map<string, TargetHealth>;
  healthCheck: HealthCheckParams;
}

/** listenPorts: the NLB's SIP listeners (the old image's port first). */
export async function networkUp(rig: Rig, plan: RehearsalPlan, listenPorts: readonly number[]): Promise<void> {
  const { names } = rig;
  const net = { udpIdleSeconds: plan.udpIdleSeconds, stickiness: true, listenPorts };
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

/** The group's AWS side: the NLB's health checker, Auto Scaling's lifecycle endpoint, EC2 DescribeInstances. */
export async function serveRegion(rig: Rig, plan: RehearsalPlan, imgs: { old: RehearsalImage; new: RehearsalImage }): Promise<Fleet> {
  const oldImg = imgs.old;
  const f: Fleet = {
    cs: initialController(rig.o.instances, Date.now()),
    pending: { completed: [], heartbeats: [] },
    asgCalls: [],
    imdsState: new Map(),
    boots: new Map(),
    buckets: [],
    sipPort: { old: imgs.old.port, new: imgs.new.port },
    probeSock: path.join(rig.dir, 'probe.sock'),
    asgSock: path.join(rig.dir, 'autoscaling.sock'),
    ec2Sock: path.join(rig.dir, 'ec2.sock'),
    peerDiscovery: rig.o.peerDiscovery ?? true,
    targetHealth: new Map(),
    healthCheck: scaledHealthCheck(rig.o.scale),
  };
  start(rig, ['ip', 'netns', 'exec', rig.names.nlb, process.execPath, rig.helper, '--probe', f.probeSock], 'nlb health checker');
  const waiting = (id: string) => f.cs.instances.find((i) => i.id === id)?.state === 'Terminating:Wait';
  rig.servers.push(
    await serveAutoScaling(
      f.asgSock,
      {
        groupName: 'rehearsal-asg',
        hookName: oldImg.hookName,
        hookTimeoutSeconds: Math.max(1, Math.round(plan.hookTimeoutMs / 1000)),
        stateOf: (id) => f.cs.instances.find((i) => i.id === id && i.state !== 'Terminated')?.state,
        // Terminated instances leave the group. Health: Healthy until the NLB's checks turn its target unhealthy (a
        // group with ELB health checks takes the target's health; Auto Scaling's default is Healthy otherwise).
        members: () =>
          f.cs.instances
            .filter((i) => i.state !== 'Terminated')
            .map((i) => ({ id: i.id, lifecycleState: i.state, healthy: f.targetHealth.get(i.id)?.state !== 'unhealthy' })),
        heartbeat: (id) => waiting(id) && (f.pending.heartbeats.push(id), true),
        complete: (id) => waiting(id) && (f.pending.completed.push(id), true),
      },
      f.asgCalls,
    ),
  );
  if (f.peerDiscovery)
    rig.servers.push(
      await serveEc2(
        f.ec2Sock,
        () =>
          f.cs.instances.map((i) => ({
            id: i.id,
            imageId: i.image === 'old' ? 'ami-0rehearsalold' : 'ami-0rehearsalnew',
            privateIp: instanceIp(i.k),
            state: i.state === 'Terminated' ? ('terminated' as const) : ('running' as const),
          })),
        f.asgCalls,
      ),
    );
  return f;
}

/** --break: the second image's Kamailio configuration made unusable (start) or refusing every request (503). */
function breakConfig(cfg: string, kind: BreakKind): string {
  if (kind === 'start') return `${cfg}\n# --break start: not a configuration Kamailio accepts\nthis is not kamailio.cfg syntax;\n`;
  if (kind === '503') return cfg.replace(/^request_route \{\n/m, 'request_route {\n\t# --break 503\n\tsl_send_reply("503", "Service Unavailable");\n\texit;\n');
  return cfg;
}

/** A slow but good boot (--break slow-boot): Kamailio starts this long after the boot agent (real time). */
const SLOW_BOOT_MS = 8000;

/** One instance of img: its namespace, IMDS, boot agent, Kamailio and drain agent. */
export async function launch(rig: Rig, f: Fleet, k: number, id: string, img: RehearsalImage, brk?: BreakKind): Promise<void> {
  if (rig.o.baked) return launchBaked(rig, f, k, id, img, brk); // r4-baked: the baked root booted instead
  const ns = rig.names.instance(k);
  await sh(rig, instanceCommands(rig.names, k));
  const tree = path.join(rig.dir, `i${k}`);
  await renderInstance(rig.o.root, img, tree);
  const cfgFile = path.join(tree, 'etc/kamailio/kamailio.cfg');
  if (brk === 'start' || brk === '503') await writeFile(cfgFile, breakConfig(await readFile(cfgFile, 'utf8'), brk));
  const imdsSock = path.join(rig.dir, `imds-${k}.sock`);
  f.imdsState.set(id, 'InService');
  rig.servers.push(
    await serveImds(imdsSock, () =>
      instanceMetadata({
        instanceId: id,
        privateIp: instanceIp(k),
        // A private subnet: no public IPv4 of its own, unless the image advertises it (then the NLB's EIP).
        ...(img.advertise === 'instance-public-ipv4' ? { publicIp: ADDR.nlbEip } : {}),
        mac: instanceMac(k),
        vpcCidr: ADDR.subnet,
        region: 'us-east-1',
        targetLifecycleState: f.imdsState.get(id) ?? 'InService',
      }),
    ),
  );
  const nsx = ['ip', 'netns', 'exec', ns];
  const helperArgs = [
    '--forward',
    `127.0.0.1:1338=${imdsSock}`,
    '--forward',
    `127.0.0.1:1339=${f.asgSock}`,
    ...(f.peerDiscovery ? ['--forward', `127.0.0.1:1340=${f.ec2Sock}`] : []),
    ...(img.rtpproxy ? ['--rtpproxy', '127.0.0.1:7722'] : []),
  ];
  const h = start(rig, [...nsx, process.execPath, rig.helper, ...helperArgs], `helper ${ns}`);
  await h.waitForLine(/^ready$/, 10_000);
  // The image's boot agent (sipbake-boot.service's ExecStart) writes the boot include, and rtpproxy-boot.env
  // for recorder-lb, from this instance's IMDS; Kamailio starts only after it succeeded.
  f.boots.set(id, await bootInstance(nsx, tree, id, path.join(rig.dir, `boot-${k}.log`), rig.o.signal));
  if (brk === 'slow-boot') {
    event(rig, id, `slow boot (--break slow-boot): Kamailio starts ${SLOW_BOOT_MS / 1000} s late`);
    await sleep(SLOW_BOOT_MS);
  }
  const kam = start(rig, [...nsx, ...(await readKamailioUnit(tree))], `kamailio ${id}`, `kamailio-${k}.log`);
  const agent = start(
    rig,
    [
      ...nsx,
      ...agentEnv(tree),
      'SIPBAKE_AUTOSCALING_ENDPOINT=http://127.0.0.1:1339',
      // Without peer discovery nothing listens there (no forwarder): the lookup fails (connection refused) and a
      // draining instance refuses new INVITEs. Never left unset: the SDK would aim at the real EC2 endpoint.
      'SIPBAKE_EC2_ENDPOINT=http://127.0.0.1:1340',
      'SIPBAKE_KAMCMD=kamcmd',
      process.execPath,
      path.join(tree, 'usr/local/lib/sipbake/agent.mjs'),
      'drain',
    ],
    `drain agent ${id}`,
    `agent-${k}.log`,
  );
  rig.live.set(id, { k, id, ns, tree, procs: [h, kam, agent], agent, kamailio: kam });
}

/** One NLB health check of instance k's health port, from the NLB's namespace. */
export function healthy(f: Fleet, k: number, port: number): Promise<boolean> {
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

/** The NLB's map to the registered targets (flows of targets that stay keep their bucket). */
export async function setTargets(rig: Rig, f: Fleet): Promise<void> {
  const registered = f.cs.instances.filter((i) => i.registered);
  for (const i of registered) if (!f.targetHealth.has(i.id)) f.targetHealth.set(i.id, registeredHealthy());
  for (const id of [...f.targetHealth.keys()]) if (!registered.some((i) => i.id === id)) f.targetHealth.delete(id);
  // New flows go to healthy targets only.
  f.buckets = rebalance(
    f.buckets,
    registered.filter((i) => f.targetHealth.get(i.id)?.state !== 'unhealthy').map((i) => targetKey({ ip: instanceIp(i.k), port: f.sipPort[i.image] })),
  );
  await run(['ip', 'netns', 'exec', rig.names.nlb, 'nft', '-f', '-'], mapScript(f.buckets));
}

/** The NLB's health checks of its registered targets, each at its interval; a target that turns is (un)routed. */
export async function checkTargets(rig: Rig, f: Fleet, healthPortOf: (image: 'old' | 'new') => number): Promise<void> {
  let turned = false;
  for (const i of f.cs.instances) {
    const h = f.targetHealth.get(i.id);
    if (!i.registered || h === undefined || !checkDue(h, Date.now(), f.healthCheck)) continue;
    const r = observeCheck(h, await healthy(f, i.k, healthPortOf(i.image)), Date.now(), f.healthCheck);
    f.targetHealth.set(i.id, r.next);
    if (r.turned === undefined) continue;
    turned = true;
    const n = r.turned === 'unhealthy' ? f.healthCheck.unhealthyThreshold : f.healthCheck.healthyThreshold;
    event(
      rig,
      i.id,
      `NLB target ${r.turned} after ${n} consecutive health check(s): ${r.turned === 'unhealthy' ? 'no new flow goes to it' : 'new flows again'}`,
    );
  }
  if (turned) await setTargets(rig, f);
}

/** The old image's instances, healthy and registered. */
export async function fleetUp(rig: Rig, f: Fleet, oldImg: RehearsalImage): Promise<void> {
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
  }
  await setTargets(rig, f);
  event(rig, 'asg', `${rig.o.instances} instance(s) of ${oldImg.name} InService and registered`);
}
