import type { ImageDefinition } from '../definition/schema.js';
import { kamailioString } from '../contract/escape.js';
import { renderDispatcherList } from './dispatcher.js';

// Pure: every decision about what the image contains is made here, so the templates only print
// and other parts (Packer's module list, the agent's manifest) read the same answers.

export interface Listener {
  proto: 'udp' | 'tcp' | 'tls';
  port: number;
}

export interface KamailioView {
  image: ImageDefinition;
  listeners: Listener[];
  modules: string[];
  useNathelper: boolean;
  useRtpproxy: boolean;
  useUsrloc: boolean;
  useDispatcher: boolean;
  usePostgres: boolean;
  useTls: boolean;
  useJsonrpc: boolean;
  useDebugger: boolean;
  useAntiflood: boolean;
  relayAllowCidrs: string[];
  dsList: string;
  /** A Kamailio double-quoted string literal. */
  q: (s: string) => string;
}

/** Loaded in this order: dependencies first (rr before dialog, sl/tm before the users). */
export function modulesFor(image: ImageDefinition): string[] {
  const m = ['kex', 'corex', 'tm', 'tmx', 'sl', 'rr', 'pv', 'maxfwd', 'textops', 'siputils', 'xlog', 'sanity', 'ctl', 'cfgutils', 'dialog'];
  if (image.diagnostics.jsonrpc) m.push('jsonrpcs');
  if (image.tls.enabled) m.unshift('tls'); // tls first, as Kamailio's own config does
  // is_in_subnet(): the relay's allowed sources and antiflood's exempt sources.
  if (image.relay || (image.antiflood.enabled && image.antiflood.exempt.length > 0)) m.push('ipops');
  if (usesNathelper(image)) {
    if (image.nathelper.keepalive) m.push('usrloc');
    m.push('nathelper');
  }
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
  return Boolean(image.dispatcher) || image.media.rtpproxy.enabled || image.nathelper.keepalive;
}

export function listenersOf(image: ImageDefinition): Listener[] {
  const out: Listener[] = [];
  for (const proto of ['udp', 'tcp', 'tls'] as const) {
    const port = image.listen[proto];
    if (port !== undefined) out.push({ proto, port });
  }
  return out;
}

// The dispatcher list and the string escaper live in their own modules (render/dispatcher.ts,
// contract/escape.ts); re-exported here for the template view's users.
export { destinationAttrs, destinationUri, renderDispatcherList } from './dispatcher.js';
export { kamailioString } from '../contract/escape.js';

export function kamailioView(image: ImageDefinition): KamailioView {
  return {
    image,
    listeners: listenersOf(image),
    modules: modulesFor(image),
    useNathelper: usesNathelper(image),
    useRtpproxy: image.media.rtpproxy.enabled,
    useUsrloc: usesNathelper(image) && image.nathelper.keepalive,
    useDispatcher: Boolean(image.dispatcher),
    usePostgres: image.dispatcher?.backend.type === 'postgres',
    useTls: image.tls.enabled,
    useJsonrpc: image.diagnostics.jsonrpc,
    useDebugger: image.diagnostics.debugger,
    useAntiflood: image.antiflood.enabled,
    relayAllowCidrs: image.relay?.allowedSources ?? [],
    dsList: renderDispatcherList(image),
    q: kamailioString,
  };
}
