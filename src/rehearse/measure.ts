import { timedMessages } from './calls.js';

// Pure: the summary's measurements from SIPp message logs and the NAT gateway's conntrack lines.

/** From the callee's message log: per Call-ID, when its BYE transaction ended (the 200 to the BYE). */
export function callEnds(logs: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of timedMessages(logs.join('\n'))) {
    if (/^SIP\/2\.0 200/.test(m.text) && /^CSeq:\s*\d+ BYE/im.test(m.text)) {
      const id = /^Call-ID:\s*(\S+)/im.exec(m.text)?.[1];
      if (id) out.set(id, m.at);
    }
  }
  return out;
}

/** conntrack lines of the NAT gateway: flows from instances, translated to its Elastic IP with another source port. */
export function natTranslations(flows: string[]): { natFlows: number; natPortsKept: number; natSamples: string[] } {
  let kept = 0;
  for (const f of flows) {
    const sport = /src=10\.0\.1\.\d+ dst=\S+ sport=(\d+)/.exec(f)?.[1];
    const dport = /src=\S+ dst=203\.0\.113\.20 sport=\d+ dport=(\d+)/.exec(f)?.[1];
    if (sport && sport === dport) kept++;
  }
  return { natFlows: flows.length, natPortsKept: kept, natSamples: flows.slice(0, 3) };
}

/** The NAT path, from the callee's side: INVITEs that arrived from the NAT gateway's address, and BYEs answered that way. */
export function natPath(log: string): { outboundInvites: number; invitesWithRport: number; byesFromProxy: number } {
  let invites = 0;
  let rport = 0;
  let byes = 0;
  for (const m of timedMessages(log)) {
    if (m.direction !== 'received') continue;
    const via = /^Via:\s*([^\n,]*)/im.exec(m.text)?.[1] ?? '';
    if (/^INVITE /.test(m.text)) {
      invites++;
      if (/;rport\b/.test(via)) rport++;
    }
    if (/^BYE /.test(m.text)) byes++;
  }
  return { outboundInvites: invites, invitesWithRport: rport, byesFromProxy: byes };
}

/**
 * Trunk calls handed off by a draining instance to a serving peer, seen where they arrive: the callee's INVITE carries
 * the handoff header, or one Via more than a direct call (the trunk's, the proxy's: two; through a peer: three).
 */
export function handedOff(calleeLog: string, callIds: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const m of timedMessages(calleeLog)) {
    if (m.direction !== 'received' || !/^INVITE /.test(m.text)) continue;
    const id = /^Call-ID:\s*(\S+)/im.exec(m.text)?.[1];
    if (id === undefined || !callIds.has(id)) continue;
    const vias = [...m.text.matchAll(/^(?:Via|v):\s*(.*)$/gim)].reduce((n, v) => n + (v[1] ?? '').split(',').length, 0);
    if (vias > 2 || /^X-Sipbake-Handoff:/im.test(m.text)) out.add(id);
  }
  return [...out];
}

/** The peers a drain agent handed new INVITEs to, in order: its log's "handing new INVITEs to ID (PEER)" lines
 *  (src/agent/drain-machine.ts). */
export function handoffPeers(agentLog: string): string[] {
  return [...new Set([...agentLog.matchAll(/handing new INVITEs to (i-[0-9a-z]+) \(/g)].map((m) => m[1] ?? ''))];
}

/** Trunk calls Kamailio logged as handed off: the handoff route's xlog line (templates/kamailio/kamailio.cfg.eta,
 *  route[HANDOFF]) "handoff: INVITE Call-ID X from SRC to PEER". */
export function handoffsLogged(kamailioLogs: string[], callIds: ReadonlySet<string>): number {
  const ids = new Set<string>();
  for (const l of kamailioLogs)
    for (const [, id] of l.matchAll(/handoff: INVITE Call-ID (\S+) from \S+ to \d{1,3}(?:\.\d{1,3}){3}/g)) if (id !== undefined && callIds.has(id)) ids.add(id);
  return ids.size;
}
