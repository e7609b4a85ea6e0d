import { isIP } from 'node:net';
import type { ImageDefinition } from './schema.js';
import type { PathSegment, PointAt } from './locate.js';

// Rules that span fields. Pure: they run on a definition that already passed the schema and
// return every problem with the field path it is about; load.ts positions them in the file.

export interface RuleIssue {
  path: PathSegment[];
  message: string;
  got?: string;
  fix: string;
  at?: PointAt;
}

/** The NLB's fixed TCP idle timeout (seconds); it cannot be changed. */
export const NLB_IDLE_TIMEOUT = 350;

const ALGORITHMS: Record<number, string> = {
  0: 'hash over Call-ID', 1: 'hash over From URI', 2: 'hash over To URI', 3: 'hash over Request-URI', 4: 'round-robin',
  5: 'hash over authorization username', 6: 'random', 7: 'hash over a PV', 8: 'priority order', 9: 'weight-based',
  10: 'call load', 11: 'relative weight', 12: 'parallel forking', 13: 'latency-optimised',
};
export const algorithmName = (n: number): string => `algorithm ${n}${ALGORITHMS[n] ? ` (${ALGORITHMS[n]})` : ''}`;

/** The human summary of every rule, in the order they run (shown in the README field reference). */
export const RULE_SUMMARIES: readonly string[] = [
  '`name` equals the file name without `.yaml`.',
  'Exactly one of `relay` (seed 000) and `dispatcher` (seed 004).',
  'At least one listener; `listen.tls` needs `tls.enabled: true` and `tls.enabled: true` needs `listen.tls`.',
  'A relay or dispatcher destination can only use a transport Kamailio listens on (it sends from a socket of that transport).',
  '`tls.maxConnections` ≤ `tcp.maxConnections` (when TLS is on: TLS connections are TCP connections).',
  `\`tcp.keepaliveIdle\` and \`tcp.keepaliveInterval\` are below ${NLB_IDLE_TIMEOUT} s, the NLB's fixed idle timeout. Every keepalive probe passes the NLB and resets its timer, so only the gaps between packets matter; \`keepaliveIdle + keepaliveInterval × keepaliveCount\` (how long a dead peer takes to detect) may exceed ${NLB_IDLE_TIMEOUT} s and is not checked.`,
  '`media.rtpproxy.rtpPorts.min` < `max`.',
  'An RTPProxy control socket that is not loopback (127.x, ::1, localhost or unix:) needs `allowNonLoopbackControl: true`: the control protocol has no authentication.',
  'No two sockets on the instance collide. TCP: `listen.tcp`, `listen.tls`, `drain.healthCheck.port`. UDP (with RTPProxy on): `listen.udp`, the RTPProxy control port and the RTP port range. TCP and UDP ports never collide with each other.',
  'Dispatcher attributes need the algorithm that reads them: `weight` needs algorithm 9, `rweight` 11, `duid`/`maxload` 10. Algorithm 9 needs a `weight` on every destination, summing to exactly 100 (Kamailio ignores the destinations past 100, and gives a shortfall to the last one); algorithm 10 needs a `duid` on each, algorithm 11 an `rweight` on each. No destination is listed twice.',
  'No literal secrets: an unknown field named like a password, secret or token is reported as one, secret fields (`dispatcher.backend.password`, `tls.*Secret`) must be references `{ source: ssm|secretsmanager, name }` read at boot, and no URI may carry `user:password@`.',
  '`drain.pollSeconds` < `drain.maxSeconds`.',
  '`advertise.source: elastic-ip` needs `advertise.elasticIp`, and `elasticIp` needs that source.',
  '`deploy.refresh.checkpointPercentages` rise strictly and end at 100; `maxHealthyPercentage` > `minHealthyPercentage` and at most 100 apart (the AWS limit); `deploy.healthyDeadlineSeconds` > `instanceWarmup`.',
  '`bake.amiRegions` lists each region once and not `bake.region` itself (the AMI is built there).',
];

type Rule = (img: ImageDefinition, ctx: RuleContext) => RuleIssue[];
export interface RuleContext {
  /** The file's base name without extension; `name:` must equal it. */
  fileName?: string;
}

const nameMatchesFile: Rule = (img, { fileName }) =>
  fileName !== undefined && img.name !== fileName
    ? [{ path: ['name'], message: `must equal the file name '${fileName}'`, got: JSON.stringify(img.name), fix: `set name: ${fileName}, or rename the file to images/${img.name}.yaml` }]
    : [];

const oneRole: Rule = (img) => {
  if (img.relay && img.dispatcher) return [{ path: ['dispatcher'], at: 'key', message: 'an image is either a relay or a dispatcher, and this one has both relay: and dispatcher:', fix: 'keep one of them: relay: (one destination domain, seed 000) or dispatcher: (a set of recorders, seed 004)' }];
  if (!img.relay && !img.dispatcher) return [{ path: [], message: 'has neither relay: nor dispatcher:', fix: 'add relay: (relay every call to one SIP domain, seed 000) or dispatcher: (spread calls across destinations, seed 004)' }];
  return [];
};

const listeners: Rule = (img) => {
  const out: RuleIssue[] = [];
  const { udp, tcp, tls } = img.listen;
  if (udp === undefined && tcp === undefined && tls === undefined) out.push({ path: ['listen'], at: 'key', message: 'has no listener', fix: 'add at least one of udp:, tcp: or tls: with a port, e.g. udp: 5060' });
  if (tls !== undefined && !img.tls.enabled) out.push({ path: ['listen', 'tls'], message: 'a TLS listener needs TLS turned on', got: String(tls), fix: 'set tls.enabled: true (with tls.certificate and tls.privateKey), or remove listen.tls' });
  if (img.tls.enabled && tls === undefined) out.push({ path: ['tls', 'enabled'], message: 'TLS is on but nothing listens for it', got: 'true', fix: 'add listen.tls with a port (e.g. 5061), or set tls.enabled: false' });
  const has = { udp: udp !== undefined, tcp: tcp !== undefined, tls: tls !== undefined };
  const check = (path: PathSegment[], transport: 'udp' | 'tcp' | 'tls') => {
    if (!has[transport]) out.push({ path, message: `Kamailio sends ${transport.toUpperCase()} only from a ${transport} listener, and this image has none`, got: JSON.stringify(transport), fix: `add listen.${transport}, or use a transport it listens on (${Object.keys(has).filter((k) => has[k as 'udp']).join(', ') || 'none'})` });
  };
  if (img.relay) check(['relay', 'destination', 'transport'], img.relay.destination.transport);
  img.dispatcher?.destinations.forEach((d, i) => check(['dispatcher', 'destinations', i, 'transport'], d.transport));
  return out;
};

const connectionLimits: Rule = (img) =>
  img.tls.enabled && img.tls.maxConnections > img.tcp.maxConnections
    ? [{ path: ['tls', 'maxConnections'], message: `must not exceed tcp.maxConnections (${img.tcp.maxConnections}): every TLS connection is also a TCP connection`, got: String(img.tls.maxConnections), fix: `lower tls.maxConnections to at most ${img.tcp.maxConnections}, or raise tcp.maxConnections` }]
    : [];

const keepalive: Rule = (img) => {
  const out: RuleIssue[] = [];
  for (const f of ['keepaliveIdle', 'keepaliveInterval'] as const) {
    if (img.tcp[f] >= NLB_IDLE_TIMEOUT) out.push({ path: ['tcp', f], message: `must be below the NLB's fixed ${NLB_IDLE_TIMEOUT} s idle timeout, or the NLB silently drops idle TCP connections before a keepalive reaches it`, got: String(img.tcp[f]), fix: `use at most ${NLB_IDLE_TIMEOUT - 1} (the seeds use ${f === 'keepaliveIdle' ? 300 : 30})` });
  }
  return out;
};

const rtpRange: Rule = (img) => {
  const { min, max } = img.media.rtpproxy.rtpPorts;
  return min >= max ? [{ path: ['media', 'rtpproxy', 'rtpPorts', 'min'], message: `must be below rtpPorts.max (${max})`, got: String(min), fix: 'swap them, or widen the range (e.g. min: 20000, max: 30000)' }] : [];
};

/** The control socket's host and port; unix sockets have no port. */
export function parseControlSocket(s: string): { kind: 'unix' } | { kind: 'udp'; host: string; port: number } {
  if (s.startsWith('unix:')) return { kind: 'unix' };
  const m = /^udp6?:(?:\[([^\]]+)\]|(.*)):(\d+)$/.exec(s);
  return { kind: 'udp', host: (m?.[1] ?? m?.[2] ?? '').trim(), port: Number(m?.[3] ?? 0) };
}

export function isLoopbackHost(h: string): boolean {
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

const controlSocket: Rule = (img) => {
  const rp = img.media.rtpproxy;
  const sock = parseControlSocket(rp.controlSocket);
  if (sock.kind === 'unix' || isLoopbackHost(sock.host) || rp.allowNonLoopbackControl) return [];
  return [{ path: ['media', 'rtpproxy', 'controlSocket'], message: 'is not on loopback, and the RTPProxy control protocol has no authentication: anyone who reaches it can steer or tear down media', got: JSON.stringify(rp.controlSocket), fix: 'use udp:127.0.0.1:7722 (RTPProxy runs beside Kamailio), or set media.rtpproxy.allowNonLoopbackControl: true if it really must be reachable' }];
};

interface Socket {
  path: PathSegment[];
  proto: 'tcp' | 'udp';
  lo: number;
  hi: number;
  what: string;
}

const portClashes: Rule = (img) => {
  const s: Socket[] = [];
  const one = (path: PathSegment[], proto: 'tcp' | 'udp', p: number | undefined, what: string) => p !== undefined && s.push({ path, proto, lo: p, hi: p, what });
  one(['listen', 'udp'], 'udp', img.listen.udp, 'the UDP SIP listener');
  one(['listen', 'tcp'], 'tcp', img.listen.tcp, 'the TCP SIP listener');
  one(['listen', 'tls'], 'tcp', img.listen.tls, 'the TLS SIP listener');
  one(['drain', 'healthCheck', 'port'], 'tcp', img.drain.healthCheck.port, 'the NLB health check');
  const rp = img.media.rtpproxy;
  if (rp.enabled) {
    const sock = parseControlSocket(rp.controlSocket);
    if (sock.kind === 'udp') one(['media', 'rtpproxy', 'controlSocket'], 'udp', sock.port, 'the RTPProxy control socket');
    if (rp.rtpPorts.min < rp.rtpPorts.max) s.push({ path: ['media', 'rtpproxy', 'rtpPorts'], proto: 'udp', lo: rp.rtpPorts.min, hi: rp.rtpPorts.max, what: `the RTP port range ${rp.rtpPorts.min}-${rp.rtpPorts.max}` });
  }
  const out: RuleIssue[] = [];
  for (let i = 0; i < s.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = s[j]!;
      const b = s[i]!;
      if (a.proto !== b.proto || b.lo > a.hi || a.lo > b.hi) continue;
      // Report at the single port (not the range), naming the other socket.
      const [at, other] = b.lo === b.hi ? [b, a] : [a, b];
      const inRange = other.lo !== other.hi;
      out.push({ path: at.path, message: `${at.proto.toUpperCase()} port ${at.lo} ${inRange ? 'lies inside' : 'is also used by'} ${other.what} (${other.path.join('.')}), so one of them cannot bind`, got: String(at.lo), fix: inRange ? `move it outside ${other.lo}-${other.hi}, or shrink the RTP range` : 'give each socket its own port' });
    }
  }
  return out;
};

const dispatcherAttrs: Rule = (img) => {
  const ds = img.dispatcher;
  if (!ds) return [];
  const out: RuleIssue[] = [];
  const alg = ds.algorithm;
  const needs: [keyof (typeof ds.destinations)[number]['attrs'], number, string][] = [
    ['weight', 9, 'weight-based'],
    ['rweight', 11, 'relative weight'],
    ['maxload', 10, 'call load'],
    ['duid', 10, 'call load'],
  ];
  ds.destinations.forEach((d, i) => {
    for (const [attr, want, label] of needs) {
      if (d.attrs[attr] !== undefined && alg !== want) {
        out.push({ path: ['dispatcher', 'destinations', i, 'attrs', attr], message: `${algorithmName(alg)} ignores '${attr}', so this destination would not get the share you wrote`, got: String(d.attrs[attr]), fix: `set dispatcher.algorithm: ${want} (${label}), or remove '${attr}'` });
      }
    }
  });
  const missing = (attr: 'weight' | 'rweight' | 'duid', why: string) =>
    ds.destinations.forEach((d, i) => {
      if (d.attrs[attr] === undefined) out.push({ path: ['dispatcher', 'destinations', i], message: `${algorithmName(alg)} needs attrs.${attr} on every destination, and this one has none`, fix: `add attrs: { ${attr}: ${attr === 'duid' ? `rec${i}` : '…'} } (${why})` });
    });
  if (alg === 9) {
    missing('weight', 'without it Kamailio gives the destination no calls');
    const weights = ds.destinations.map((d) => d.attrs.weight);
    if (weights.every((w) => w !== undefined)) {
      const sum = weights.reduce<number>((a, w) => a + (w ?? 0), 0);
      if (sum !== 100) {
        const effect = sum > 100 ? 'Kamailio ignores every destination whose weight takes the sum past 100' : `Kamailio gives the missing ${100 - sum}% to the last destination`;
        out.push({ path: ['dispatcher', 'destinations'], at: 'key', message: `weights must add up to 100 percent under algorithm 9, but they add up to ${sum}: ${effect}`, got: weights.join(' + '), fix: 'adjust attrs.weight so the destinations sum to exactly 100 (e.g. 60 and 40)' });
      }
    }
  }
  if (alg === 10) missing('duid', 'it identifies the destination whose active calls are counted');
  if (alg === 11) missing('rweight', 'without it the destination is left out of the relative weight distribution');
  const seen = new Map<string, number>();
  ds.destinations.forEach((d, i) => {
    const k = `${d.host.toLowerCase()}:${d.port}:${d.transport}`;
    const first = seen.get(k);
    if (first !== undefined) out.push({ path: ['dispatcher', 'destinations', i, 'host'], message: `repeats destination ${first} (${d.host}:${d.port} over ${d.transport})`, got: JSON.stringify(d.host), fix: 'list each destination once; use attrs.weight to give it a bigger share' });
    else seen.set(k, i);
  });
  return out;
};

/** `scheme://user:pass@` or `sip:user:pass@`: a password inside a URI. */
const URI_PASSWORD = /^[a-z][a-z0-9+.-]*:(\/\/)?[^\s/@:]+:[^\s/@]+@/i;

const noLiteralSecrets: Rule = (img) => {
  const out: RuleIssue[] = [];
  const walk = (v: unknown, path: PathSegment[]) => {
    if (typeof v === 'string' && URI_PASSWORD.test(v)) out.push({ path, message: 'carries a password inside the URI (user:password@), and the definition ends up in the AMI and in git', got: 'a URI with a password, not shown', fix: 'remove the password from the URI; secrets are read at boot from SSM or Secrets Manager' });
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(img, []);
  return out;
};

const drainTiming: Rule = (img) =>
  img.drain.pollSeconds >= img.drain.maxSeconds
    ? [{ path: ['drain', 'pollSeconds'], message: `must be shorter than drain.maxSeconds (${img.drain.maxSeconds}), or the agent never looks at the call count before the drain times out`, got: String(img.drain.pollSeconds), fix: 'use a few seconds (default 5), or raise drain.maxSeconds' }]
    : [];

const advertise: Rule = (img) => {
  const a = img.advertise;
  if (a.source === 'elastic-ip' && !a.elasticIp) return [{ path: ['advertise', 'source'], message: 'elastic-ip needs the address to advertise', got: '"elastic-ip"', fix: 'add advertise.elasticIp: the NLB/NAT Elastic IP, e.g. 44.199.36.104' }];
  if (a.source !== 'elastic-ip' && a.elasticIp) return [{ path: ['advertise', 'elasticIp'], message: `is only used with source: elastic-ip, but source is ${a.source}`, got: JSON.stringify(a.elasticIp), fix: 'set advertise.source: elastic-ip, or remove elasticIp' }];
  return [];
};

const deployRefresh: Rule = (img) => {
  const d = img.deploy;
  if (!d) return [];
  const r = d.refresh;
  const out: RuleIssue[] = [];
  const cps = r.checkpointPercentages;
  if (cps && cps.length) {
    const bad = cps.findIndex((p, i) => i > 0 && p <= cps[i - 1]!);
    if (bad > 0) out.push({ path: ['deploy', 'refresh', 'checkpointPercentages', bad], message: `must be greater than the checkpoint before it (${cps[bad - 1]}): checkpoints rise`, got: String(cps[bad]), fix: 'list the percentages in increasing order, e.g. [10, 50, 100]' });
    else if (cps[cps.length - 1] !== 100) out.push({ path: ['deploy', 'refresh', 'checkpointPercentages', cps.length - 1], message: 'the last checkpoint must be 100, or the refresh stops part-way and never finishes', got: String(cps[cps.length - 1]), fix: 'end the list with 100, e.g. [50, 100]' });
  }
  if (r.maxHealthyPercentage <= r.minHealthyPercentage) out.push({ path: ['deploy', 'refresh', 'maxHealthyPercentage'], message: `must be greater than minHealthyPercentage (${r.minHealthyPercentage}), or no instance can be replaced`, got: String(r.maxHealthyPercentage), fix: 'raise maxHealthyPercentage (e.g. 200) or lower minHealthyPercentage' });
  else if (r.maxHealthyPercentage - r.minHealthyPercentage > 100) out.push({ path: ['deploy', 'refresh', 'maxHealthyPercentage'], message: `may be at most 100 above minHealthyPercentage (${r.minHealthyPercentage}); AWS rejects a wider gap`, got: String(r.maxHealthyPercentage), fix: `use at most ${r.minHealthyPercentage + 100}, or raise minHealthyPercentage` });
  if (d.healthyDeadlineSeconds <= r.instanceWarmup) out.push({ path: ['deploy', 'healthyDeadlineSeconds'], message: `must be longer than refresh.instanceWarmup (${r.instanceWarmup}), or every new instance misses its deadline`, got: String(d.healthyDeadlineSeconds), fix: `use more than ${r.instanceWarmup} (default 900)` });
  return out;
};

const amiRegions: Rule = (img) => {
  const out: RuleIssue[] = [];
  const seen = new Set<string>();
  img.bake.amiRegions.forEach((r, i) => {
    if (r === img.bake.region) out.push({ path: ['bake', 'amiRegions', i], message: `is bake.region itself, where the AMI is built; copying it there again fails`, got: JSON.stringify(r), fix: 'remove it; list only the extra regions' });
    else if (seen.has(r)) out.push({ path: ['bake', 'amiRegions', i], message: 'is listed twice', got: JSON.stringify(r), fix: 'list each region once' });
    seen.add(r);
  });
  return out;
};

/** Advice: pike may ban one source sending at the rate the image is sized for (pike README: blocks between x and 3x). */
const antifloodBelowCapacity: Rule = (img) => {
  const af = img.antiflood;
  if (!af.enabled || af.requestsDensity === undefined) return [];
  const need = img.capacity.callsPerSecond * af.sampleTime;
  if (af.requestsDensity >= need) return [];
  return [{ path: ['antiflood', 'requestsDensity'], message: `is below what one source sends at capacity.callsPerSecond (${img.capacity.callsPerSecond}/s x sampleTime ${af.sampleTime} s = ${need} initial requests), so pike may ban a trunk at the rate this image is sized for`, got: String(af.requestsDensity), fix: `remove requestsDensity (default ${Math.ceil(1.5 * need)}), raise it to at least ${need}, or list the trunk in antiflood.exempt` }];
};

/** Rules that warn: the definition stays valid. */
export const WARNING_RULES: readonly Rule[] = [antifloodBelowCapacity];

/** Every warning for a schema-valid definition. */
export function checkWarnings(img: ImageDefinition, ctx: RuleContext = {}): RuleIssue[] {
  return WARNING_RULES.flatMap((r) => r(img, ctx));
}

export const RULES: readonly Rule[] = [nameMatchesFile, oneRole, listeners, connectionLimits, keepalive, rtpRange, controlSocket, portClashes, dispatcherAttrs, noLiteralSecrets, drainTiming, advertise, deployRefresh, amiRegions];

/** Every cross-field problem in a schema-valid definition. */
export function checkRules(img: ImageDefinition, ctx: RuleContext = {}): RuleIssue[] {
  return RULES.flatMap((r) => r(img, ctx));
}
