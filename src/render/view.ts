import type { ImageDefinition } from '../definition/schema.js';
import { kamailioString } from '../contract/escape.js';
import { renderDispatcherList } from './dispatcher.js';
import { rtpproxyMaxCalls } from '../contract/rtpproxy-args.js';

// Pure: every decision about what the image contains, and every value the Kamailio template prints,
// is computed here; the template only prints and chooses blocks by these flags. Other parts (Packer's
// module list, the agent's manifest) read the same answers.

interface Listener {
  proto: 'udp' | 'tcp' | 'tls';
  port: number;
}

export interface KamailioView {
  image: ImageDefinition;
  listeners: Listener[];
  modules: string[];
  useNathelper: boolean;
  useRtpproxy: boolean;
  /** Calls RTPProxy may hold (media.rtpproxy.maxCalls, default what rtpPorts holds): past it new calls get 503. */
  mediaMaxCalls: number;
  useDispatcher: boolean;
  usePostgres: boolean;
  useTls: boolean;
  useJsonrpc: boolean;
  useDebugger: boolean;
  useAntiflood: boolean;
  relayAllowCidrs: string[];
  dsList: string;
  /** tm fr_timer, ms: with a dispatcher, a dead destination fails over within one probing interval (max 5 s). */
  frTimerMs: number;
  /** Initial methods relayed, as is_method() takes them ("INVITE|MESSAGE"). */
  initialMethods: string;
  /** Allow header value for the 405 answer: the relayed methods plus OPTIONS (answered locally). */
  allowMethods: string;
  /** Initial OPTIONS are answered locally unless the definition relays them. */
  answerOptionsLocally: boolean;
  /** POSIX regexes (case-insensitive by bracket classes) of header names remove_hf_re() strips both ways. */
  stripHeaderRes: string[];
  /** pike reqs_density_per_unit: the definition's, or sized from capacity.callsPerSecond. */
  antifloodDensity: number;
  /** CIDRs antiflood never counts: antiflood.exempt. */
  antifloodExemptCidrs: string[];
  /** With exemptUpstream: the relay's allowed sources, never banned but held to antifloodUpstreamDensity. */
  antifloodUpstreamCidrs: string[];
  /** With exemptUpstream on a dispatcher image: ds_is_from_list() sources (names too) get the same ceiling. */
  antifloodUpstreamDispatcher: boolean;
  /** Initial requests per upstream source per sampleTime window. */
  antifloodUpstreamDensity: number;
  /** Core maxbuffer: the UDP receive buffer Kamailio probes up to, sized for capacity.callsPerSecond. */
  udpMaxBuffer: number;
  debuggerCfgtrace: 0 | 1;
  logStderror: 'yes' | 'no';
  /** A TCP or TLS listener: tcp workers on. */
  useTcp: boolean;
  dsLatencyStats: 0 | 1;
  /** Relayed requests arm onreply_route[MANAGE_REPLY] (NAT fix, SDP, header stripping). */
  useManageReply: boolean;
  /** Relay only: the Request-URI suffix (@host[:port]) and the next hop for initial requests. */
  relayTarget?: { ruriHostport: string; nextHop: string };
  /** A Kamailio double-quoted string literal. */
  q: (s: string) => string;
}

/** Loaded in this order: dependencies first (rr before dialog, sl/tm before the users). */
export function modulesFor(image: ImageDefinition): string[] {
  const m = ['kex', 'corex', 'tm', 'tmx', 'sl', 'rr', 'pv', 'maxfwd', 'textops', 'siputils', 'xlog', 'sanity', 'ctl', 'cfgutils', 'dialog'];
  if (image.diagnostics.jsonrpc) m.push('jsonrpcs');
  if (image.tls.enabled) m.unshift('tls'); // tls first, as Kamailio's own config does
  // is_in_subnet(): the relay's allowed sources and antiflood's exempt sources.
  // is_in_subnet() also checks peers (SIPBAKE_PEER_NET) for in-dialog requests forwarded to their owner.
  m.push('ipops');
  if (usesNathelper(image)) m.push('nathelper');
  if (image.media.rtpproxy.enabled) m.push('rtpproxy');
  if (image.dispatcher) {
    if (image.dispatcher.backend.type === 'postgres') m.push('db_postgres');
    m.push('dispatcher');
  }
  if (image.antiflood.enabled) m.push('htable', 'pike');
  if (image.diagnostics.debugger) m.push('debugger');
  return m;
}

function usesNathelper(image: ImageDefinition): boolean {
  return Boolean(image.dispatcher) || image.media.rtpproxy.enabled;
}

/** Pike blocks a source somewhere between x and 3x requests per unit (pike README, reqs_density_per_unit): x = 1.5 x the rated rate. */
export function antifloodDensity(image: ImageDefinition): number {
  return image.antiflood.requestsDensity ?? Math.ceil(1.5 * image.capacity.callsPerSecond * image.antiflood.sampleTime);
}

/**
 * An upstream source's own ceiling: 3 x the rated rate per window. Not pike (one density for all), so a spoofed
 * flood from an allowed address is cut to this, never banned (a ban would cut the customer's own trunk).
 */
function antifloodUpstreamDensity(image: ImageDefinition): number {
  return image.antiflood.upstreamDensity ?? 3 * image.capacity.callsPerSecond * image.antiflood.sampleTime;
}

/** A header pattern (Name or Prefix*) as a POSIX regex anchored at the name; letters match either case. */
export function headerRegex(pattern: string): string {
  const prefix = pattern.endsWith('*');
  const name = prefix ? pattern.slice(0, -1) : pattern;
  const body = [...name].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join('');
  return `^${body}${prefix ? '' : '$'}`;
}

/** ~4 datagrams of ~1.5 kB per call for one second of the rated rate, between Kamailio's default 256 kB and 16 MB. */
export function udpMaxBuffer(image: ImageDefinition): number {
  return Math.min(16 << 20, Math.max(256 << 10, image.capacity.callsPerSecond * 4 * 1500));
}

function listenersOf(image: ImageDefinition): Listener[] {
  const out: Listener[] = [];
  for (const proto of ['udp', 'tcp', 'tls'] as const) {
    const port = image.listen[proto];
    if (port !== undefined) out.push({ proto, port });
  }
  return out;
}

function relayTarget(d: NonNullable<ImageDefinition['relay']>['destination']): {
  ruriHostport: string;
  nextHop: string;
} {
  const hostport = d.port === 5060 ? d.domain : `${d.domain}:${d.port}`;
  return { ruriHostport: hostport, nextHop: `sip:${d.domain}:${d.port};transport=${d.transport}` };
}

export function kamailioView(image: ImageDefinition): KamailioView {
  const methods = image.relay?.initialMethods ?? image.dispatcher?.initialMethods ?? ['INVITE'];
  return {
    image,
    listeners: listenersOf(image),
    modules: modulesFor(image),
    useNathelper: usesNathelper(image),
    useRtpproxy: image.media.rtpproxy.enabled,
    mediaMaxCalls: rtpproxyMaxCalls(image.media.rtpproxy),
    useDispatcher: Boolean(image.dispatcher),
    usePostgres: image.dispatcher?.backend.type === 'postgres',
    useTls: image.tls.enabled,
    useJsonrpc: image.diagnostics.jsonrpc,
    useDebugger: image.diagnostics.debugger,
    useAntiflood: image.antiflood.enabled,
    relayAllowCidrs: image.relay?.allowedSources ?? [],
    dsList: renderDispatcherList(image),
    frTimerMs: image.dispatcher ? Math.min(5000, image.dispatcher.probing.interval * 1000) : 30000,
    initialMethods: methods.join('|'),
    allowMethods: [...new Set([...methods, 'OPTIONS'])].join(', '),
    answerOptionsLocally: !methods.includes('OPTIONS'),
    stripHeaderRes: (image.relay?.stripHeaders ?? []).map(headerRegex),
    antifloodDensity: antifloodDensity(image),
    antifloodExemptCidrs: image.antiflood.exempt,
    antifloodUpstreamCidrs: image.antiflood.exemptUpstream ? (image.relay?.allowedSources ?? []) : [],
    antifloodUpstreamDispatcher: image.antiflood.exemptUpstream && Boolean(image.dispatcher),
    antifloodUpstreamDensity: antifloodUpstreamDensity(image),
    udpMaxBuffer: udpMaxBuffer(image),
    debuggerCfgtrace: image.diagnostics.debugLevel >= 3 ? 1 : 0,
    logStderror: image.diagnostics.log === 'stderr' ? 'yes' : 'no',
    useTcp: listenersOf(image).some((l) => l.proto !== 'udp'),
    dsLatencyStats: image.dispatcher?.probing.latencyStats === false ? 0 : 1,
    useManageReply: usesNathelper(image) || image.media.rtpproxy.enabled || (image.relay?.stripHeaders.length ?? 0) > 0,
    ...(image.relay ? { relayTarget: relayTarget(image.relay.destination) } : {}),
    q: kamailioString,
  };
}
