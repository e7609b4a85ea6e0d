import { existsSync } from 'node:fs';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ctlSocket } from '../contract/boot-include.js';
import { readBootResult } from '../contract/boot-result.js';
import { runDrain } from './drain.js';
import { drainProgressFile } from './drain-progress.js';
import type { AgentEnv } from './env.js';
import { healthPort, sipHealthProbe } from './health-port.js';
import { Imds, META, spotInterruptionAt } from './imds.js';
import { kamcmdRpc } from './kamailio-rpc.js';
import { peerFinder } from './peers.js';
import { lifecycleHook, type LifecycleHook } from './lifecycle.js';
import type { Log } from './log.js';
import { readManifest } from '../contract/image-manifest.js';
import { releaseBeforeComplete } from './media-address.js';

// `agent.mjs drain`: wires the real effects (IMDS, kamcmd, a TCP port, the Auto Scaling API) into runDrain.

type Manifest = Awaited<ReturnType<typeof readManifest>>;

interface Clients {
  autoScaling: AutoScalingClient;
  lookupAutoScaling: AutoScalingClient;
  ec2: EC2Client;
  elbv2?: ElasticLoadBalancingV2Client;
}

function awsClients(env: AgentEnv, region: string): Clients {
  const endpoint = env.autoScalingEndpoint ? { endpoint: env.autoScalingEndpoint } : {};
  // Peer lookups only: few retries, so a poll never waits long on them (a failure means 503, not a broken drain).
  // The peers' target health (ELBv2) on AWS, or at SIPBAKE_ELBV2_ENDPOINT. Pointed at a test endpoint for Auto
  // Scaling without one for ELBv2, the agent goes without it and trusts Auto Scaling's health.
  const elbv2 = env.elbv2Endpoint ? { endpoint: env.elbv2Endpoint } : env.autoScalingEndpoint ? undefined : {};
  return {
    autoScaling: new AutoScalingClient({ region, maxAttempts: 5, ...endpoint }),
    lookupAutoScaling: new AutoScalingClient({ region, maxAttempts: 2, ...endpoint }),
    ec2: new EC2Client({ region, maxAttempts: 2, ...(env.ec2Endpoint ? { endpoint: env.ec2Endpoint } : {}) }),
    ...(elbv2 ? { elbv2: new ElasticLoadBalancingV2Client({ region, maxAttempts: 2, ...elbv2 }) } : {}),
  };
}

function destroyClients(c: Clients): void {
  c.autoScaling.destroy();
  c.lookupAutoScaling.destroy();
  c.ec2.destroy();
  c.elbv2?.destroy();
}

/** SIGTERM/SIGINT abort the drain and cut the current sleep short. */
function signals(): { signal: AbortSignal; sleep: (ms: number) => Promise<void> } {
  const stop = new AbortController();
  let wake: (() => void) | undefined;
  const onSignal = () => {
    stop.abort();
    wake?.();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  return { signal: stop.signal, sleep };
}

/** Stay up with the port closed until shutdown: exiting would let systemd restart us into serving again. */
async function untilShutdown(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  const keepAlive = setInterval(() => {}, 3_600_000); // signal handlers alone do not keep node running
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  clearInterval(keepAlive);
}

interface Wiring {
  m: Manifest;
  log: Log;
  imds: Imds;
  instanceId: string;
  clients: Clients;
  peerNet: string | undefined;
}

function lifecycleOf(w: Wiring): LifecycleHook {
  const { m, log, instanceId } = w;
  return releaseBeforeComplete(
    lifecycleHook({
      autoScaling: w.clients.autoScaling,
      instanceId,
      hookName: m.drain.lifecycleHookName,
      fallbackHeartbeatTimeoutSeconds: m.drain.heartbeatTimeoutSeconds,
      log,
    }),
    // media.address elastic-ip-pool: the claimed address goes back to the pool once the calls are over.
    m.rtpproxy && m.mediaAddress.source === 'elastic-ip-pool' ? { ec2: w.clients.ec2, instanceId, pool: m.mediaAddress.pool, log } : undefined,
  );
}

function peersOf(w: Wiring): ReturnType<typeof peerFinder> {
  const { clients } = w;
  return peerFinder({
    autoScaling: clients.lookupAutoScaling,
    ec2: clients.ec2,
    instanceId: w.instanceId,
    ...(w.peerNet ? { peerNet: w.peerNet } : {}),
    ...(clients.elbv2 ? { elbv2: clients.elbv2 } : {}),
    timeoutMs: 5000,
    spread: true,
  });
}

export async function runDrainAgent(env: AgentEnv, log: Log): Promise<number> {
  const m = await readManifest(env.root);
  const cfg = m.drain;
  const kamcmd = env.kamcmd ?? (m.kamcmd && existsSync(m.kamcmd) ? m.kamcmd : 'kamcmd');
  const socket = ctlSocket(env.root);
  const imdsOptions = { endpoint: env.imdsEndpoint, requestTimeoutMs: env.imdsRequestTimeoutSeconds * 1000 };
  // Drain polls must not stall on IMDS: a short budget per read, retried at the next poll.
  const imds = new Imds({ ...imdsOptions, budgetMs: Math.min(env.imdsBudgetSeconds * 1000, cfg.pollSeconds * 1000) });
  const instanceId = await new Imds({ ...imdsOptions, budgetMs: env.imdsBudgetSeconds * 1000 }).get(META.instanceId);
  const clients = awsClients(env, await imds.get(META.region));
  // What boot decided (boot.json): the address Kamailio listens on, for the SIP health probe, and the peer network.
  const boot = await readBootResult(env.root);
  const w: Wiring = { m, log, imds, instanceId, clients, peerNet: boot?.peerNet };
  const port = healthPort(cfg.healthCheck.port, '0.0.0.0', sipHealthProbe(m.sipUdpPort, boot?.privateIp, cfg.pollSeconds, log));
  const { signal, sleep } = signals();
  log(
    `instance ${instanceId}: health-check port ${cfg.healthCheck.port} (${cfg.healthCheck.behaviour} on drain), ctl ${socket}, polling every ${cfg.pollSeconds} s`,
  );
  try {
    const report = await runDrain(cfg, {
      now: Date.now,
      sleep,
      lifecycleState: () => imds.find(META.targetLifecycleState),
      spotInterruption: () => spotInterruptionAt(imds),
      kamailio: kamcmdRpc({ kamcmd, socket }),
      health: { open: () => port.open(), fail: () => port.fail(cfg.healthCheck.behaviour) },
      lifecycle: lifecycleOf(w),
      peers: peersOf(w),
      log,
      signal,
      progress: drainProgressFile(env.root, log),
    });
    if (!report) {
      log('stopped by signal');
      return 0;
    }
    log(`summary: ${JSON.stringify(report)}`);
    await port.stop();
    await untilShutdown(signal);
    return report.completed ? 0 : 1;
  } finally {
    await port.stop();
    destroyClients(clients);
  }
}
