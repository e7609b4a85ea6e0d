import { DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { BlockList, isIPv4 } from 'node:net';

// The serving peers of a draining instance: where it hands new INVITEs (the NLB keeps the trunk's one UDP
// flow on this instance for the whole deregistration delay). Auto Scaling names the group and its members,
// EC2 their private addresses. Choosing one is pure; the lookup is a thin effect.
// Auto Scaling says Healthy during a new instance's grace period whatever its target group says, so with a
// load balancer client a peer must also be healthy in every target group of the group. Draining instances
// spread over the peers (each starts at a place given by a hash of its own id). The drain agent limits lookups with
// the drain machine's peerCheckEveryMs (src/contract/drain-timing.ts), not cacheMs (kept for the API-budget bench).

interface PeerCandidate {
  InstanceId?: string;
  LifecycleState?: string;
  HealthStatus?: string;
}

/** A peer found (`peer`: its private address, `ADDRESS:PORT` when its target group names its port), or none (with
 *  why), or the lookup failed (with what to do). */
export type PeerResult = { peer: string; instanceId: string } | { none: string } | { failed: string };

export interface PeerFinder {
  find(): Promise<PeerResult>;
}

/** Pure: members that serve (InService and Healthy, as DescribeAutoScalingGroups spells them), not self, by id. */
export function servingPeers(instances: PeerCandidate[], self: string): string[] {
  return instances
    .flatMap((i) =>
      i.InstanceId && i.InstanceId !== self && i.LifecycleState === 'InService' && i.HealthStatus?.toLowerCase() === 'healthy' ? [i.InstanceId] : [],
    )
    .sort();
}

/** Pure: is this IPv4 inside the CIDR (a.b.c.d/n)? (node:net's BlockList does the subnet arithmetic.) */
export function inCidr(ip: string, cidr: string): boolean {
  const [net, bits, extra] = cidr.split('/');
  const n = Number(bits);
  if (extra !== undefined || !isIPv4(ip) || !isIPv4(net ?? '') || !/^\d{1,2}$/.test(bits ?? '') || n > 32) return false;
  const list = new BlockList();
  list.addSubnet(net ?? '', n, 'ipv4');
  return list.check(ip, 'ipv4');
}

/** Pure: where in a list of n peers an instance starts looking (FNV-1a of its id), so drains spread out. */
export function spreadStart(self: string, n: number): number {
  let h = 0x811c9dc5;
  for (const c of self) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return n > 0 ? h % n : 0;
}

/**
 * Pure: the first peer (by instance id, or from spreadStart(spreadBy) on) with a private IPv4 inside the peer
 * network, if any.
 */
export function choosePeer(
  ids: string[],
  addresses: Map<string, string>,
  peerNet: string | undefined,
  spreadBy?: string,
): { peer: string; instanceId: string } | undefined {
  const start = spreadBy === undefined ? 0 : spreadStart(spreadBy, ids.length);
  for (const id of [...ids.slice(start), ...ids.slice(0, start)]) {
    const ip = addresses.get(id);
    if (ip && isIPv4(ip) && (peerNet === undefined || inCidr(ip, peerNet))) return { peer: ip, instanceId: id };
  }
  return undefined;
}

/** Pure: one line for a failed lookup: what failed and what to do. */
function peerLookupProblem(call: string, e: unknown): string {
  const name = e instanceof Error ? e.name : 'Error';
  const msg = e instanceof Error ? e.message : String(e);
  if (/AccessDenied|UnauthorizedOperation|not authorized/i.test(`${name} ${msg}`))
    return `${call} was denied (${name}): the instance role lacks ${call}; print the policy with \`sipbake iam instance\` and attach it`;
  if (/Throttl|RequestLimitExceeded|Rate exceeded/i.test(`${name} ${msg}`)) return `${call} was throttled (${name}); retrying at the next peer check`;
  return `${call} failed: ${name}: ${msg.slice(0, 200)}`;
}

export interface PeerFinderOptions {
  autoScaling: Pick<AutoScalingClient, 'send'>;
  ec2: Pick<EC2Client, 'send'>;
  instanceId: string;
  /** SIPBAKE_PEER_NET from the boot include; undefined when unknown (no filter). */
  peerNet?: string;
  /** One lookup's time budget: a slow API must not stall the drain's polls. */
  timeoutMs?: number;
  /** With it, a peer must be healthy in every target group of the group too (DescribeTargetHealth). */
  elbv2?: Pick<ElasticLoadBalancingV2Client, 'send'>;
  /** Spread draining instances over the peers (by a hash of the own id) instead of all taking the first. */
  spread?: boolean;
  /** Reuse a lookup's answer this long (default 0: every call looks up). */
  cacheMs?: number;
  now?: () => number;
}

class LookupFailed extends Error {}

export function peerFinder(o: PeerFinderOptions): PeerFinder {
  let group: string | undefined;
  const budgetMs = o.timeoutMs ?? 5000;
  // The request itself is aborted when the budget runs out (the SDK's abortSignal), not only stopped being awaited.
  const call = async <T>(label: string, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> => {
    const signal = AbortSignal.timeout(budgetMs);
    try {
      return await send(signal);
    } catch (e) {
      throw new LookupFailed(
        peerLookupProblem(label, signal.aborted ? Object.assign(new Error(`no answer within ${budgetMs} ms`), { name: 'TimeoutError' }) : e),
      );
    }
  };
  const now = o.now ?? Date.now;
  let cached: { at: number; result: PeerResult } | undefined;
  /** Ids healthy in every target group (Auto Scaling's Healthy alone is not enough during the grace period), and
   *  the port each is registered with in the first (a target's own Port: images on different SIP ports). */
  const healthyInTargetGroups = async (
    elbv2: NonNullable<PeerFinderOptions['elbv2']>,
    ids: string[],
    arns: string[],
    ports: Map<string, number>,
  ): Promise<string[]> => {
    let keep = ids;
    for (const arn of arns) {
      if (keep.length === 0) break;
      // The whole group, not `Targets: ids`: one id ELBv2 does not know yet (just launched) fails a by-id call.
      const out = await call('elasticloadbalancing:DescribeTargetHealth', (abortSignal) =>
        elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }), { abortSignal }),
      );
      const healthy = new Set((out.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy').map((d) => d.Target?.Id));
      for (const d of out.TargetHealthDescriptions ?? []) if (d.Target?.Id && d.Target.Port && !ports.has(d.Target.Id)) ports.set(d.Target.Id, d.Target.Port);
      keep = keep.filter((id) => healthy.has(id));
    }
    return keep;
  };
  const lookup = async (): Promise<PeerResult> => {
    try {
      if (group === undefined) {
        const out = await call('autoscaling:DescribeAutoScalingInstances', (abortSignal) =>
          o.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [o.instanceId] }), { abortSignal }),
        );
        group = out.AutoScalingInstances?.[0]?.AutoScalingGroupName;
      }
      const name = group;
      if (!name) return { none: `instance ${o.instanceId} is in no Auto Scaling group` };
      const g = await call('autoscaling:DescribeAutoScalingGroups', (abortSignal) =>
        o.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }), { abortSignal }),
      );
      const inService = servingPeers(g.AutoScalingGroups?.[0]?.Instances ?? [], o.instanceId);
      if (inService.length === 0) return { none: `no other InService, Healthy instance in ${name}` };
      const arns = g.AutoScalingGroups?.[0]?.TargetGroupARNs ?? [];
      const ports = new Map<string, number>();
      const ids = o.elbv2 && arns.length ? await healthyInTargetGroups(o.elbv2, inService, arns, ports) : inService;
      if (ids.length === 0) return { none: `no other InService instance in ${name} is healthy in its target groups` };
      const d = await call('ec2:DescribeInstances', (abortSignal) => o.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }), { abortSignal }));
      const addresses = new Map<string, string>();
      for (const r of d.Reservations ?? [])
        for (const i of r.Instances ?? []) if (i.InstanceId && i.PrivateIpAddress) addresses.set(i.InstanceId, i.PrivateIpAddress);
      const chosen = choosePeer(ids, addresses, o.peerNet, o.spread ? o.instanceId : undefined);
      if (!chosen) return { none: `no serving instance in ${name} has a private address inside the peer network ${o.peerNet ?? ''}`.trim() };
      const port = ports.get(chosen.instanceId);
      // Kamailio hands off to the peer's own SIP port ($shv(handoff) ADDRESS:PORT); without it, to its own.
      return port === undefined ? chosen : { ...chosen, peer: `${chosen.peer}:${port}` };
    } catch (e) {
      if (e instanceof LookupFailed) return { failed: e.message };
      return { failed: peerLookupProblem('peer lookup', e) };
    }
  };
  return {
    async find() {
      const t = now();
      if (cached && t - cached.at < (o.cacheMs ?? 0)) return cached.result;
      const result = await lookup();
      cached = { at: t, result };
      return result;
    },
  };
}
