// Where an instance's agents reach the region's AWS APIs: the instance helper forwards 127.0.0.1:1338-1341 inside
// the instance's namespace to the IMDS and the region wire server's unix sockets (fleet.ts serveRegion).
import type { Fleet } from './fleet.js';

/**
 * The instance helper's forwards: IMDS on 127.0.0.1:1338, and the region's Auto Scaling, EC2 and ELBv2 APIs on
 * 1339-1341 (AGENT_ENDPOINTS), as the agents reach them.
 */
export function agentForwards(f: Pick<Fleet, 'asgSock' | 'ec2Sock' | 'elbv2Sock' | 'peerDiscovery'>, imdsSock: string): string[] {
  const peers = f.peerDiscovery ? [`127.0.0.1:1340=${f.ec2Sock}`, `127.0.0.1:1341=${f.elbv2Sock}`] : [];
  return [`127.0.0.1:1338=${imdsSock}`, `127.0.0.1:1339=${f.asgSock}`, ...peers].flatMap((x) => ['--forward', x]);
}

/**
 * The drain agent's AWS endpoints in an instance (agentForwards). Without peer discovery nothing listens on the EC2
 * and ELBv2 ports: the lookup fails (connection refused) and a draining instance refuses new INVITEs. Never left
 * unset: the SDK would aim at the real endpoints. With ELBv2, a peer must also be healthy in the target group (the
 * NLB's own checks, which the model follows), not only Healthy to Auto Scaling, whose grace period hides a dead one.
 */
export const AGENT_ENDPOINTS = [
  'SIPBAKE_AUTOSCALING_ENDPOINT=http://127.0.0.1:1339',
  'SIPBAKE_EC2_ENDPOINT=http://127.0.0.1:1340',
  'SIPBAKE_ELBV2_ENDPOINT=http://127.0.0.1:1341',
] as const;
