// `sipbake try`: the pure part. From a loaded definition and ports picked at run time, decide the
// loopback layout (who listens where) and the definition overrides that point the image at its fake
// peers. No I/O here.
import { deepMerge, type Plain } from '../definition/merge.js';
import type { ImageDefinition } from '../definition/schema.js';

/** One loopback net per `try`, so it does not collide with the live tests (127.0.1-9.x). */
export const TRY_NET = '127.0.20';

/**
 * The /24 of loopback `try --address` names: 127.0.30, 127.0.30.0, 127.0.30.0/24 or any address in it.
 * Undefined when it is not inside 127.0.0.0/8 (Linux routes all of it to lo; elsewhere aliases are needed).
 */
export function loopbackNet(address: string): string | undefined {
  const m = address.trim().match(/^127\.(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?(?:\/(\d{1,2}))?$/);
  if (!m) return undefined;
  const [, b, c, d, bits] = m;
  if ([b, c, d ?? '0'].some((o) => Number(o) > 255)) return undefined;
  if (bits !== undefined && (Number(bits) > 24 || Number(bits) < 8)) return undefined;
  return `127.${Number(b)}.${Number(c)}`;
}

export interface TryPorts {
  sip: number;
  tls?: number;
  health: number;
  peers: number[];
  rtpproxy?: number;
}

interface TryPeer {
  role: 'destination' | 'recorder';
  name: string;
  host: string;
  port: number;
}

export interface TryPlan {
  privateIp: string;
  publicIp: string;
  sip: { udp?: string; tcp?: string; tls?: string };
  peers: TryPeer[];
  rtpproxy?: { host: string; port: number };
  /** The caller address allowed by a relay image (allowedSources is narrowed to it). */
  callerSubnet: string;
  /** Where to place a call from (inside callerSubnet). */
  caller: string;
  overrides: Record<string, unknown>;
  notes: string[];
}

/** How many fake peers the image needs. */
export function peerCount(image: ImageDefinition): number {
  return image.relay ? 1 : (image.dispatcher?.destinations.length ?? 0);
}

export function planTry(image: ImageDefinition, ports: TryPorts, net = TRY_NET): TryPlan {
  const TRY_NET = net;
  const privateIp = `${TRY_NET}.2`;
  // An image that advertises another address gets a second loopback address, as on AWS.
  const publicIp = image.advertise.source === 'private-ipv4' ? privateIp : `${TRY_NET}.3`;
  const callerSubnet = `${TRY_NET}.16/28`;
  const notes: string[] = [];
  const peers: TryPeer[] = [];
  const overrides: Record<string, unknown> = {
    listen: {
      ...(image.listen.udp !== undefined ? { udp: ports.sip } : {}),
      ...(image.listen.tcp !== undefined ? { tcp: ports.sip } : {}),
      ...(image.listen.tls !== undefined && ports.tls !== undefined ? { tls: ports.tls } : {}),
    },
    advertise: publicIp === privateIp ? { source: 'private-ipv4', elasticIp: undefined } : { source: 'elastic-ip', elasticIp: publicIp },
    diagnostics: { log: 'stderr', jsonrpc: false },
    drain: { healthCheck: { port: ports.health } },
  };
  if (image.diagnostics.jsonrpc) notes.push('diagnostics.jsonrpc is off under try (the FIFO is not needed on loopback)');
  if (image.relay) {
    const port = ports.peers[0] ?? 0;
    peers.push({ role: 'destination', name: image.relay.destination.domain, host: `${TRY_NET}.10`, port });
    overrides.relay = {
      destination: { domain: `${TRY_NET}.10`, port, transport: 'udp' },
      allowedSources: [callerSubnet],
    };
    notes.push(`allowedSources narrowed to ${callerSubnet}: call from an address in it, e.g. ${TRY_NET}.20`);
  }
  if (image.dispatcher) {
    const ds = image.dispatcher;
    const destinations = ds.destinations.map((d, i) => {
      const host = `${TRY_NET}.${10 + i}`;
      const port = ports.peers[i] ?? 0;
      peers.push({ role: 'recorder', name: d.description || `destination ${i}`, host, port });
      return { ...d, host, port, transport: 'udp' };
    });
    overrides.dispatcher = { destinations, backend: { type: 'file' } };
    if (ds.backend.type === 'postgres') notes.push('the postgres backend is replaced by the list file under try (same destinations)');
  }
  let rtpproxy: TryPlan['rtpproxy'];
  if (image.media.rtpproxy.enabled && ports.rtpproxy !== undefined) {
    rtpproxy = { host: `${TRY_NET}.50`, port: ports.rtpproxy };
    overrides.media = { rtpproxy: { controlSocket: `udp:${rtpproxy.host}:${rtpproxy.port}` } };
  }
  const at = (p: number | undefined): string | undefined => (p === undefined ? undefined : `${privateIp}:${p}`);
  return {
    privateIp,
    publicIp,
    sip: {
      ...(image.listen.udp !== undefined ? { udp: at(ports.sip) } : {}),
      ...(image.listen.tcp !== undefined ? { tcp: at(ports.sip) } : {}),
      ...(image.listen.tls !== undefined && image.tls.enabled ? { tls: at(ports.tls) } : {}),
    },
    peers,
    ...(rtpproxy ? { rtpproxy } : {}),
    callerSubnet,
    caller: `${TRY_NET}.20`,
    overrides,
    notes,
  };
}

/** Deep merge for definitions; a backend is replaced whole (file and postgres fields never mix). */
export function mergeDefinition(base: Plain, over: Plain): Plain {
  return deepMerge(base, over, { replaceWhole: ['backend'] });
}
