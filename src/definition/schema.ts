import { z } from 'zod';
import { absolutePath, attrToken, cidr, host, ipv4, pgName, port, secretRef, seconds, sipUri, socketSpec, text } from './primitives.js';
import { TWILIO_SIGNALLING_CIDRS } from './twilio.js';
import { drainSchema } from './drain-schema.js';
import { bakeSchema } from './bake-schema.js';
import { deploySchema } from './deploy-schema.js';

// One schema for every image definition in images/*.yaml. Field-level rules live here;
// rules that span fields live in rules.ts. Defaults reproduce the seeds' behaviour.

const transport = z.enum(['udp', 'tcp', 'tls']).describe('SIP transport (Kamailio sends it from a listener of the same transport)');

/** Initial (out-of-dialog) methods an image may relay. Only INVITE creates a dialog the proxy tracks. */
const initialMethod = z.enum(['INVITE', 'MESSAGE', 'OPTIONS', 'INFO', 'NOTIFY', 'PUBLISH']);
const initialMethods = (what: string) =>
  z
    .array(initialMethod)
    .min(1)
    .default(['INVITE'])
    .describe(`Initial requests relayed to ${what}; other methods get 405. OPTIONS not listed here is answered locally (200)`);
/** A header name, or a prefix ending in `*` (X-Twilio-*). */
const headerPattern = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9-]+\*?$/, 'must be a header name such as X-Twilio-AccountSid, or a prefix ending in * such as X-Twilio-*');

const listenSchema = z
  .strictObject({
    udp: port.optional().describe('UDP SIP port'),
    tcp: port.optional().describe('TCP SIP port'),
    tls: port.optional().describe('TLS SIP port (needs tls.enabled)'),
  })
  .describe('SIP listeners. The private address to bind and the public address to advertise come from instance metadata at boot.');

const advertiseSchema = z
  .strictObject({
    source: z
      .enum(['instance-public-ipv4', 'elastic-ip', 'private-ipv4'])
      .default('instance-public-ipv4')
      .describe('Which public address Via/Record-Route/SDP carry: the instance public IPv4 from IMDS, a fixed Elastic IP (NLB/NAT set-ups), or none (private)'),
    elasticIp: ipv4.optional().describe('With source: elastic-ip, the NLB/NAT Elastic IP to advertise'),
  })
  .prefault({});

const relaySchema = z
  .strictObject({
    destination: z
      .strictObject({
        domain: host('SIP domain', 'relay.destination.port').describe(
          'SIP domain (or IPv4 address) every call is relayed to, e.g. example.sip.twilio.com; no sip: and no port',
        ),
        port: port.default(5060).describe('Destination SIP port'),
        transport: transport.default('udp'),
      })
      .describe('Where every call goes'),
    allowedSources: z
      .array(cidr)
      .min(1)
      .default([...TWILIO_SIGNALLING_CIDRS])
      .describe("Source CIDRs allowed to send SIP; enforced in Kamailio itself. Default: Twilio's signalling ranges"),
    onDisallowed: z.enum(['reject', 'drop']).default('reject').describe('reject: 403 Forbidden; drop: silently discard'),
    recordRoute: z.boolean().default(true).describe('Record-Route so ACK and BYE stay on this instance'),
    initialMethods: initialMethods('the destination'),
    stripHeaders: z
      .array(headerPattern)
      .default(['X-Twilio-*'])
      .describe("Headers removed from relayed requests and their responses, so neither side sees the other's account data (seed 000). [] strips nothing"),
  })
  .describe('Seed 000: relay every call to one destination SIP domain');

const destinationSchema = z.strictObject({
  host: host('recorder address', 'port').describe('Recorder IPv4 address or DNS name; no port (that goes in port:)'),
  port: port.default(5080).describe('Destination SIP port'),
  transport: transport.default('tcp'),
  flags: z.number().int().min(0).max(31).default(0).describe('dispatcher flags (1 inactive, 2 probing, 4 disabled, 8 keep probing, 16 ignore for algorithms)'),
  priority: z.number().int().min(0).default(0).describe('dispatcher priority: orders destinations inside the set (algorithm 8 uses it)'),
  attrs: z
    .strictObject({
      weight: z.number().int().min(1).max(100).optional().describe('Share of calls in percent; honoured only by algorithm 9'),
      rweight: z.number().int().min(1).max(100).optional().describe('Relative weight; honoured only by algorithm 11'),
      duid: attrToken.optional().describe('Destination unique id; used by algorithm 10'),
      maxload: z.number().int().min(1).optional().describe('Maximum active calls; used by algorithm 10'),
      socket: socketSpec.optional().describe('Local socket to send from, e.g. udp:10.0.0.10:5080'),
    })
    .prefault({}),
  description: text(255).default('').describe('Free text shown by dispatcher.list and the dispatcher table (at most 64 characters with the postgres backend)'),
});

const dispatcherSchema = z
  .strictObject({
    setId: z.number().int().min(1).default(1).describe('Dispatcher set id the destinations belong to'),
    algorithm: z
      .number()
      .int()
      .min(0)
      .max(13)
      .default(4)
      .describe('ds_select_dst algorithm: 4 round-robin, 9 weight-based, 10 call load, 11 relative weight, 8 priority'),
    destinations: z.array(destinationSchema).min(1).describe('The destinations calls are spread across (at least one)'),
    initialMethods: initialMethods('a destination'),
    allowUnresolved: z
      .boolean()
      .default(false)
      .describe(
        'Boot resolves every destination host name and fails (journal line, no Kamailio) when one does not resolve; true lets Kamailio start without it',
      ),
    probing: z
      .strictObject({
        interval: seconds(1).default(10).describe('ds_ping_interval'),
        method: z.enum(['OPTIONS', 'INFO']).default('OPTIONS').describe('ds_ping_method'),
        threshold: z.number().int().min(1).default(10).describe('ds_probing_threshold: failed pings before a destination is inactive'),
        inactiveThreshold: z.number().int().min(1).default(10).describe('ds_inactive_threshold: good replies before it is active again'),
        latencyStats: z.boolean().default(true).describe('ds_ping_latency_stats'),
        mode: z.number().int().min(0).max(3).default(1).describe('ds_probing_mode: 1 probes every destination'),
        from: sipUri.default('sip:dispatcher@localhost').describe('ds_ping_from'),
      })
      .prefault({}),
    backend: z
      .discriminatedUnion('type', [
        z.strictObject({ type: z.literal('file') }),
        z.strictObject({
          type: z.literal('postgres'),
          host: host('database host', 'dispatcher.backend.port').describe('PostgreSQL host name or IPv4 address'),
          port: port.default(5432).describe('PostgreSQL port'),
          database: pgName.default('kamailio').describe('Database that holds the dispatcher table'),
          user: pgName.default('kamailio').describe('Database user'),
          password: secretRef.describe('Read at boot; the value never enters the image'),
        }),
      ])
      .prefault({ type: 'file' }),
  })
  .describe('Seed 004: load-balance calls across recorders with the dispatcher module');

/** The value of the sipbake:media-pool tag: what AWS allows in a tag value, short. */
const poolName = z.string().regex(/^[A-Za-z0-9 _.:/=+@-]{1,128}$/, 'must be 1-128 letters, digits, spaces and _.:/=+@- (an AWS tag value)');

const mediaAddressSchema = z
  .strictObject({
    source: z
      .enum(['signalling', 'instance-public-ipv4', 'elastic-ip-pool'])
      .default('signalling')
      .describe(
        "Which address SDP (RTPProxy) carries: signalling: the advertised SIP address (behind an NLB, RTP crosses it); instance-public-ipv4: the instance's own public IPv4 (public subnets); elastic-ip-pool: an Elastic IP the boot agent claims from the tagged pool",
      ),
    pool: poolName.optional().describe("With source: elastic-ip-pool, the value of the sipbake:media-pool tag on the pool's Elastic IPs"),
  })
  .prefault({})
  .describe("Media on each instance's own address: signalling still goes to the NLB, RTP goes straight to the instance (docs/media.md)");

const mediaSchema = z
  .strictObject({
    rtpproxy: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Run RTPProxy beside Kamailio and anchor media through it'),
        controlSocket: z
          .string()
          // Host: IPv4, a DNS name or * (udp); an IPv6 address in brackets (udp6); a path from the safe alphabet (unix).
          .regex(
            /^udp:(\*|[A-Za-z0-9.-]+):\d{1,5}$|^udp6:\[[0-9a-fA-F:.]+\]:\d{1,5}$|^unix:\/[A-Za-z0-9._+@,=~/-]+$/,
            'must look like udp:127.0.0.1:7722, udp6:[::1]:7722 or unix:/run/rtpproxy/rtpproxy.sock',
          )
          .default('udp:127.0.0.1:7722')
          .describe('RTPProxy control socket (rtpproxy -s; rtpproxy_sock): udp:HOST:PORT, udp6:[HOST]:PORT or unix:/path'),
        allowNonLoopbackControl: z
          .boolean()
          .default(false)
          .describe('The control protocol has no authentication; a non-loopback socket must be asked for explicitly'),
        rtpPorts: z
          .strictObject({
            min: port.default(20000).describe('Lowest RTP port (rtpproxy -m)'),
            max: port.default(30000).describe('Highest RTP port (rtpproxy -M)'),
          })
          .prefault({}),
        logLevel: z
          .enum(['DBUG', 'INFO', 'WARN', 'ERR', 'CRIT'])
          .default('WARN')
          .describe('rtpproxy -d log level; INFO and DBUG write several lines per call, which journald rate-limits away under load'),
        maxCalls: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe('Concurrent calls the instance is sized for: rtpproxy -L and LimitNOFILE get 4 descriptors per call (default: what rtpPorts holds)'),
      })
      .prefault({}),
    address: mediaAddressSchema,
  })
  .prefault({});

const tcpSchema = z
  .strictObject({
    maxConnections: z.number().int().min(1).default(2048).describe('tcp_max_connections'),
    connectionLifetime: seconds(1).default(3605).describe('tcp_connection_lifetime, seconds'),
    keepaliveIdle: seconds(1).default(300).describe('TCP keepalive idle time; must stay below the NLB idle timeout (350 s)'),
    keepaliveInterval: seconds(1).default(30).describe('tcp_keepintvl: seconds between unanswered keepalive probes; below 350 s too'),
    keepaliveCount: z.number().int().min(1).default(3).describe('tcp_keepcnt: unanswered probes before the connection is dropped'),
  })
  .prefault({});

const antifloodSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Rate-limit sources with pike and ban them in an htable'),
    sampleTime: seconds(1).default(2).describe('pike sampling_time_unit'),
    requestsDensity: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('pike reqs_density_per_unit: initial requests per source per sampleTime. Default: 1.5 x capacity.callsPerSecond x sampleTime'),
    removeLatency: seconds(1).default(120).describe('pike remove_latency'),
    ipbanExpire: seconds(1)
      .max(31_536_000)
      .default(300)
      .describe('ipban htable autoexpire, seconds (at most a year: htable refuses values past its integer range)'),
    exempt: z
      .array(cidr)
      .default([])
      .describe('Sources pike never bans: trunks and voice platforms that legitimately send more than requestsDensity per sampleTime'),
    exemptUpstream: z
      .boolean()
      .default(true)
      .describe(
        "Never ban the relay's allowedSources or the dispatcher's destinations: pike does not count them, each gets its own ceiling, upstreamDensity, instead (false: count them like anyone else). A full exemption: list them in exempt",
      ),
    upstreamDensity: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'With exemptUpstream: initial requests per upstream source per sampleTime; past it they are dropped unanswered (never banned) until the window ends. Default: 3 x capacity.callsPerSecond x sampleTime',
      ),
  })
  .prefault({});

/** tls_method values offered: the Kamailio 5.5 tls module's methods[] minus the obsolete protocols. */
const TLS_METHODS = ['TLSv1.2+', 'TLSv1.2'] as const;

const tlsSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Load the tls module; needs listen.tls'),
    certificate: absolutePath.default('/etc/kamailio/tls/server.pem').describe('Certificate path on the instance'),
    privateKey: absolutePath.default('/etc/kamailio/tls/server.key').describe('Private key path on the instance'),
    certificateSecret: secretRef.optional().describe('Read at boot and written to certificate (PEM)'),
    privateKeySecret: secretRef.optional().describe('Read at boot and written to privateKey (PEM); keeps the key out of the image'),
    maxConnections: z.number().int().min(1).default(2048).describe('tls_max_connections; at most tcp.maxConnections'),
    // Kamailio 5.5's tls module knows SSLv2, SSLv3, SSLv23, TLSv1(.0)(+), TLSv1.1(+) and TLSv1.2(+)
    // (src/modules/tls/tls_config.c, methods[]); anything else fails mod_init at start-up, after `-c`
    // passed. Only the two that exclude obsolete protocols are offered; TLSv1.2+ negotiates TLS 1.3 too.
    method: z
      .enum(TLS_METHODS, {
        error: (iss) =>
          typeof iss.input === 'string' && /^TLSv1\.3/i.test(iss.input)
            ? 'Kamailio 5.5 and 5.6 refuse it at start-up (mod_init(): Invalid tls_method parameter value): their tls module has no TLSv1.3 method, yet TLSv1.2+ already negotiates TLS 1.3 with OpenSSL 1.1.1 and later'
            : undefined,
      })
      .default('TLSv1.2+')
      .describe("Lowest TLS version accepted, as Kamailio 5.5's tls_method: TLSv1.2+ (TLS 1.2 or newer, 1.3 included) or TLSv1.2 (exactly 1.2)"),
  })
  .prefault({});

const diagnosticsSchema = z
  .strictObject({
    jsonrpc: z.boolean().default(false).describe('jsonrpcs over a FIFO on the instance'),
    debugger: z.boolean().default(false).describe('Load the debugger module'),
    debugLevel: z.number().int().min(-5).max(3).default(2).describe('3 DBG, 2 INFO, 1 NOTICE, 0 WARN, -1 ERR'),
    log: z.enum(['syslog', 'stderr']).default('syslog').describe('Where Kamailio logs: syslog (journald) or stderr'),
    logFacility: z
      .string()
      .regex(/^LOG_(LOCAL[0-7]|DAEMON|USER)$/, 'must be a syslog facility such as LOG_LOCAL0 (LOG_LOCAL0-7, LOG_DAEMON or LOG_USER)')
      .default('LOG_LOCAL0')
      .describe('syslog facility'),
  })
  .prefault({});

const memorySchema = z
  .strictObject({
    sharedMb: z.number().int().min(64).max(65536).default(512).describe('kamailio -m: shared memory (tm transactions, dialogs, dispatcher)'),
    privateMb: z.number().int().min(4).max(1024).default(16).describe('kamailio -M: private memory per process'),
    children: z.number().int().min(1).max(64).default(8).describe('Worker processes per UDP listener (and TCP workers)'),
  })
  .prefault({});

const capacitySchema = z
  .strictObject({
    callsPerSecond: z
      .number()
      .int()
      .min(1)
      .max(5000)
      .default(100)
      .describe(
        "New calls per second this image is sized for (from one source too): antiflood's default density and Kamailio's UDP receive buffer follow from it",
      ),
  })
  .prefault({});

export const imageSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,40}$/, 'must be 2-41 lower-case letters, digits and dashes, starting with a letter')
      .describe('Image name; must equal the file name (images/NAME.yaml). Tags the AMI (sipbake:image)'),
    description: text(255).default('').describe('Free text, one line'),
    listen: listenSchema,
    advertise: advertiseSchema,
    relay: relaySchema.optional(),
    dispatcher: dispatcherSchema.optional(),
    media: mediaSchema,
    tcp: tcpSchema,
    antiflood: antifloodSchema,
    tls: tlsSchema,
    diagnostics: diagnosticsSchema,
    memory: memorySchema,
    capacity: capacitySchema,
    drain: drainSchema,
    bake: bakeSchema,
    deploy: deploySchema.optional(),
  })
  .describe('A sipbake image definition: one golden Kamailio AMI');

export type ImageInput = z.input<typeof imageSchema>;
export type ImageDefinition = z.output<typeof imageSchema>;
export type Destination = z.output<typeof destinationSchema>;
