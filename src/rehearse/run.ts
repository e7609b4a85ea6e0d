import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AbortError, UserError } from '../core/errors.js';
import type { Reporter } from '../core/reporter.js';
import { startProcess, type ManagedProcess } from '../try/process.js';
import { initialController, nextDelayMs, step, type Action, type ControllerParams, type ControllerState } from './controller.js';
import { closeServer, instanceMetadata, serveAutoScaling, serveEc2, serveImds, type AsgCall } from './endpoints.js';
import { agentEnv, bootInstance, instanceMac, type InstanceBoot } from './boot.js';
import { prepareImage, renderInstance, type RehearsalImage } from './image.js';
import {
  ADDR,
  baseCommands,
  instanceCommands,
  instanceIp,
  internetRuleset,
  mapScript,
  natRuleset,
  netNames,
  nlbRuleset,
  rebalance,
  type Cmd,
} from './net-plan.js';
import { uacCalleeBye, uacCallerBye, uacTrunk, uas } from './scenarios.js';
import { callOutcomes, timedMessages, type CallOutcome } from './calls.js';
import { callEnds, handedOff, handoffsLogged, natPath, natTranslations } from './measure.js';

// The rehearsal: builds the network (net-plan.ts), starts the instances of the old image, places live calls, and
// plays the controller (controller.ts) until every instance runs the new image; then reports. Every namespace and
// process it makes is removed in `finally`, on Ctrl-C (the signal) and on errors.

export interface RehearseOptions {
  root: string;
  image: string;
  to?: string;
  instances: number;
  calls: number;
  /** Longest call, in real (unscaled) seconds; calls hold for 1/3 to all of it, scaled. */
  callSeconds: number;
  /** Time scale: AWS's and the calls' seconds are divided by this. */
  scale: number;
  deregistrationDelaySeconds: number;
  hookTimeoutSeconds: number;
  /** Negative control: stop every old instance's drain agent before the roll. */
  stopDrainAgents?: boolean;
  /** A busy SIP trunk besides the callers: all its calls from one address and port, through the whole roll (default on). */
  trunk?: boolean;
  /** Serve EC2 DescribeInstances to the drain agents (SIPBAKE_EC2_ENDPOINT), so a draining instance can find the
   *  serving peers it hands new INVITEs to (default on). Off: nothing answers at that endpoint (the negative control:
   *  the lookup fails, a draining instance refuses them). */
  peerDiscovery?: boolean;
  /** Tag appended to namespace names (tests running in parallel). */
  tag?: string;
  log?: (line: string) => void;
  /** Where the timeline's entries go as progress events (with --json: NDJSON on stderr). */
  reporter?: Pick<Reporter, 'event'>;
  signal?: AbortSignal;
  keepDir?: boolean;
}

interface TimelineEntry {
  t: number;
  id: string;
  what: string;
}

interface InstanceSummary {
  id: string;
  image: 'old' | 'new';
  /** Seconds (scaled) from the pick to termination. */
  drainSeconds?: number;
  /** Seconds (scaled) from the pick to the end of its last call. */
  longestRemainingCallSeconds?: number;
  callsAtPick?: number;
  /** Calls still up when it was terminated. */
  callsCut?: number;
  endedBy?: 'complete' | 'timeout';
  heartbeats: number;
  /** drainSeconds within longest remaining call + deregistration delay + one poll. */
  withinBound?: boolean;
  /** What the image's boot agent wrote in this instance's namespace, read back from its boot include. */
  boot?: InstanceBoot;
}

export interface RehearsalSummary {
  image: string;
  to: string;
  instances: number;
  scale: number;
  deregistrationDelaySeconds: number;
  hookTimeoutSeconds: number;
  pollSeconds: number;
  calls: {
    placed: number;
    completed: number;
    dropped: number;
    refused: number;
    unanswered: number;
    callerBye: number;
    calleeBye: number;
  };
  perInstance: InstanceSummary[];
  rollSeconds: number;
  /** Σ per instance (launch-to-healthy + deregistration delay + what was left of its drain), the sequential floor. */
  floorSeconds: number;
  hooksTimedOut: number;
  timeline: TimelineEntry[];
  droppedCalls: CallOutcome[];
  /** The busy trunk: all its calls over one UDP 5-tuple (source port 5060), so the NLB keeps them on a target through
   *  its deregistration delay. handedOff: calls a draining instance relayed to a serving peer (seen at the callee);
   *  handoffsLogged: of those, the ones the instances' Kamailio logged ("handoff: INVITE Call-ID … to PEER"). */
  trunk?: {
    source: string;
    placed: number;
    completed: number;
    refused: number;
    dropped: number;
    unanswered: number;
    callerBye: number;
    calleeBye: number;
    handedOff: number;
    handoffsLogged: number;
    /** Trunk calls placed while the target holding the trunk's flow was deregistered but its flows were kept. */
    placedWhileDraining: number;
  };
  /** Outbound INVITEs the destination received (they leave through the NAT gateway), how many had rport in the
   *  proxy's Via (needed for responses through a port-translating NAT), caller BYEs relayed to the callee; and the
   *  NAT gateway's translations seen in its conntrack table (source ports kept = not random). */
  natPath: {
    outboundInvites: number;
    invitesWithRport: number;
    byesFromProxy: number;
    natFlows: number;
    natPortsKept: number;
    natSamples: string[];
  };
  failed?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** ns-helper.js next to this module when built; from the sources, the built copy in dist/. */
function helperScript(): string {
  const built = path.join(here, 'ns-helper.js');
  if (existsSync(built)) return built;
  const dist = path.resolve(here, '../../dist/rehearse/ns-helper.js');
  if (existsSync(dist)) return dist;
  throw new UserError('dist/rehearse/ns-helper.js is missing', 'run `npm run build` first');
}

function run(argv: Cmd, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('run: an empty command');
    const c = execFile(file, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) c.stdin?.end(input);
  });
}

/** Refuses clearly when the rehearsal cannot run here. */
async function preflight(): Promise<void> {
  if (process.platform !== 'linux') throw new UserError('sipbake rehearse needs Linux (network namespaces, nftables)', 'run it on a Linux machine or VM');
  if (process.getuid?.() !== 0) throw new UserError('sipbake rehearse must run as root: it creates network namespaces and nftables rules', 'run it with sudo');
  const missing: string[] = [];
  for (const [bin, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
    ['conntrack', 'conntrack'],
    ['kamailio', 'kamailio'],
    ['kamcmd', 'kamailio'],
    ['sipp', 'sip-tester'],
  ] as const) {
    const ok = await run(['sh', '-c', `command -v ${bin}`]).then(
      () => true,
      () => false,
    );
    if (!ok) missing.push(`${bin} (apt-get install ${pkg})`);
  }
  if (missing.length) throw new UserError(`sipbake rehearse needs ${missing.join(', ')}`, 'install the missing packages and run it again');
}

interface Live {
  k: number;
  id: string;
  ns: string;
  tree: string;
  procs: ManagedProcess[];
  agent?: ManagedProcess;
  kamailio?: ManagedProcess;
}

/** Namespaces left by a rehearsal whose process died without cleaning up (SIGKILL): their processes, then them. */
async function removeStale(log: (l: string) => void): Promise<void> {
  const list = await run(['ip', 'netns', 'list']).catch(() => '');
  for (const ns of list.split('\n').map((l) => l.split(' ')[0] ?? '')) {
    const pid = Number(/^sbr(\d+)[a-z]*-/.exec(ns)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    for (const p of (await run(['ip', 'netns', 'pids', ns]).catch(() => '')).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await run(['ip', 'netns', 'del', ns]).catch(() => '');
    log(`removed namespace ${ns} left by an earlier rehearsal (process ${pid} is gone)`);
  }
}

/** The Call-IDs of the dialogs in kamcmd dlg.list output. */
function dialogCallIds(out: string): string[] {
  return [...out.matchAll(/(?:call-id|callid):\s*(\S+)/gi)].flatMap(([, id]) => (id === undefined ? [] : [id]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function rehearse(o: RehearseOptions): Promise<RehearsalSummary> {
  await preflight();
  await removeStale(o.log ?? (() => undefined));
  const log = o.log ?? (() => undefined);
  const t0 = Date.now();
  const sec = (ms: number) => ms / 1000;
  const names = netNames(process.pid, o.tag ?? '');
  const dir = await mkdtemp(path.join(os.tmpdir(), `sipbake-rehearse-`));
  const timeline: TimelineEntry[] = [];
  const event = (id: string, what: string) => {
    const e = { t: Math.round((Date.now() - t0) / 100) / 10, id, what };
    timeline.push(e);
    o.reporter?.event({ event: 'rehearsal', ...e });
    log(`${e.t.toFixed(1).padStart(6)} s  ${id.padEnd(18)} ${what}`);
  };
  const procs: ManagedProcess[] = [];
  const timers: NodeJS.Timeout[] = [];
  const cancels: Array<() => void> = [];
  /** Set when cleanup starts: nothing new is started after it. */
  let closing = false;
  const servers: http.Server[] = [];
  const nsCreated: string[] = [];
  const live = new Map<string, Live>();
  // Every id the controller acts on was launched (and set here) first.
  const liveOf = (id: string): Live => {
    const l = live.get(id);
    if (l === undefined) throw new Error(`rehearsal: instance ${id} was never launched`);
    return l;
  };
  const check = () => {
    if (o.signal?.aborted) throw new AbortError('rehearsal interrupted');
  };
  // Ctrl-C during a long wait: the wait ends at once, and `finally` removes everything.
  const interrupted = new Promise<never>((_, reject) => {
    if (o.signal?.aborted) reject(new AbortError('rehearsal interrupted'));
    o.signal?.addEventListener('abort', () => reject(new AbortError('rehearsal interrupted')), { once: true });
  });
  interrupted.catch(() => undefined);
  const hookTimeoutMs = (o.hookTimeoutSeconds * 1000) / o.scale;
  const deregMs = (o.deregistrationDelaySeconds * 1000) / o.scale;
  const hold = {
    minMs: Math.round((o.callSeconds * 1000) / 3 / o.scale),
    maxMs: Math.round((o.callSeconds * 1000) / o.scale),
  };
  const start = (argv: string[], name: string, logFile?: string) => {
    const p = startProcess(argv, { name, cwd: dir, ...(logFile ? { logFile: path.join(dir, logFile) } : {}) });
    procs.push(p);
    return p;
  };
  const sh = async (cmds: Cmd[]) => {
    for (const c of cmds) {
      const [bin, object, verb, ns] = c;
      if (bin === 'ip' && object === 'netns' && verb === 'add' && ns !== undefined) nsCreated.push(ns);
      await run(c);
    }
  };

  try {
    // ---- images: the old one and the new one (default: the same definition rendered again) ----
    const patch = { scale: o.scale, hookTimeoutSeconds: o.hookTimeoutSeconds };
    const oldImg = await prepareImage(o.root, o.image, path.join(dir, 'old'), patch);
    const newImg = await prepareImage(o.root, o.to ?? o.image, path.join(dir, 'new'), patch);
    if (oldImg.port !== newImg.port)
      throw new UserError(
        `--to ${o.to} listens on ${newImg.port}, ${o.image} on ${oldImg.port}`,
        'an NLB listener forwards one port: roll between images on the same SIP port',
      );
    event(
      'rehearsal',
      `${oldImg.name} → ${newImg.name}: ${o.instances} instance(s), ${o.calls} call(s) of ${hold.minMs / 1000}-${hold.maxMs / 1000} s, time scale 1/${o.scale}`,
    );

    // ---- network ----
    await sh(baseCommands(names, { udpIdleSeconds: Math.max(1, Math.round(120 / o.scale)), stickiness: true }));
    await run(['ip', 'netns', 'exec', names.nlb, 'nft', '-f', '-'], nlbRuleset({ udpIdleSeconds: 0, stickiness: true }));
    await run(['ip', 'netns', 'exec', names.nat, 'nft', '-f', '-'], natRuleset());
    await run(['ip', 'netns', 'exec', names.inet, 'nft', '-f', '-'], internetRuleset());
    event(
      'network',
      `internet, NLB ${ADDR.nlbEip} (flow hash, source-IP stickiness, UDP idle ${Math.round(120 / o.scale)} s), NAT gateway ${ADDR.natEip} (random ports)`,
    );
    const helper = helperScript();
    const probeSock = path.join(dir, 'probe.sock');
    start(['ip', 'netns', 'exec', names.nlb, process.execPath, helper, '--probe', probeSock], 'nlb health checker');
    const asgSock = path.join(dir, 'autoscaling.sock');

    // ---- the Auto Scaling group, its endpoints ----
    let cs: ControllerState = initialController(o.instances, Date.now());
    const pending = { completed: [] as string[], heartbeats: [] as string[] };
    const asgCalls: AsgCall[] = [];
    const imdsState = new Map<string, string>();
    const boots = new Map<string, InstanceBoot>();
    servers.push(
      await serveAutoScaling(
        asgSock,
        {
          groupName: 'rehearsal-asg',
          hookName: oldImg.hookName,
          hookTimeoutSeconds: Math.max(1, Math.round(hookTimeoutMs / 1000)),
          stateOf: (id) => cs.instances.find((i) => i.id === id && i.state !== 'Terminated')?.state,
          // Terminated instances leave the group. Health: the controller registers a target only after its checks
          // pass and never marks one unhealthy (Auto Scaling's default is Healthy until a check says otherwise).
          members: () => cs.instances.filter((i) => i.state !== 'Terminated').map((i) => ({ id: i.id, lifecycleState: i.state, healthy: true })),
          heartbeat: (id) => cs.instances.find((i) => i.id === id)?.state === 'Terminating:Wait' && (pending.heartbeats.push(id), true),
          complete: (id) => cs.instances.find((i) => i.id === id)?.state === 'Terminating:Wait' && (pending.completed.push(id), true),
        },
        asgCalls,
      ),
    );

    const ec2Sock = path.join(dir, 'ec2.sock');
    const peerDiscovery = o.peerDiscovery ?? true;
    if (peerDiscovery)
      servers.push(
        await serveEc2(
          ec2Sock,
          () =>
            cs.instances.map((i) => ({
              id: i.id,
              imageId: i.image === 'old' ? 'ami-0rehearsalold' : 'ami-0rehearsalnew',
              privateIp: instanceIp(i.k),
              state: i.state === 'Terminated' ? ('terminated' as const) : ('running' as const),
            })),
          asgCalls,
        ),
      );

    const launch = async (k: number, id: string, img: RehearsalImage) => {
      const ns = names.instance(k);
      await sh(instanceCommands(names, k));
      const tree = path.join(dir, `i${k}`);
      await renderInstance(o.root, img, tree);
      const imdsSock = path.join(dir, `imds-${k}.sock`);
      imdsState.set(id, 'InService');
      servers.push(
        await serveImds(imdsSock, () =>
          instanceMetadata({
            instanceId: id,
            privateIp: instanceIp(k),
            // A private subnet: no public IPv4 of its own, unless the image advertises it (then the NLB's EIP).
            ...(img.advertise === 'instance-public-ipv4' ? { publicIp: ADDR.nlbEip } : {}),
            mac: instanceMac(k),
            vpcCidr: ADDR.subnet,
            region: 'us-east-1',
            targetLifecycleState: imdsState.get(id) ?? 'InService',
          }),
        ),
      );
      const nsx = ['ip', 'netns', 'exec', ns];
      const helperArgs = [
        '--forward',
        `127.0.0.1:1338=${imdsSock}`,
        '--forward',
        `127.0.0.1:1339=${asgSock}`,
        ...(peerDiscovery ? ['--forward', `127.0.0.1:1340=${ec2Sock}`] : []),
        ...(img.rtpproxy ? ['--rtpproxy', '127.0.0.1:7722'] : []),
      ];
      const h = start([...nsx, process.execPath, helper, ...helperArgs], `helper ${ns}`);
      await h.waitForLine(/^ready$/, 10_000);
      // The image's boot agent (sipbake-boot.service's ExecStart) writes the boot include, and rtpproxy-boot.env
      // for recorder-lb, from this instance's IMDS; Kamailio starts only after it succeeded.
      boots.set(id, await bootInstance(nsx, tree, id, path.join(dir, `boot-${k}.log`), o.signal));
      const kam = start(
        [...nsx, 'kamailio', '-DD', '-E', '-m', '64', '-M', '8', '-f', path.join(tree, 'etc/kamailio/kamailio.cfg')],
        `kamailio ${id}`,
        `kamailio-${k}.log`,
      );
      const agent = start(
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
      live.set(id, { k, id, ns, tree, procs: [h, kam, agent], agent, kamailio: kam });
    };
    const healthy = (k: number, port: number) =>
      new Promise<boolean>((resolve) => {
        const req = http.get({ socketPath: probeSock, path: `/tcp?host=${instanceIp(k)}&port=${port}`, timeout: 3000 }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b === '1'));
        });
        req.on('error', () => resolve(false));
        req.on('timeout', () => req.destroy());
      });
    let buckets: string[] = [];
    const setTargets = async () => {
      buckets = rebalance(
        buckets,
        cs.instances.filter((i) => i.registered).map((i) => instanceIp(i.k)),
      );
      await run(['ip', 'netns', 'exec', names.nlb, 'nft', '-f', '-'], mapScript(buckets));
    };

    // ---- the old image's instances, healthy and registered ----
    await Promise.all(cs.instances.map((i) => launch(i.k, i.id, oldImg)));
    const until = Date.now() + 30_000;
    for (const i of cs.instances) {
      while (!(await healthy(i.k, oldImg.healthPort))) {
        check();
        const l = liveOf(i.id);
        if (l.kamailio && !l.kamailio.running) throw l.kamailio.failure('Kamailio exited at start');
        if (Date.now() > until)
          throw new UserError(
            `instance ${i.id} never passed its health check (port ${oldImg.healthPort})`,
            `see ${dir}/kamailio-${i.k}.log and agent-${i.k}.log`,
          );
        await sleep(200);
      }
    }
    await setTargets();
    event('asg', `${o.instances} instance(s) of ${oldImg.name} InService and registered`);

    // ---- peers and calls ----
    const inet = ['ip', 'netns', 'exec', names.inet];
    const waitMs = hold.maxMs + 30_000;
    const writeScn = async (name: string, xml: string) => {
      const f = path.join(dir, `${name}.xml`);
      await writeFile(f, xml);
      return f;
    };
    const uasFile = await writeScn('uas', uas(hold, ADDR.nlbEip, oldImg.port, waitMs));
    const peers = oldImg.relay ? [ADDR.destination] : ADDR.recorders;
    for (const p of peers) {
      start(
        [
          ...inet,
          'sipp',
          '-sf',
          uasFile,
          '-i',
          p,
          '-p',
          '5060',
          '-mp',
          '17000',
          '-t',
          'u1',
          '-nostdin',
          '-skip_rlimit',
          '-bind_local',
          '-trace_msg',
          '-message_file',
          path.join(dir, `uas-${p}.log`),
          '-timeout',
          '600s',
        ],
        `sipp peer ${p}`,
      );
    }
    const callerFile = await writeScn('uac-caller', uacCallerBye(hold));
    const calleeFile = await writeScn('uac-callee', uacCalleeBye(waitMs));
    // Calls spread over the time the roll should take, so that every instance has calls when it is picked. SIPp
    // places a UAC's first call one period after it starts, so the UACs start staggered: arrivals are even overall.
    const estimateMs = o.instances * (1500 + deregMs + (hold.minMs + hold.maxMs) / 2 + 1000);
    const sources = ADDR.sources;
    const groups = sources.flatMap((src) => [
      { src, kind: 'caller' as const, file: callerFile, service: 'callerbye' },
      { src, kind: 'callee' as const, file: calleeFile, service: 'calleebye' },
    ]);
    const periodMs = Math.max(200, Math.round(estimateMs / Math.max(1, o.calls / groups.length)));
    const windowMs = periodMs * (Math.ceil(o.calls / groups.length) + 1) + hold.maxMs;
    const uacs: ManagedProcess[] = [];
    const uacStarts: Promise<void>[] = [];
    let left = o.calls;
    groups.forEach((g, gi) => {
      const n = Math.floor(left / (groups.length - gi));
      left -= n;
      if (n === 0) return;
      const argv = [
        ...inet,
        'sipp',
        `${ADDR.nlbEip}:${oldImg.port}`,
        '-sf',
        g.file,
        '-s',
        g.service,
        '-i',
        g.src,
        '-p',
        String(7000 + gi),
        '-mp',
        String(16000 + gi * 10),
        '-t',
        'un',
        '-m',
        String(n),
        '-r',
        '1',
        '-rp',
        String(periodMs),
        '-nostdin',
        '-skip_rlimit',
        '-trace_msg',
        '-message_file',
        path.join(dir, `uac-${gi}.log`),
        '-trace_stat',
        '-stf',
        path.join(dir, `uac-${gi}.csv`),
        '-fd',
        '1',
        '-recv_timeout',
        `${waitMs}ms`,
        '-timeout',
        `${Math.round((windowMs + waitMs * 2) / 1000) + 60}s`,
      ];
      const staggered = cancellableSleep(Math.round((gi * periodMs) / groups.length));
      cancels.push(staggered.cancel);
      uacStarts.push(
        staggered.done.then(() => {
          if (!closing) uacs.push(start(argv, `sipp ${g.kind}-bye from ${g.src}`));
        }),
      );
    });
    const natFlows: string[] = [];
    const natWatch = setInterval(() => {
      void run(['ip', 'netns', 'exec', names.nat, 'conntrack', '-L', '-p', 'udp']).then(
        (out) => {
          for (const l of out.split('\n')) {
            // One entry per flow: the tuples only (state, timers, flags and counters change as it lives).
            const flow = [...l.matchAll(/(?:src|dst|sport|dport)=\S+/g)].map((m) => m[0]).join(' ');
            if (l.includes(`dst=${ADDR.natEip}`) && !natFlows.includes(flow)) natFlows.push(flow);
          }
        },
        () => undefined,
      );
    }, 1000);
    timers.push(natWatch);
    event(
      'calls',
      `${o.calls} call(s) from ${sources.length} source address(es), one every ${(periodMs / groups.length / 1000).toFixed(1)} s; half end with a caller BYE, half with a callee BYE`,
    );

    // The busy trunk: one SIPp on one socket (198.51.100.30:5060), a call every quarter of the deregistration delay
    // from now until the roll ends (then SIGUSR1: SIPp places no new call and ends when its calls have), so calls
    // arrive while each instance that holds the trunk's flow is deregistered and keeps it.
    const trunkOn = o.trunk ?? true;
    const trunkPeriodMs = Math.max(200, Math.round(deregMs / 4));
    const trunkCap = Math.ceil((estimateMs * 4 + 60_000) / trunkPeriodMs);
    let trunk: ManagedProcess | undefined;
    if (trunkOn) {
      const trunkFile = await writeScn('uac-trunk', uacTrunk(hold, waitMs, { ip: ADDR.trunk, port: 5060 }, { ip: ADDR.nlbEip, port: oldImg.port }));
      // The trunk's edge owns 198.51.100.30:5060 (one socket, one flow to the NLB) and answers requests where they
      // came from, as a real trunk does by the Via's received/rport; SIPp sits behind it on loopback.
      const edge = start(
        [...inet, process.execPath, helper, '--trunk-edge', `${ADDR.trunk}:5060=127.0.0.1:5061=127.0.0.1:5062=${ADDR.nlbEip}:${oldImg.port}`],
        'trunk edge',
      );
      await edge.waitForLine(/^ready$/, 10_000);
      trunk = start(
        [
          ...inet,
          'sipp',
          '127.0.0.1:5061',
          '-sf',
          trunkFile,
          '-i',
          '127.0.0.1',
          '-p',
          '5062',
          '-mp',
          '18000',
          '-t',
          'u1',
          '-m',
          String(trunkCap),
          '-r',
          '1',
          '-rp',
          String(trunkPeriodMs),
          '-nostdin',
          '-skip_rlimit',
          '-trace_msg',
          '-message_file',
          path.join(dir, 'uac-trunk.log'),
          '-recv_timeout',
          `${waitMs}ms`,
          '-timeout',
          `${Math.round((trunkCap * trunkPeriodMs + waitMs * 2) / 1000) + 60}s`,
        ],
        `sipp trunk from ${ADDR.trunk}:5060`,
      );
      event('calls', `trunk ${ADDR.trunk}:5060: one call every ${(trunkPeriodMs / 1000).toFixed(2)} s over one UDP flow until the roll ends`);
    }
    /** While the instance holding the trunk's flow is deregistered and keeps it: [from, to) per such instance. */
    const trunkDraining: Array<{ id: string; from: number; to?: number }> = [];
    const trunkTarget = async (): Promise<string | undefined> => {
      const out = await run(['ip', 'netns', 'exec', names.nlb, 'conntrack', '-L', '-p', 'udp', '--orig-src', ADDR.trunk, '--orig-port-src', '5060']).catch(
        () => '',
      );
      return /sport=5060 dport=\d+\s+src=(10\.0\.1\.\d+)/.exec(out)?.[1];
    };

    if (o.stopDrainAgents) {
      for (const l of live.values()) await l.agent?.stop('SIGKILL', 500);
      event('control', 'drain agents of the old instances stopped (negative control)');
    }
    // The roll starts once calls are up on the first instance to leave (bounded: stickiness may leave an instance
    // without callers).
    const dialogsOn = async (k: number) =>
      Number(
        /all:\s*(\d+)/.exec(
          await run(['kamcmd', '-s', `unix:${path.join(dir, `i${k}`)}/run/kamailio/kamailio_ctl`, 'dlg.stats_active']).catch(() => ''),
        )?.[1] ?? 0,
      );
    const [firstToLeave] = cs.instances;
    if (firstToLeave === undefined) throw new Error('rehearsal: a group without instances (--instances is 1-20)');
    const readyBy = Date.now() + Math.round(periodMs * 2);
    while (Date.now() < readyBy) {
      check();
      if ((await dialogsOn(firstToLeave.k)) > 0) break;
      await sleep(200);
    }

    // ---- the roll ----
    const params: ControllerParams = {
      deregistrationDelayMs: deregMs,
      hookTimeoutMs,
      healthyThreshold: 2,
      launchTimeoutMs: 30_000,
    };
    const callsAtPick = new Map<string, string[]>();
    const heldAtTerminate = new Map<string, { at: number; calls: string[] }>();
    const rollStart = Date.now();
    while (!cs.done) {
      check();
      const health: Record<string, boolean> = {};
      if (cs.launching) {
        const launching = cs.launching;
        const inst = cs.instances.find((i) => i.id === launching);
        if (inst === undefined) throw new Error(`rehearsal: the controller launches ${launching}, which is not one of its instances`);
        health[inst.id] = await healthy(inst.k, newImg.healthPort);
      }
      const obs = {
        now: Date.now(),
        health,
        completed: pending.completed.splice(0),
        heartbeats: pending.heartbeats.splice(0),
      };
      const r = step(cs, obs, params);
      cs = r.state;
      for (const a of r.actions) await perform(a);
      await sleep(Math.max(20, nextDelayMs(cs, Date.now(), 200, params)));
    }
    const rollMs = Date.now() - rollStart;
    if (trunk?.pid !== undefined && trunk.running) process.kill(trunk.pid, 'SIGUSR1');
    event('asg', cs.failed ? `roll failed: ${cs.failed}` : `every instance replaced in ${(rollMs / 1000).toFixed(1)} s`);

    async function perform(a: Action): Promise<void> {
      switch (a.type) {
        case 'event':
          return event(a.id, a.what);
        case 'launch':
          return launch(a.k, a.id, newImg);
        case 'register':
          return setTargets();
        case 'deregister': {
          await setTargets();
          const ip = instanceIp(liveOf(a.id).k);
          if (trunk !== undefined && (await trunkTarget()) === ip) {
            trunkDraining.push({ id: a.id, from: Date.now() });
            event(a.id, `keeps the trunk's flow (${ADDR.trunk}:5060) through its deregistration delay`);
          }
          return;
        }
        case 'set-target-state': {
          imdsState.set(a.id, a.state);
          // Which calls the instance holds now (the dialogs its drain has to wait for).
          const held = dialogCallIds(await run(['kamcmd', '-s', `unix:${liveOf(a.id).tree}/run/kamailio/kamailio_ctl`, 'dlg.list']).catch(() => ''));
          callsAtPick.set(a.id, held);
          event(a.id, `holds ${held.length} call(s)`);
          return;
        }
        case 'cut-flows':
          for (const w of trunkDraining) if (w.id === a.id && w.to === undefined) w.to = Date.now();
          await run(['ip', 'netns', 'exec', names.nlb, 'conntrack', '-D', '--dst-nat', instanceIp(liveOf(a.id).k)]).catch(() => '');
          return;
        case 'terminate': {
          const l = liveOf(a.id);
          const out = await run(['kamcmd', '-s', `unix:${l.tree}/run/kamailio/kamailio_ctl`, 'dlg.list']).catch(() => '');
          heldAtTerminate.set(a.id, { at: Date.now(), calls: dialogCallIds(out) });
          await Promise.all(l.procs.map((p) => p.stop('SIGTERM', 1000)));
          await run(['ip', 'netns', 'del', l.ns]).catch(() => '');
          return;
        }
      }
    }

    // ---- the calls end by themselves ----
    await Promise.race([Promise.all(uacStarts), interrupted]);
    const cap = cancellableSleep(windowMs + waitMs + 10_000);
    await Promise.race([Promise.all([...uacs, ...(trunk ? [trunk] : [])].map((u) => u.exited)), cap.done, interrupted]).finally(cap.cancel);
    clearInterval(natWatch);
    const outcomes = callOutcomes(await Promise.all(groups.map((_, gi) => readFile(path.join(dir, `uac-${gi}.log`), 'utf8').catch(() => ''))));
    const uasLogs = await Promise.all(peers.map((p) => readFile(path.join(dir, `uas-${p}.log`), 'utf8').catch(() => '')));
    const ends = callEnds([...uasLogs]);
    const trunkLog = trunk ? await readFile(path.join(dir, 'uac-trunk.log'), 'utf8').catch(() => '') : '';
    const trunkOutcomes = trunk ? callOutcomes([trunkLog]) : [];
    for (const c of [...outcomes, ...trunkOutcomes]) {
      const e = ends.get(c.callId);
      if (e !== undefined) c.endedAt = e;
    }

    // A call is cut when the instance that owned its dialog was terminated while the call was still up (its end,
    // seen at the callee, came later or never): its media anchor and dialog state went with the instance.
    const cut = new Set<string>();
    for (const [, h] of heldAtTerminate) for (const c of h.calls) if ((ends.get(c) ?? Infinity) > h.at) cut.add(c);
    for (const c of [...outcomes, ...trunkOutcomes]) if (cut.has(c.callId) && c.result !== 'refused') c.result = 'dropped';
    const poll = oldImg.pollSeconds;
    const perInstanceSummary: InstanceSummary[] = cs.instances.map((i) => {
      const s: InstanceSummary = {
        id: i.id,
        image: i.image,
        heartbeats: i.heartbeats,
        ...(i.endedBy ? { endedBy: i.endedBy } : {}),
      };
      const boot = boots.get(i.id);
      if (boot !== undefined) s.boot = boot;
      const { pickedAt, terminatedAt } = i;
      if (pickedAt !== undefined && terminatedAt !== undefined) {
        const held = callsAtPick.get(i.id) ?? [];
        const lastEnd = Math.max(pickedAt, ...held.map((c) => ends.get(c) ?? pickedAt));
        s.drainSeconds = sec(terminatedAt - pickedAt) * o.scale;
        s.longestRemainingCallSeconds = sec(lastEnd - pickedAt) * o.scale;
        s.callsAtPick = held.length;
        s.callsCut = (heldAtTerminate.get(i.id)?.calls ?? []).filter((c) => cut.has(c)).length;
        // An instance that kept the trunk's flow relayed new INVITEs to a peer until the cut; the drain waits for
        // those INVITE transactions, which Kamailio keeps for its wait timer after the answer (tm wt_timer, 5 s,
        // not scaled: the rehearsal scales AWS's timers and the calls, not Kamailio's).
        const handoffsUntil = Math.max(0, ...trunkDraining.filter((w) => w.id === i.id).map((w) => (w.to ?? terminatedAt) + TM_WAIT_MS));
        s.withinBound = terminatedAt - pickedAt <= Math.max(lastEnd, handoffsUntil) - pickedAt + deregMs + poll * 1000 + 1000;
      }
      return s;
    });
    // The sequential floor: each replacement's launch-to-healthy, its old instance's deregistration delay and what
    // was left of its drain after the delay (AWS cannot do better in this order; src/roll/drain-timing.ts).
    const floorMs =
      cs.instances
        .filter((i) => i.image === 'old')
        .reduce((sum, i) => {
          const { pickedAt } = i;
          if (pickedAt === undefined) return sum;
          const held = callsAtPick.get(i.id) ?? [];
          const left = Math.max(0, ...held.map((c) => (ends.get(c) ?? pickedAt) - pickedAt));
          return sum + deregMs + Math.max(0, left - deregMs);
        }, 0) + cs.instances.filter((i) => i.image === 'new').reduce((sum, i) => sum + ((i.inServiceAt ?? i.launchedAt) - i.launchedAt), 0);
    const natLogs = uasLogs.join('\n');
    let trunkSummary: RehearsalSummary['trunk'];
    if (trunk) {
      const kamLogs = await Promise.all(
        (await readdir(dir)).filter((f) => /^kamailio-\d+\.log$/.test(f)).map((f) => readFile(path.join(dir, f), 'utf8').catch(() => '')),
      );
      // When each trunk call's INVITE left the trunk (its first send).
      const invitedAt = new Map<string, number>();
      for (const m of timedMessages(trunkLog)) {
        const id = /^Call-ID:\s*(\S+)/im.exec(m.text)?.[1];
        if (m.direction === 'sent' && /^INVITE /.test(m.text) && id !== undefined && !invitedAt.has(id)) invitedAt.set(id, m.at);
      }
      const end = Date.now();
      const trunkIds = new Set(trunkOutcomes.map((c) => c.callId));
      const count = (r: CallOutcome['result']) => trunkOutcomes.filter((c) => c.result === r).length;
      trunkSummary = {
        source: `${ADDR.trunk}:5060`,
        placed: trunkOutcomes.length,
        completed: count('completed'),
        refused: count('refused'),
        dropped: count('dropped'),
        unanswered: count('unanswered'),
        callerBye: trunkOutcomes.filter((c) => c.result === 'completed' && c.endedBy === 'caller').length,
        calleeBye: trunkOutcomes.filter((c) => c.result === 'completed' && c.endedBy === 'callee').length,
        handedOff: handedOff(natLogs, trunkIds).length,
        handoffsLogged: handoffsLogged(kamLogs, trunkIds),
        placedWhileDraining: [...invitedAt.values()].filter((t) => trunkDraining.some((w) => t >= w.from && t < (w.to ?? end))).length,
      };
      event(
        'trunk',
        `${trunkSummary.placed} call(s): ${trunkSummary.completed} completed, ${trunkSummary.refused} refused, ${trunkSummary.dropped} dropped; ${trunkSummary.placedWhileDraining} placed while its flow's instance drained, ${trunkSummary.handedOff} handed off`,
      );
    }
    const summary: RehearsalSummary = {
      image: oldImg.name,
      to: newImg.name,
      instances: o.instances,
      scale: o.scale,
      deregistrationDelaySeconds: o.deregistrationDelaySeconds,
      hookTimeoutSeconds: o.hookTimeoutSeconds,
      pollSeconds: poll,
      calls: {
        placed: outcomes.length,
        completed: outcomes.filter((c) => c.result === 'completed').length,
        dropped: outcomes.filter((c) => c.result === 'dropped').length,
        refused: outcomes.filter((c) => c.result === 'refused').length,
        unanswered: outcomes.filter((c) => c.result === 'unanswered').length,
        callerBye: outcomes.filter((c) => c.result === 'completed' && c.endedBy === 'caller').length,
        calleeBye: outcomes.filter((c) => c.result === 'completed' && c.endedBy === 'callee').length,
      },
      perInstance: perInstanceSummary,
      rollSeconds: sec(rollMs) * o.scale,
      floorSeconds: sec(floorMs) * o.scale,
      hooksTimedOut: cs.instances.filter((i) => i.endedBy === 'timeout').length,
      timeline,
      droppedCalls: [...outcomes, ...trunkOutcomes].filter((c) => c.result === 'dropped'),
      ...(trunkSummary ? { trunk: trunkSummary } : {}),
      natPath: { ...natPath(natLogs), ...natTranslations(natFlows) },
      ...(cs.failed ? { failed: cs.failed } : {}),
    };
    if (asgCalls.length)
      event(
        'asg',
        `${asgCalls.filter((c) => c.action === 'CompleteLifecycleAction' && !c.ok).length} CompleteLifecycleAction(s) refused before Terminating:Wait, ${asgCalls.filter((c) => c.action === 'CompleteLifecycleAction' && c.ok).length} accepted`,
      );
    return summary;
  } finally {
    closing = true;
    for (const c of cancels) c();
    for (const t of timers) clearInterval(t);
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 1500).catch(() => undefined)));
    for (const s of servers) await closeServer(s).catch(() => undefined);
    for (const ns of nsCreated.reverse()) await run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    if (!o.keepDir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    else log(`files kept in ${dir}`);
  }
}

/** Kamailio tm's wt_timer default (https://www.kamailio.org/docs/modules/5.6.x/modules/tm.html#tm.p.wt_timer). */
const TM_WAIT_MS = 5000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A sleep that can be cancelled, so a finished race leaves no timer keeping the process alive. */
function cancellableSleep(ms: number): { done: Promise<void>; cancel: () => void } {
  let t: NodeJS.Timeout | undefined;
  const done = new Promise<void>((r) => (t = setTimeout(r, ms)));
  return { done, cancel: () => clearTimeout(t) };
}
