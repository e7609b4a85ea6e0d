import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { BOOT_INCLUDE_PATH } from '../contract/boot-include.js';
import { runDrain } from './drain.js';
import { drainProgressFile } from './drain-progress.js';
import type { AgentEnv } from './env.js';
import { healthPort, sipHealthProbe } from './health-port.js';
import { Imds, META, spotInterruptionAt } from './imds.js';
import { findCtlSocket, kamcmdRpc, peerNetFromInclude, privateIpFromInclude } from './kamailio-rpc.js';
import { peerFinder } from './peers.js';
import { lifecycleHook } from './lifecycle.js';
import type { Log } from './log.js';
import { readManifest } from '../contract/image-manifest.js';
import { releaseBeforeComplete } from './media-address.js';

// `agent.mjs drain`: wires the real effects (IMDS, kamcmd, a TCP port, the Auto Scaling API) into runDrain.

export async function runDrainAgent(env: AgentEnv, log: Log): Promise<number> {
  const m = await readManifest(env.root);
  const cfg = m.drain;
  const kamcmd = env.kamcmd ?? (m.kamcmd && existsSync(m.kamcmd) ? m.kamcmd : 'kamcmd');
  const socket = await findCtlSocket(env.root);
  // Drain polls must not stall on IMDS: a short budget per read, retried at the next poll.
  const imds = new Imds({
    endpoint: env.imdsEndpoint,
    budgetMs: Math.min(env.imdsBudgetSeconds * 1000, cfg.pollSeconds * 1000),
    requestTimeoutMs: env.imdsRequestTimeoutSeconds * 1000,
  });
  const instanceId = await new Imds({
    endpoint: env.imdsEndpoint,
    budgetMs: env.imdsBudgetSeconds * 1000,
    requestTimeoutMs: env.imdsRequestTimeoutSeconds * 1000,
  }).get(META.instanceId);
  const region = await imds.get(META.region);
  const autoScaling = new AutoScalingClient({
    region,
    maxAttempts: 5,
    ...(env.autoScalingEndpoint ? { endpoint: env.autoScalingEndpoint } : {}),
  });
  // Peer lookups only: few retries, so a poll never waits long on them (a failure means 503, not a broken drain).
  const lookupAutoScaling = new AutoScalingClient({
    region,
    maxAttempts: 2,
    ...(env.autoScalingEndpoint ? { endpoint: env.autoScalingEndpoint } : {}),
  });
  const ec2 = new EC2Client({ region, maxAttempts: 2, ...(env.ec2Endpoint ? { endpoint: env.ec2Endpoint } : {}) });
  // Target health of the peers. Pointed at a test endpoint for Auto Scaling (the loopback fake serves Auto Scaling
  // and EC2 only), the agent goes without it and trusts Auto Scaling's health.
  const elbv2 = env.autoScalingEndpoint ? undefined : new ElasticLoadBalancingV2Client({ region, maxAttempts: 2 });
  const include = await readFile(`${env.root}/${BOOT_INCLUDE_PATH}`, 'utf8').catch(() => '');
  const peerNet = peerNetFromInclude(include);
  const port = healthPort(cfg.healthCheck.port, '0.0.0.0', sipHealthProbe(m.sipUdpPort, privateIpFromInclude(include), cfg.pollSeconds, log));
  const stop = new AbortController();
  let wake: (() => void) | undefined;
  const onSignal = () => {
    stop.abort();
    wake?.();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  log(
    `instance ${instanceId}: health-check port ${cfg.healthCheck.port} (${cfg.healthCheck.behaviour} on drain), ctl ${socket}, polling every ${cfg.pollSeconds} s`,
  );
  try {
    const report = await runDrain(cfg, {
      now: Date.now,
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        }),
      lifecycleState: () => imds.find(META.targetLifecycleState),
      spotInterruption: () => spotInterruptionAt(imds),
      kamailio: kamcmdRpc({ kamcmd, socket }),
      health: { open: () => port.open(), fail: () => port.fail(cfg.healthCheck.behaviour) },
      lifecycle: releaseBeforeComplete(
        lifecycleHook({
          autoScaling,
          instanceId,
          hookName: cfg.lifecycleHookName,
          fallbackHeartbeatTimeoutSeconds: cfg.heartbeatTimeoutSeconds,
          log,
        }),
        // media.address elastic-ip-pool: the claimed address goes back to the pool once the calls are over.
        m.rtpproxy && m.mediaAddress.source === 'elastic-ip-pool' ? { ec2, instanceId, pool: m.mediaAddress.pool, log } : undefined,
      ),
      peers: peerFinder({
        autoScaling: lookupAutoScaling,
        ec2,
        instanceId,
        ...(peerNet ? { peerNet } : {}),
        ...(elbv2 ? { elbv2 } : {}),
        timeoutMs: 5000,
        spread: true,
      }),
      log,
      signal: stop.signal,
      progress: drainProgressFile(env.root, log),
    });
    if (!report) {
      log('stopped by signal');
      return 0;
    }
    log(`summary: ${JSON.stringify(report)}`);
    // Stay up with the port closed until shutdown: exiting would let systemd restart us into serving again.
    await port.stop();
    if (!stop.signal.aborted) {
      const keepAlive = setInterval(() => {}, 3_600_000); // signal handlers alone do not keep node running
      await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
      clearInterval(keepAlive);
    }
    return report.completed ? 0 : 1;
  } finally {
    await port.stop();
    autoScaling.destroy();
    lookupAutoScaling.destroy();
    ec2.destroy();
    elbv2?.destroy();
  }
}
