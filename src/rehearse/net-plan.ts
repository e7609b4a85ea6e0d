// Pure: the rehearsal network's names, addresses and the commands that build it (README.md here has the picture).
// Everything is created inside namespaces named with the run's prefix (veth ends are created directly in their
// namespaces, so nothing is ever named in the host's namespace), and deleting the namespaces removes all of it.

export const ADDR = {
  /** Public side ("the internet"): the source Twilio's addresses, the destination, the recorders. */
  sources: ['198.51.100.11', '198.51.100.12', '198.51.100.13', '198.51.100.14', '198.51.100.15', '198.51.100.16'],
  /** A busy SIP trunk: all its calls from this address and port 5060 (one UDP 5-tuple to the NLB). */
  trunk: '198.51.100.30',
  destination: '198.51.100.20',
  recorders: ['198.51.100.21', '198.51.100.22'],
  /** Where the callers' RTP comes from: other addresses than their signalling (Twilio publishes separate ranges). */
  mediaSources: ['198.51.100.41', '198.51.100.42', '198.51.100.43', '198.51.100.44', '198.51.100.45', '198.51.100.46'],
  /** Each instance's own media Elastic IP (instanceEip(k)), 1:1 NAT at the subnet's router, as seed 004 does. */
  mediaEips: '203.0.113.128/25',
  /** Elastic IP 1: the NLB. Elastic IP 2: the NAT gateway. */
  nlbEip: '203.0.113.10',
  natEip: '203.0.113.20',
  /** Transit links internet↔NLB and internet↔NAT (stand-ins for AWS's edge). */
  inetNlb: ['100.64.0.1', '100.64.0.2'] as const,
  inetNat: ['100.64.1.1', '100.64.1.2'] as const,
  /** The private subnet: the NLB's router end and the instances (10.0.1.11 …). */
  subnet: '10.0.1.0/24',
  router: '10.0.1.1',
  /** VPC link from the subnet's router to the NAT gateway. */
  vpcNat: ['10.0.2.1', '10.0.2.2'] as const,
};

/** Hash buckets of the NLB's flow table: more buckets than targets, so a deregistration moves only its own. */
export const BUCKETS = 60;

/** The flow hash's seed: fixed, so which bucket a source lands in can be computed (sources.ts aims callers with it).
 *  Without one nft asks the kernel for a random seed. 43: sources.ts's holder pool hits every bucket with it. */
export const NLB_HASH_SEED = 43;

export interface NetNames {
  prefix: string;
  inet: string;
  nlb: string;
  nat: string;
  instance(k: number): string;
}

export function netNames(pid: number, tag = ''): NetNames {
  const prefix = `sbr${pid}${tag}`;
  return {
    prefix,
    inet: `${prefix}-inet`,
    nlb: `${prefix}-nlb`,
    nat: `${prefix}-nat`,
    instance: (k) => `${prefix}-i${k}`,
  };
}

export function instanceIp(k: number): string {
  if (k < 1 || k > 200) throw new Error(`instance index ${k} out of range 1-200`);
  return `10.0.1.${10 + k}`;
}

/** Instance k's own media Elastic IP (media.address; docs/media.md). */
export function instanceEip(k: number): string {
  if (k < 1 || k > MEDIA_EIP_MAX) throw new Error(`instance index ${k} has no media Elastic IP (1-${MEDIA_EIP_MAX})`);
  return `203.0.113.${128 + k}`;
}
const MEDIA_EIP_MAX = 120;

export type Cmd = string[];

const ip = (ns: string, ...a: string[]): Cmd => ['ip', '-n', ns, ...a];
const sysctl = (ns: string, kv: string): Cmd => ['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', kv];

export interface NetOptions {
  /** UDP idle timeout of the NLB's flow table (AWS: 120 s), already scaled. */
  udpIdleSeconds: number;
  /** true: hash the source address only (target group stickiness on); false: the 5-tuple (NLB default). */
  stickiness: boolean;
  /**
   * The NLB's SIP listener ports: the old image's (the callers dial it) and, for a roll between images on different
   * ports, the new image's (its Via and Record-Route advertise it, so in-dialog requests come back on it).
   */
  listenPorts: readonly number[];
  /**
   * media.address on each instance's own address: the RTP port range that instanceEip(k) maps 1:1 to instance k
   * (DNAT in, SNAT out, routed straight to the internet: never through the NLB's flow hash nor the NAT gateway).
   * Absent: no per-instance addresses (media on the NLB's address, as before).
   */
  mediaRtpPorts?: { min: number; max: number };
}

/** Pure: the 1:1 NAT of the instances' media Elastic IPs (nft map elements, both directions). */
function mediaNat(r: { min: number; max: number }): { maps: string; pre: string; post: string; mark: string } {
  const ks = Array.from({ length: MEDIA_EIP_MAX }, (_, n) => n + 1);
  return {
    maps: `  map eip_in { type ipv4_addr : ipv4_addr; elements = { ${ks.map((k) => `${instanceEip(k)} : ${instanceIp(k)}`).join(', ')} } }
  map eip_out { type ipv4_addr : ipv4_addr; elements = { ${ks.map((k) => `${instanceIp(k)} : ${instanceEip(k)}`).join(', ')} } }
`,
    pre: `    ip daddr ${ADDR.mediaEips} dnat ip to ip daddr map @eip_in
`,
    post: `  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "inet" ip saddr ${ADDR.subnet} udp sport ${r.min}-${r.max} snat ip to ip saddr map @eip_out
  }
`,
    // RTP the instance starts (RTPProxy sending first) leaves from its own address, not through the NAT gateway.
    mark: `    iifname "br0" ip saddr ${ADDR.subnet} udp sport ${r.min}-${r.max} accept
`,
  };
}

/** A registered target: its address and the port it registered with (a target group keeps one port per target). */
export interface Target {
  ip: string;
  port: number;
}

/** The bucket map's key of a target (rebalance works on these strings). */
export function targetKey(t: Target): string {
  return `${t.ip}:${t.port}`;
}

function parseTargetKey(key: string): Target {
  const at = key.lastIndexOf(':');
  const port = Number(key.slice(at + 1));
  if (at < 0 || !Number.isInteger(port)) throw new Error(`NLB bucket ${JSON.stringify(key)} is not ADDRESS:PORT`);
  return { ip: key.slice(0, at), port };
}

/**
 * nft ruleset of the NLB namespace: flow-hash DNAT through a bucket map; the route mark for instance-originated flows.
 * A SIP listener forwards to the target's own port, as a target group does (`targets`: bucket → address . port);
 * any other port (media) keeps its port (`addrs`: bucket → address). Both maps share the hash, so one flow's
 * bucket names one instance in either.
 */
export function nlbRuleset(o: NetOptions): string {
  const hash = (l4: 'udp' | 'tcp') => (o.stickiness ? 'jhash ip saddr' : `jhash ip saddr . ${l4} sport`);
  const ports = [...new Set(o.listenPorts)].join(', ');
  const m = o.mediaRtpPorts ? mediaNat(o.mediaRtpPorts) : { maps: '', pre: '', post: '', mark: '' };
  const sip = (l4: 'udp' | 'tcp') =>
    `    ip daddr ${ADDR.nlbEip} ${l4} dport { ${ports} } dnat ip to ${hash(l4)} mod ${BUCKETS} seed ${NLB_HASH_SEED} map @targets\n`;
  return `table ip nlb {
  map targets { typeof numgen inc mod ${BUCKETS} : ip daddr . udp dport; }
  map addrs { typeof numgen inc mod ${BUCKETS} : ip daddr; }
${m.maps}  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
${m.pre}${sip('udp')}${sip('tcp')}    ip daddr ${ADDR.nlbEip} udp dport 1-65535 dnat to ${hash('udp')} mod ${BUCKETS} seed ${NLB_HASH_SEED} map @addrs
    ip daddr ${ADDR.nlbEip} tcp dport 1-65535 dnat to ${hash('tcp')} mod ${BUCKETS} seed ${NLB_HASH_SEED} map @addrs
  }
${m.post}  chain route_mark {
    type filter hook prerouting priority mangle; policy accept;
${m.mark}    iifname "br0" ct direction original meta mark set 2
  }
}
`;
}

/**
 * nft ruleset of the internet namespace: the callers answer as real user agents do, by the Via's received/rport
 * (RFC 3261 §18.2.2), which SIPp does not (it answers to the call's remote, the NLB). A request an instance sends to a
 * caller through the NAT gateway (a callee's BYE) teaches the caller's socket → the NAT's address and port; a SIP
 * response from that socket to the NLB then goes there instead (stateless rewrite, checksums updated by nft), back to
 * the sending instance. The trunk has its own edge (ns-helper --trunk-edge).
 */
export function internetRuleset(): string {
  const key = 'ip daddr . udp dport';
  return `table ip uaedge {
  map backip { type ipv4_addr . inet_service : ipv4_addr; flags dynamic,timeout; timeout 120s; }
  map backport { type ipv4_addr . inet_service : inet_service; flags dynamic,timeout; timeout 120s; }
  chain learn {
    type filter hook prerouting priority -150; policy accept;
    ip saddr ${ADDR.natEip} ip daddr { ${ADDR.sources.join(', ')} } @th,64,64 != ${SIP_RESPONSE} update @backip { ${key} : ip saddr } update @backport { ${key} : udp sport }
  }
  chain answer {
    type route hook output priority -150; policy accept;
    ip daddr ${ADDR.nlbEip} @th,64,64 ${SIP_RESPONSE} ip saddr . udp sport @backip udp dport set ip saddr . udp sport map @backport ip daddr set ip saddr . udp sport map @backip
  }
}
`;
}

/**
 * The NLB's TCP side at a deregistration delay's end: with connection termination on, the NLB closes the target's
 * remaining connections (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-attributes.html#deregistration-delay,
 * "Connection termination on deregistration"). Deleting conntrack entries does not reset TCP, so the instance's
 * established connections on its SIP ports are destroyed in its namespace (`ss -K`, SOCK_DESTROY: the kernel sends
 * the peer a RST, which the NLB's conntrack, still there, un-NATs to the caller). Run before `conntrack -D`.
 */
export function tcpResetCommands(ns: string, sipPorts: readonly number[]): Cmd[] {
  return [...new Set(sipPorts)].map((p) => ['ip', 'netns', 'exec', ns, 'ss', '-K', '-t', 'state', 'established', 'sport', '=', `:${p}`]);
}

/** "SIP/2.0 " — the first 8 bytes of a SIP response's UDP payload. */
const SIP_RESPONSE = '0x5349502f322e3020';

/** nft ruleset of the NAT gateway: source NAT to its Elastic IP with random ports (AWS NAT does not keep source ports). */
export function natRuleset(): string {
  return `table ip natgw {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "inet" snat to ${ADDR.natEip} fully-random
  }
}
`;
}

/** Commands that build internet, NLB (also the subnet's router) and NAT gateway. nft rulesets are loaded separately. */
export function baseCommands(n: NetNames, o: NetOptions): Cmd[] {
  const c: Cmd[] = [];
  for (const ns of [n.inet, n.nlb, n.nat]) c.push(['ip', 'netns', 'add', ns], ip(ns, 'link', 'set', 'lo', 'up'));
  // internet ↔ NLB, internet ↔ NAT
  c.push(ip(n.inet, 'link', 'add', 'nlb', 'type', 'veth', 'peer', 'name', 'inet', 'netns', n.nlb));
  c.push(ip(n.inet, 'link', 'add', 'nat', 'type', 'veth', 'peer', 'name', 'inet', 'netns', n.nat));
  c.push(ip(n.inet, 'addr', 'add', `${ADDR.inetNlb[0]}/30`, 'dev', 'nlb'), ip(n.inet, 'addr', 'add', `${ADDR.inetNat[0]}/30`, 'dev', 'nat'));
  for (const a of [...ADDR.sources, ...ADDR.mediaSources, ADDR.trunk, ADDR.destination, ...ADDR.recorders])
    c.push(ip(n.inet, 'addr', 'add', `${a}/32`, 'dev', 'lo'));
  c.push(ip(n.inet, 'link', 'set', 'nlb', 'up'), ip(n.inet, 'link', 'set', 'nat', 'up'));
  c.push(ip(n.inet, 'route', 'add', `${ADDR.nlbEip}/32`, 'via', ADDR.inetNlb[1]), ip(n.inet, 'route', 'add', `${ADDR.natEip}/32`, 'via', ADDR.inetNat[1]));
  // The instances' media Elastic IPs sit at the subnet's edge too (the NLB namespace is also its router).
  c.push(ip(n.inet, 'route', 'add', ADDR.mediaEips, 'via', ADDR.inetNlb[1]));
  // NLB: its Elastic IP, the subnet's bridge, the VPC link to the NAT gateway
  c.push(
    ip(n.nlb, 'addr', 'add', `${ADDR.inetNlb[1]}/30`, 'dev', 'inet'),
    ip(n.nlb, 'addr', 'add', `${ADDR.nlbEip}/32`, 'dev', 'inet'),
    ip(n.nlb, 'link', 'set', 'inet', 'up'),
  );
  c.push(ip(n.nlb, 'link', 'add', 'br0', 'type', 'bridge'), ip(n.nlb, 'addr', 'add', `${ADDR.router}/24`, 'dev', 'br0'), ip(n.nlb, 'link', 'set', 'br0', 'up'));
  c.push(ip(n.nlb, 'link', 'add', 'nat', 'type', 'veth', 'peer', 'name', 'vpc', 'netns', n.nat));
  c.push(ip(n.nlb, 'addr', 'add', `${ADDR.vpcNat[0]}/30`, 'dev', 'nat'), ip(n.nlb, 'link', 'set', 'nat', 'up'));
  c.push(ip(n.nlb, 'route', 'add', '198.51.100.0/24', 'via', ADDR.inetNlb[0]));
  // Flows the instances start (marked 2) leave through the NAT gateway; replies of NLB flows go back out directly.
  c.push(ip(n.nlb, 'route', 'add', 'default', 'via', ADDR.vpcNat[1], 'table', '200'), ip(n.nlb, 'rule', 'add', 'fwmark', '2', 'lookup', '200', 'pref', '100'));
  c.push(sysctl(n.nlb, 'net.ipv4.ip_forward=1'));
  c.push(
    sysctl(n.nlb, `net.netfilter.nf_conntrack_udp_timeout=${o.udpIdleSeconds}`),
    sysctl(n.nlb, `net.netfilter.nf_conntrack_udp_timeout_stream=${o.udpIdleSeconds}`),
  );
  // NAT gateway
  c.push(
    ip(n.nat, 'addr', 'add', `${ADDR.inetNat[1]}/30`, 'dev', 'inet'),
    ip(n.nat, 'addr', 'add', `${ADDR.natEip}/32`, 'dev', 'inet'),
    ip(n.nat, 'link', 'set', 'inet', 'up'),
  );
  c.push(ip(n.nat, 'addr', 'add', `${ADDR.vpcNat[1]}/30`, 'dev', 'vpc'), ip(n.nat, 'link', 'set', 'vpc', 'up'));
  c.push(ip(n.nat, 'route', 'add', ADDR.subnet, 'via', ADDR.vpcNat[0]), ip(n.nat, 'route', 'add', 'default', 'via', ADDR.inetNat[0]));
  c.push(sysctl(n.nat, 'net.ipv4.ip_forward=1'));
  return c;
}

/** Commands that add instance k to the private subnet (not yet a target). */
export function instanceCommands(n: NetNames, k: number): Cmd[] {
  const ns = n.instance(k);
  return [
    ['ip', 'netns', 'add', ns],
    ip(ns, 'link', 'set', 'lo', 'up'),
    ip(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `v${k}`, 'netns', n.nlb),
    ip(ns, 'addr', 'add', `${instanceIp(k)}/24`, 'dev', 'eth0'),
    ip(ns, 'link', 'set', 'eth0', 'up'),
    ip(ns, 'route', 'add', 'default', 'via', ADDR.router),
    ip(n.nlb, 'link', 'set', `v${k}`, 'master', 'br0'),
    ip(n.nlb, 'link', 'set', `v${k}`, 'up'),
  ];
}

/**
 * Pure: bucket → target after a registration change, moving as few buckets as possible (as a flow hash does):
 * buckets of targets still registered stay; a leaving target's buckets go to the least loaded; a new target takes
 * buckets from the most loaded until the spread is even.
 */
export function rebalance(prev: readonly string[] | undefined, targets: readonly string[], pinned: ReadonlyMap<number, string> = new Map()): string[] {
  if (targets.length === 0) return [];
  const map = Array.from({ length: BUCKETS }, (_, b) => {
    const t = prev?.[b];
    return t !== undefined && targets.includes(t) ? t : '';
  });
  const load = new Map(targets.map((t) => [t, map.filter((x) => x === t).length]));
  // The first target (in `targets` order: the map's insertion order) whose load `beats` every other's.
  const pick = (beats: (a: number, b: number) => boolean): [string, number] => {
    let best: [string, number] | undefined;
    for (const entry of load) if (best === undefined || beats(entry[1], best[1])) best = entry;
    if (best === undefined) throw new Error('rebalance: no targets'); // returned early above
    return best;
  };
  const least = () => pick((a, b) => a < b);
  const most = () => pick((a, b) => a > b);
  for (let b = 0; b < BUCKETS; b++) {
    if (map[b] !== '') continue;
    const [t, n] = least();
    map[b] = t;
    load.set(t, n + 1);
  }
  for (;;) {
    const [lo, nLo] = least();
    const [hi, nHi] = most();
    if (nHi - nLo <= 1) break;
    // A pinned bucket (a holder caller's, load.ts) stays with the target it was pinned to while that is registered.
    const mine = map.flatMap((t, b) => (t === hi ? [b] : []));
    const give = mine.filter((b) => pinned.get(b) !== hi).at(-1) ?? map.lastIndexOf(hi);
    map[give] = lo;
    load.set(hi, nHi - 1);
    load.set(lo, nLo + 1);
  }
  return map;
}

/**
 * One nft script that replaces both bucket maps atomically (flushes and the new elements in one transaction).
 * buckets: targetKey()s, "ADDRESS:PORT".
 */
export function mapScript(buckets: readonly string[]): string {
  const ts = buckets.map(parseTargetKey);
  const add = (map: string, value: (t: Target) => string) =>
    ts.length ? `add element ip nlb ${map} { ${ts.map((t, b) => `${b} : ${value(t)}`).join(', ')} }\n` : '';
  return `flush map ip nlb targets\nflush map ip nlb addrs\n${add('targets', (t) => `${t.ip} . ${t.port}`)}${add('addrs', (t) => t.ip)}`;
}
