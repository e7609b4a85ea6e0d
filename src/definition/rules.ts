import { isIP, isIPv4 } from 'node:net';
import { parseArn, partitionOf } from './partition.js';
import type { ImageDefinition } from './schema.js';
import type { PathSegment, PointAt } from './locate.js';
import { MEDIA_RULE_SUMMARY, mediaAddressRules } from './media-rules.js';

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
const NLB_IDLE_TIMEOUT = 350;

const ALGORITHMS: Record<number, string> = {
  0: 'hash over Call-ID',
  1: 'hash over From URI',
  2: 'hash over To URI',
  3: 'hash over Request-URI',
  4: 'round-robin',
  5: 'hash over authorization username',
  6: 'random',
  7: 'hash over a PV',
  8: 'priority order',
  9: 'weight-based',
  10: 'call load',
  11: 'relative weight',
  12: 'parallel forking',
  13: 'latency-optimised',
};
const algorithmName = (n: number): string => `algorithm ${n}${ALGORITHMS[n] ? ` (${ALGORITHMS[n]})` : ''}`;

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
  MEDIA_RULE_SUMMARY,
  '`deploy.refresh.checkpointPercentages` rise strictly and end at 100; `maxHealthyPercentage` > `minHealthyPercentage` and at most 100 apart (the AWS limit); `deploy.healthyDeadlineSeconds` > `instanceWarmup`.',
  '`bake.amiRegions` lists each region once and not `bake.region` itself (the AMI is built there).',
  '`advertise.elasticIp` is a public address (not in 10/8, 172.16/12, 192.168/16, 100.64/10, loopback, link-local, multicast or reserved ranges).',
  "`deploy.targetGroupArns` are in `deploy.region` and in that region's partition (`aws`, `aws-cn` for China, `aws-us-gov` for GovCloud).",
  '`tls.enabled: true` needs a source for the certificate and the key: `tls.certificateSecret`/`tls.privateKeySecret` (read at boot), or `tls.certificate`/`tls.privateKey` written out as files the bake provides.',
  "With the postgres backend, each destination fits Kamailio's dispatcher table: URI ≤ 192, attrs ≤ 128, `description` ≤ 64 characters.",
  "AWS's own limits, so a roll never fails after creating a launch template version: `checkpointDelay` and `bakeTime` ≤ 172800 s, at most 10 `alarms` of ≤ 255 characters, lifecycle hook names of `A-Za-z0-9-_/`, target group ARNs with a 12-digit account (API_RefreshPreferences, API_AlarmSpecification, API_PutLifecycleHook).",
  '`tls.method` is one Kamailio 5.5 accepts (`TLSv1.2+` or `TLSv1.2`; its tls module has no `TLSv1.3` and fails at start-up).',
  'Warning only: a dispatcher destination written as a DNS name is resolved once at Kamailio start-up, and dropped silently if it does not resolve then.',
];

const NAME_RULE = /^[a-z][a-z0-9-]{1,40}$/;

/** A name the name rule accepts, made from a file's base name (My_Image → my-image). */
function suggestName(base: string): string {
  let n = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+/g, '-')
    .replace(/-$/, '')
    .slice(0, 41);
  if (n.length < 2) n = 'image';
  return NAME_RULE.test(n) ? n : 'image';
}

/** The name/file-name mismatch in words; never proposes a name the name rule refuses. */
export function nameMismatch(want: string, name: string): { message: string; fix: string } {
  if (NAME_RULE.test(want))
    return {
      message: `must equal the file name '${want}'`,
      fix: `set name: ${want}, or rename the file to images/${name}.yaml`,
    };
  const good = NAME_RULE.test(name) ? name : suggestName(want);
  return {
    message: `must equal the file's base name, and '${want}' cannot be an image name (2-41 lower-case letters, digits and dashes, starting with a letter)`,
    fix: `rename the file to images/${good}.yaml${good === name ? '' : ` and set name: ${good}`}`,
  };
}

type Rule = (img: ImageDefinition, ctx: RuleContext) => RuleIssue[];

/** Ranges no Elastic IP can be in (RFC 1918, RFC 6598 shared, loopback, link-local, this-network, multicast, reserved). */
const NON_PUBLIC: readonly [string, number, string][] = [
  ['10.0.0.0', 8, 'the private range 10.0.0.0/8'],
  ['172.16.0.0', 12, 'the private range 172.16.0.0/12'],
  ['192.168.0.0', 16, 'the private range 192.168.0.0/16'],
  ['100.64.0.0', 10, 'the carrier-grade NAT range 100.64.0.0/10'],
  ['127.0.0.0', 8, 'loopback 127.0.0.0/8'],
  ['169.254.0.0', 16, 'link-local 169.254.0.0/16'],
  ['0.0.0.0', 8, '0.0.0.0/8'],
  ['224.0.0.0', 4, 'multicast 224.0.0.0/4'],
  ['240.0.0.0', 4, 'the reserved range 240.0.0.0/4'],
];
const ipNum = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
function nonPublicRange(ip: string): string | undefined {
  if (!isIPv4(ip)) return undefined;
  const n = ipNum(ip);
  for (const [base, len, what] of NON_PUBLIC) {
    const size = 2 ** (32 - len);
    if (Math.floor(n / size) === Math.floor(ipNum(base) / size)) return what;
  }
  return undefined;
}

const elasticIpPublic: Rule = (img, { local }) => {
  const ip = img.advertise.elasticIp;
  const range = ip && nonPublicRange(ip);
  // A loopback run (render --local, check, try, the live tests) stands a loopback address in for the EIP.
  if (local && ip?.startsWith('127.')) return [];
  return range
    ? [
        {
          path: ['advertise', 'elasticIp'],
          message: `is in ${range}, and an Elastic IP is always a public address: callers would be told to reach a private address`,
          got: JSON.stringify(ip),
          fix: "use the NLB's (or NAT gateway's) Elastic IP: aws ec2 describe-addresses --query 'Addresses[].PublicIp'",
        },
      ]
    : [];
};

const targetGroups: Rule = (img) => {
  const d = img.deploy;
  if (!d) return [];
  const want = partitionOf(d.region);
  const out: RuleIssue[] = [];
  d.targetGroupArns.forEach((arn, i) => {
    const a = parseArn(arn);
    if (!a) return;
    if (!/^\d{12}$/.test(a.account))
      out.push({
        path: ['deploy', 'targetGroupArns', i],
        message: `has account ${a.account || '(none)'}, and an AWS account id is 12 digits`,
        got: JSON.stringify(arn),
        fix: 'copy the ARN from aws elbv2 describe-target-groups --query "TargetGroups[].TargetGroupArn"',
      });
    else if (a.region !== d.region)
      out.push({
        path: ['deploy', 'targetGroupArns', i],
        message: `is in region ${a.region}, but deploy.region is ${d.region}: an Auto Scaling group can only use target groups of its own region`,
        got: JSON.stringify(arn),
        fix: `use the target group in ${d.region} (aws elbv2 describe-target-groups --region ${d.region}), or set deploy.region: ${a.region}`,
      });
    else if (a.partition !== want)
      out.push({
        path: ['deploy', 'targetGroupArns', i],
        message: `has partition ${a.partition}, but ${d.region} is in partition ${want}`,
        got: JSON.stringify(arn),
        fix: `write it as arn:${want}:elasticloadbalancing:…`,
      });
  });
  return out;
};

const has = (raw: unknown, ...path: string[]): boolean => {
  let v = raw;
  for (const k of path) {
    if (!v || typeof v !== 'object' || !(k in v)) return false;
    v = (v as Record<string, unknown>)[k];
  }
  return v !== undefined && v !== null;
};

const tlsSource: Rule = (img, { raw, local }) => {
  const t = img.tls;
  if (!t.enabled || local) return [];
  const out: RuleIssue[] = [];
  // A certificate comes from a secret read at boot, or from a path the user states the image provides.
  const pairs = [
    ['certificate', 'certificateSecret', 'certificate (PEM)'],
    ['privateKey', 'privateKeySecret', 'private key (PEM)'],
  ] as const;
  for (const [file, secret, what] of pairs) {
    if (t[secret] === undefined && !has(raw, 'tls', file)) {
      out.push({
        path: ['tls', 'enabled'],
        message: `TLS is on, but nothing provides the ${what}: tls.${secret} is not set and tls.${file} is only the default path ${t[file]}, which nothing writes, so Kamailio cannot start`,
        got: 'true',
        fix: `add tls.${secret}: { source: ssm, name: /sipbake/${img.name}/tls-${file === 'certificate' ? 'cert' : 'key'} } (written to ${t[file]} at boot), or set tls.${file} to a file your bake puts on the image`,
      });
    }
  }
  return out;
};

// Kamailio's dispatcher table (utils/kamctl/postgres/dispatcher-create.sql, version 4):
// destination VARCHAR(192), attrs VARCHAR(128), description VARCHAR(64).
const DISPATCHER_COLUMNS = { destination: 192, attrs: 128, description: 64 } as const;

const postgresColumns: Rule = (img) => {
  const ds = img.dispatcher;
  if (ds?.backend.type !== 'postgres') return [];
  const out: RuleIssue[] = [];
  ds.destinations.forEach((d, i) => {
    const uri = `sip:${d.host}:${d.port};transport=${d.transport}`;
    if (uri.length > DISPATCHER_COLUMNS.destination)
      out.push({
        path: ['dispatcher', 'destinations', i, 'host'],
        message: `makes a destination URI of ${uri.length} characters, and Kamailio's dispatcher table holds ${DISPATCHER_COLUMNS.destination} (destination VARCHAR(192))`,
        got: JSON.stringify(d.host),
        fix: 'use the IP address or a shorter host name',
      });
    const attrs = Object.entries(d.attrs)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join(';');
    if (attrs.length > DISPATCHER_COLUMNS.attrs)
      out.push({
        path: ['dispatcher', 'destinations', i, 'attrs'],
        message: `come to ${attrs.length} characters, and Kamailio's dispatcher table holds ${DISPATCHER_COLUMNS.attrs} (attrs VARCHAR(128))`,
        got: JSON.stringify(attrs),
        fix: 'shorten duid or socket',
      });
    const len = [...d.description].length;
    if (len > DISPATCHER_COLUMNS.description)
      out.push({
        path: ['dispatcher', 'destinations', i, 'description'],
        message: `is ${len} characters, and Kamailio's dispatcher table holds ${DISPATCHER_COLUMNS.description} (description VARCHAR(64)): loading the SQL would fail`,
        got: JSON.stringify(d.description),
        fix: `shorten it to ${DISPATCHER_COLUMNS.description} characters or fewer`,
      });
  });
  return out;
};

export interface RuleContext {
  /** The file's base name without extension; `name:` must equal it. */
  fileName?: string;
  /** The definition as written, before defaults (to tell a default from a value the user chose). */
  raw?: unknown;
  /** Rendering for a loopback run (`render --local`, `check`), which makes its own throwaway TLS pair. */
  local?: boolean;
}

const nameMatchesFile: Rule = (img, { fileName }) =>
  fileName !== undefined && img.name !== fileName ? [{ path: ['name'], ...nameMismatch(fileName, img.name), got: JSON.stringify(img.name) }] : [];

const oneRole: Rule = (img) => {
  if (img.relay && img.dispatcher)
    return [
      {
        path: ['dispatcher'],
        at: 'key',
        message: 'an image is either a relay or a dispatcher, and this one has both relay: and dispatcher:',
        fix: 'keep one of them: relay: (one destination domain, seed 000) or dispatcher: (a set of recorders, seed 004)',
      },
    ];
  if (!img.relay && !img.dispatcher)
    return [
      {
        path: [],
        message: 'has neither relay: nor dispatcher:',
        fix: 'add relay: (relay every call to one SIP domain, seed 000) or dispatcher: (spread calls across destinations, seed 004)',
      },
    ];
  return [];
};

const listeners: Rule = (img) => {
  const out: RuleIssue[] = [];
  const { udp, tcp, tls } = img.listen;
  if (udp === undefined && tcp === undefined && tls === undefined)
    out.push({
      path: ['listen'],
      at: 'key',
      message: 'has no listener',
      fix: 'add at least one of udp:, tcp: or tls: with a port, e.g. udp: 5060',
    });
  if (tls !== undefined && !img.tls.enabled)
    out.push({
      path: ['listen', 'tls'],
      message: 'a TLS listener needs TLS turned on',
      got: String(tls),
      fix: 'set tls.enabled: true (with tls.certificate and tls.privateKey), or remove listen.tls',
    });
  if (img.tls.enabled && tls === undefined)
    out.push({
      path: ['tls', 'enabled'],
      message: 'TLS is on but nothing listens for it',
      got: 'true',
      fix: 'add listen.tls with a port (e.g. 5061), or set tls.enabled: false',
    });
  const has = { udp: udp !== undefined, tcp: tcp !== undefined, tls: tls !== undefined };
  const check = (path: PathSegment[], transport: 'udp' | 'tcp' | 'tls') => {
    if (!has[transport])
      out.push({
        path,
        message: `Kamailio sends ${transport.toUpperCase()} only from a ${transport} listener, and this image has none`,
        got: JSON.stringify(transport),
        fix: `add listen.${transport}, or use a transport it listens on (${
          Object.keys(has)
            .filter((k) => has[k as 'udp'])
            .join(', ') || 'none'
        })`,
      });
  };
  if (img.relay) check(['relay', 'destination', 'transport'], img.relay.destination.transport);
  img.dispatcher?.destinations.forEach((d, i) => check(['dispatcher', 'destinations', i, 'transport'], d.transport));
  return out;
};

const connectionLimits: Rule = (img) =>
  img.tls.enabled && img.tls.maxConnections > img.tcp.maxConnections
    ? [
        {
          path: ['tls', 'maxConnections'],
          message: `must not exceed tcp.maxConnections (${img.tcp.maxConnections}): every TLS connection is also a TCP connection`,
          got: String(img.tls.maxConnections),
          fix: `lower tls.maxConnections to at most ${img.tcp.maxConnections}, or raise tcp.maxConnections`,
        },
      ]
    : [];

const keepalive: Rule = (img) => {
  const out: RuleIssue[] = [];
  for (const f of ['keepaliveIdle', 'keepaliveInterval'] as const) {
    if (img.tcp[f] >= NLB_IDLE_TIMEOUT)
      out.push({
        path: ['tcp', f],
        message: `must be below the NLB's fixed ${NLB_IDLE_TIMEOUT} s idle timeout, or the NLB silently drops idle TCP connections before a keepalive reaches it`,
        got: String(img.tcp[f]),
        fix: `use at most ${NLB_IDLE_TIMEOUT - 1} (the seeds use ${f === 'keepaliveIdle' ? 300 : 30})`,
      });
  }
  return out;
};

const rtpRange: Rule = (img) => {
  const { min, max } = img.media.rtpproxy.rtpPorts;
  return min >= max
    ? [
        {
          path: ['media', 'rtpproxy', 'rtpPorts', 'min'],
          message: `must be below rtpPorts.max (${max})`,
          got: String(min),
          fix: 'swap them, or widen the range (e.g. min: 20000, max: 30000)',
        },
      ]
    : [];
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
  return [
    {
      path: ['media', 'rtpproxy', 'controlSocket'],
      message: 'is not on loopback, and the RTPProxy control protocol has no authentication: anyone who reaches it can steer or tear down media',
      got: JSON.stringify(rp.controlSocket),
      fix: 'use udp:127.0.0.1:7722 (RTPProxy runs beside Kamailio), or set media.rtpproxy.allowNonLoopbackControl: true if it really must be reachable',
    },
  ];
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
  const one = (path: PathSegment[], proto: 'tcp' | 'udp', p: number | undefined, what: string) =>
    p !== undefined && s.push({ path, proto, lo: p, hi: p, what });
  one(['listen', 'udp'], 'udp', img.listen.udp, 'the UDP SIP listener');
  one(['listen', 'tcp'], 'tcp', img.listen.tcp, 'the TCP SIP listener');
  one(['listen', 'tls'], 'tcp', img.listen.tls, 'the TLS SIP listener');
  one(['drain', 'healthCheck', 'port'], 'tcp', img.drain.healthCheck.port, 'the NLB health check');
  const rp = img.media.rtpproxy;
  if (rp.enabled) {
    const sock = parseControlSocket(rp.controlSocket);
    if (sock.kind === 'udp') one(['media', 'rtpproxy', 'controlSocket'], 'udp', sock.port, 'the RTPProxy control socket');
    if (rp.rtpPorts.min < rp.rtpPorts.max)
      s.push({
        path: ['media', 'rtpproxy', 'rtpPorts'],
        proto: 'udp',
        lo: rp.rtpPorts.min,
        hi: rp.rtpPorts.max,
        what: `the RTP port range ${rp.rtpPorts.min}-${rp.rtpPorts.max}`,
      });
  }
  const out: RuleIssue[] = [];
  for (const [i, b] of s.entries()) {
    for (const a of s.slice(0, i)) {
      if (a.proto !== b.proto || b.lo > a.hi || a.lo > b.hi) continue;
      // Report at the single port (not the range), naming the other socket.
      const [at, other] = b.lo === b.hi ? [b, a] : [a, b];
      const inRange = other.lo !== other.hi;
      out.push({
        path: at.path,
        message: `${at.proto.toUpperCase()} port ${at.lo} ${inRange ? 'lies inside' : 'is also used by'} ${other.what} (${other.path.join('.')}), so one of them cannot bind`,
        got: String(at.lo),
        fix: inRange ? `move it outside ${other.lo}-${other.hi}, or shrink the RTP range` : 'give each socket its own port',
      });
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
        out.push({
          path: ['dispatcher', 'destinations', i, 'attrs', attr],
          message: `${algorithmName(alg)} ignores '${attr}', so this destination would not get the share you wrote`,
          got: String(d.attrs[attr]),
          fix: `set dispatcher.algorithm: ${want} (${label}), or remove '${attr}'`,
        });
      }
    }
  });
  const missing = (attr: 'weight' | 'rweight' | 'duid', why: string) =>
    ds.destinations.forEach((d, i) => {
      if (d.attrs[attr] === undefined)
        out.push({
          path: ['dispatcher', 'destinations', i],
          message: `${algorithmName(alg)} needs attrs.${attr} on every destination, and this one has none`,
          fix: `add attrs: { ${attr}: ${attr === 'duid' ? `rec${i}` : '…'} } (${why})`,
        });
    });
  if (alg === 9) {
    missing('weight', 'without it Kamailio gives the destination no calls');
    const weights = ds.destinations.map((d) => d.attrs.weight);
    if (weights.every((w) => w !== undefined)) {
      const sum = weights.reduce<number>((a, w) => a + (w ?? 0), 0);
      if (sum !== 100) {
        const effect =
          sum > 100
            ? 'Kamailio ignores every destination whose weight takes the sum past 100'
            : `Kamailio gives the missing ${100 - sum}% to the last destination`;
        out.push({
          path: ['dispatcher', 'destinations'],
          at: 'key',
          message: `weights must add up to 100 percent under algorithm 9, but they add up to ${sum}: ${effect}`,
          got: weights.join(' + '),
          fix: 'adjust attrs.weight so the destinations sum to exactly 100 (e.g. 60 and 40)',
        });
      }
    }
  }
  if (alg === 10) missing('duid', 'it identifies the destination whose active calls are counted');
  if (alg === 11) missing('rweight', 'without it the destination is left out of the relative weight distribution');
  const seen = new Map<string, number>();
  ds.destinations.forEach((d, i) => {
    const k = `${d.host.toLowerCase()}:${d.port}:${d.transport}`;
    const first = seen.get(k);
    if (first !== undefined)
      out.push({
        path: ['dispatcher', 'destinations', i, 'host'],
        message: `repeats destination ${first} (${d.host}:${d.port} over ${d.transport})`,
        got: JSON.stringify(d.host),
        fix: 'list each destination once; use attrs.weight to give it a bigger share',
      });
    else seen.set(k, i);
  });
  return out;
};

/** `scheme://user:pass@` or `sip:user:pass@`: a password inside a URI. */
const URI_PASSWORD = /^[a-z][a-z0-9+.-]*:(\/\/)?[^\s/@:]+:[^\s/@]+@/i;

const noLiteralSecrets: Rule = (img) => {
  const out: RuleIssue[] = [];
  const walk = (v: unknown, path: PathSegment[]) => {
    if (typeof v === 'string' && URI_PASSWORD.test(v))
      out.push({
        path,
        message: 'carries a password inside the URI (user:password@), and the definition ends up in the AMI and in git',
        got: 'a URI with a password, not shown',
        fix: 'remove the password from the URI; secrets are read at boot from SSM or Secrets Manager',
      });
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(img, []);
  return out;
};

const drainTiming: Rule = (img) =>
  img.drain.pollSeconds >= img.drain.maxSeconds
    ? [
        {
          path: ['drain', 'pollSeconds'],
          message: `must be shorter than drain.maxSeconds (${img.drain.maxSeconds}), or the agent never looks at the call count before the drain times out`,
          got: String(img.drain.pollSeconds),
          fix: 'use a few seconds (default 5), or raise drain.maxSeconds',
        },
      ]
    : [];

const advertise: Rule = (img) => {
  const a = img.advertise;
  if (a.source === 'elastic-ip' && !a.elasticIp)
    return [
      {
        path: ['advertise', 'source'],
        message: 'elastic-ip needs the address to advertise',
        got: '"elastic-ip"',
        fix: 'add advertise.elasticIp: the NLB/NAT Elastic IP, e.g. 44.199.36.104',
      },
    ];
  if (a.source !== 'elastic-ip' && a.elasticIp)
    return [
      {
        path: ['advertise', 'elasticIp'],
        message: `is only used with source: elastic-ip, but source is ${a.source}`,
        got: JSON.stringify(a.elasticIp),
        fix: 'set advertise.source: elastic-ip, or remove elasticIp',
      },
    ];
  return [];
};

const deployRefresh: Rule = (img) => {
  const d = img.deploy;
  if (!d) return [];
  const r = d.refresh;
  const out: RuleIssue[] = [];
  const cps = r.checkpointPercentages;
  if (cps && cps.length) {
    const bad = cps.findIndex((p, i) => {
      const prev = cps[i - 1];
      return prev !== undefined && p <= prev;
    });
    if (bad > 0)
      out.push({
        path: ['deploy', 'refresh', 'checkpointPercentages', bad],
        message: `must be greater than the checkpoint before it (${cps[bad - 1]}): checkpoints rise`,
        got: String(cps[bad]),
        fix: 'list the percentages in increasing order, e.g. [10, 50, 100]',
      });
    else if (cps[cps.length - 1] !== 100)
      out.push({
        path: ['deploy', 'refresh', 'checkpointPercentages', cps.length - 1],
        message: 'the last checkpoint must be 100, or the refresh stops part-way and never finishes',
        got: String(cps[cps.length - 1]),
        fix: 'end the list with 100, e.g. [50, 100]',
      });
  }
  if (r.maxHealthyPercentage <= r.minHealthyPercentage)
    out.push({
      path: ['deploy', 'refresh', 'maxHealthyPercentage'],
      message: `must be greater than minHealthyPercentage (${r.minHealthyPercentage}), or no instance can be replaced`,
      got: String(r.maxHealthyPercentage),
      fix: 'raise maxHealthyPercentage (e.g. 200) or lower minHealthyPercentage',
    });
  else if (r.maxHealthyPercentage - r.minHealthyPercentage > 100)
    out.push({
      path: ['deploy', 'refresh', 'maxHealthyPercentage'],
      message: `may be at most 100 above minHealthyPercentage (${r.minHealthyPercentage}); AWS rejects a wider gap`,
      got: String(r.maxHealthyPercentage),
      fix: `use at most ${r.minHealthyPercentage + 100}, or raise minHealthyPercentage`,
    });
  if (d.healthyDeadlineSeconds <= r.instanceWarmup)
    out.push({
      path: ['deploy', 'healthyDeadlineSeconds'],
      message: `must be longer than refresh.instanceWarmup (${r.instanceWarmup}), or every new instance misses its deadline`,
      got: String(d.healthyDeadlineSeconds),
      fix: `use more than ${r.instanceWarmup} (default 900)`,
    });
  return out;
};

const amiRegions: Rule = (img) => {
  const out: RuleIssue[] = [];
  const seen = new Set<string>();
  img.bake.amiRegions.forEach((r, i) => {
    if (r === img.bake.region)
      out.push({
        path: ['bake', 'amiRegions', i],
        message: `is bake.region itself, where the AMI is built; copying it there again fails`,
        got: JSON.stringify(r),
        fix: 'remove it; list only the extra regions',
      });
    else if (seen.has(r))
      out.push({
        path: ['bake', 'amiRegions', i],
        message: 'is listed twice',
        got: JSON.stringify(r),
        fix: 'list each region once',
      });
    seen.add(r);
  });
  return out;
};

const RULES: readonly Rule[] = [
  nameMatchesFile,
  oneRole,
  listeners,
  connectionLimits,
  keepalive,
  rtpRange,
  controlSocket,
  portClashes,
  dispatcherAttrs,
  noLiteralSecrets,
  drainTiming,
  advertise,
  mediaAddressRules,
  deployRefresh,
  amiRegions,
  elasticIpPublic,
  targetGroups,
  tlsSource,
  postgresColumns,
];

/** Things that pass but deserve a look; `validate` prints them and still exits 0. */
const dnsDestinations: Rule = (img) =>
  (img.dispatcher?.destinations ?? []).flatMap((d, i) =>
    isIP(d.host)
      ? []
      : [
          {
            path: ['dispatcher', 'destinations', i, 'host'],
            message: `is a DNS name: Kamailio resolves it once at start-up, and if it does not resolve then, drops this destination without failing (pack_dest(): could not resolve)`,
            got: JSON.stringify(d.host),
            fix: "use the recorder's IP address, or make sure the name resolves from the instance at boot",
          },
        ],
  );
/** Advice: pike may ban one source sending at the rate the image is sized for (pike README: blocks between x and 3x). */
const antifloodBelowCapacity: Rule = (img) => {
  const af = img.antiflood;
  if (!af.enabled || af.requestsDensity === undefined) return [];
  const need = img.capacity.callsPerSecond * af.sampleTime;
  if (af.requestsDensity >= need) return [];
  return [
    {
      path: ['antiflood', 'requestsDensity'],
      message: `is below what one source sends at capacity.callsPerSecond (${img.capacity.callsPerSecond}/s x sampleTime ${af.sampleTime} s = ${need} initial requests), so pike may ban a trunk at the rate this image is sized for`,
      got: String(af.requestsDensity),
      fix: `remove requestsDensity (default ${Math.ceil(1.5 * need)}), raise it to at least ${need}, or list the trunk in antiflood.exempt`,
    },
  ];
};

/** Advice: an upstream ceiling below the rated rate drops a trunk's own calls at the rate the image is sized for. */
const upstreamCeilingBelowCapacity: Rule = (img) => {
  const af = img.antiflood;
  if (!af.enabled || !af.exemptUpstream || af.upstreamDensity === undefined) return [];
  const need = img.capacity.callsPerSecond * af.sampleTime;
  if (af.upstreamDensity >= need) return [];
  return [
    {
      path: ['antiflood', 'upstreamDensity'],
      message: `is below what one allowed source sends at capacity.callsPerSecond (${img.capacity.callsPerSecond}/s x sampleTime ${af.sampleTime} s = ${need} initial requests), so a trunk's own calls past it are dropped`,
      got: String(af.upstreamDensity),
      fix: `remove upstreamDensity (default ${3 * need}) or raise it to at least ${need}`,
    },
  ];
};

/** Rules that warn: the definition stays valid. */
const WARNING_RULES: readonly Rule[] = [antifloodBelowCapacity, upstreamCeilingBelowCapacity, dnsDestinations];

/** Every warning for a schema-valid definition. */
export function checkWarnings(img: ImageDefinition, ctx: RuleContext = {}): RuleIssue[] {
  return WARNING_RULES.flatMap((r) => r(img, ctx));
}

/** Every cross-field problem in a schema-valid definition. */
export function checkRules(img: ImageDefinition, ctx: RuleContext = {}): RuleIssue[] {
  return RULES.flatMap((r) => r(img, ctx));
}
