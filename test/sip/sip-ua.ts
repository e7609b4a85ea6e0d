// A minimal SIP user agent over UDP for live tests that need what SIPp's scenarios make awkward:
// forged in-dialog requests, a third host that must receive nothing, a callee that sends its own BYE
// to another instance, headers of our choosing. RFC 3261 message syntax only, no transactions:
// the tests send each message once and wait for the answer they expect, on loopback.
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

export interface SipMessage {
  startLine: string;
  method?: string;
  status?: number;
  headers: [string, string][];
  body: string;
  raw: string;
  from: { address: string; port: number };
}

const COMPACT: Record<string, string> = {
  v: 'via',
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
};
const norm = (n: string): string => COMPACT[n.toLowerCase()] ?? n.toLowerCase();

function parseSip(raw: string, from = { address: '', port: 0 }): SipMessage {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const lines = head.split('\r\n');
  const startLine = lines[0] ?? '';
  const headers: [string, string][] = [];
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers.push([l.slice(0, i).trim(), l.slice(i + 1).trim()]);
  }
  const st = /^SIP\/2\.0 (\d{3})/.exec(startLine);
  const rq = /^([A-Z]+) \S+ SIP\/2\.0/.exec(startLine);
  return {
    startLine,
    headers,
    body: rest.join('\r\n\r\n'),
    raw,
    from,
    ...(st ? { status: Number(st[1]) } : {}),
    ...(rq ? { method: rq[1] } : {}),
  };
}

/** Every value of a header (case-insensitive, compact forms too); comma-joined values stay as sent. */
export const hdrs = (m: SipMessage, name: string): string[] => m.headers.filter(([n]) => norm(n) === norm(name)).map(([, v]) => v);
export const hdr = (m: SipMessage, name: string): string => hdrs(m, name)[0] ?? '';
/** The To/From tag. */
export const tagOf = (v: string): string => /;tag=([^;>\s]+)/.exec(v)?.[1] ?? '';
/** The URI inside name-addr angle brackets (or the value itself). */
export const uriOf = (v: string): string => /<([^>]+)>/.exec(v)?.[1] ?? v.split(';')[0]!.trim();
export const cseqMethod = (m: SipMessage): string => hdr(m, 'cseq').split(/\s+/)[1] ?? '';

export const SDP = (ip: string, port: number): string =>
  ['v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

export const newId = (): string => randomBytes(8).toString('hex');

export interface RequestSpec {
  method: string;
  ruri: string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  route?: string[];
  contact?: string;
  body?: string;
  extra?: string[];
}

export class SipUa {
  readonly received: SipMessage[] = [];
  private waiters: { pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];
  private handler?: (m: SipMessage) => void;
  private constructor(
    private readonly sock: Socket,
    readonly ip: string,
    readonly port: number,
  ) {}

  static async open(ip: string, port = 0): Promise<SipUa> {
    const sock = createSocket('udp4');
    await new Promise<void>((res, rej) => {
      sock.once('error', rej);
      sock.bind(port, ip, () => res());
    });
    const ua = new SipUa(sock, ip, sock.address().port);
    sock.on('message', (buf, rinfo) => ua.onMessage(parseSip(buf.toString('utf8'), { address: rinfo.address, port: rinfo.port })));
    return ua;
  }

  get hostport(): string {
    return `${this.ip}:${this.port}`;
  }

  /** Called for every message, before waiters (e.g. an auto-answering callee). */
  onEvery(h: (m: SipMessage) => void): void {
    this.handler = h;
  }

  private onMessage(m: SipMessage): void {
    this.received.push(m);
    this.handler?.(m);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(m)) return true;
      w.resolve(m);
      return false;
    });
  }

  send(text: string, host: string, port: number): void {
    this.sock.send(Buffer.from(text, 'utf8'), port, host);
  }

  /** Resolves with the first message (already received or future) that matches, or undefined after ms. */
  waitFor(pred: (m: SipMessage) => boolean, ms: number, since = 0): Promise<SipMessage | undefined> {
    const seen = this.received.slice(since).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const w = { pred, resolve: (m: SipMessage | undefined) => resolve(m) };
      this.waiters.push(w);
      setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== (w as never));
        resolve(undefined);
      }, ms);
    });
  }

  /** A final (>= 200) response to the given Call-ID and CSeq method. */
  finalResponse(callId: string, method: string, ms = 5000, since = 0): Promise<SipMessage | undefined> {
    return this.waitFor((m) => m.status !== undefined && m.status >= 200 && hdr(m, 'call-id') === callId && cseqMethod(m) === method, ms, since);
  }

  request(r: RequestSpec): string {
    const body = r.body ?? '';
    const lines = [
      `${r.method} ${r.ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.hostport};branch=z9hG4bK${newId()};rport`,
      'Max-Forwards: 70',
      `From: ${r.from}`,
      `To: ${r.to}`,
      `Call-ID: ${r.callId}`,
      `CSeq: ${r.cseq} ${r.method}`,
      ...(r.route ?? []).map((x) => `Route: ${x}`),
      `Contact: ${r.contact ?? `<sip:ua@${this.hostport}>`}`,
      ...(r.extra ?? []),
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    return lines.join('\r\n');
  }

  /** A response to `req`: Via, From, Call-ID, CSeq and Record-Route copied, To tagged with toTag. */
  response(req: SipMessage, status: number, reason: string, o: { toTag?: string; extra?: string[]; body?: string } = {}): string {
    const to = hdr(req, 'to');
    const body = o.body ?? '';
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...hdrs(req, 'via').map((v) => `Via: ${v}`),
      `From: ${hdr(req, 'from')}`,
      `To: ${o.toTag && !tagOf(to) ? `${to};tag=${o.toTag}` : to}`,
      `Call-ID: ${hdr(req, 'call-id')}`,
      `CSeq: ${hdr(req, 'cseq')}`,
      ...hdrs(req, 'record-route').map((v) => `Record-Route: ${v}`),
      ...(status >= 200 && status < 300 && req.method === 'INVITE' ? [`Contact: <sip:ua@${this.hostport}>`] : []),
      ...(o.extra ?? []),
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    return lines.join('\r\n');
  }

  /** Answers a request where it came from (the proxy), as RFC 3261 18.2.2 does for UDP with rport. */
  reply(req: SipMessage, status: number, reason: string, o: Parameters<SipUa['response']>[3] = {}): void {
    this.send(this.response(req, status, reason, o), req.from.address, req.from.port);
  }

  close(): Promise<void> {
    return new Promise((r) => this.sock.close(() => r()));
  }
}

export interface CalleeOptions {
  /** Headers added to every 200 for an INVITE. */
  extra200?: string[];
  /** Return true to leave an INVITE unanswered (every retransmission too): a recorder that times out. */
  dropInvite?: (callId: string) => boolean;
}

/** A callee: INVITE 100 + 200 (SDP, Record-Route copied), BYE/other requests 200, ACK nothing. */
export async function startCallee(ip: string, o: CalleeOptions = {}): Promise<SipUa> {
  const ua = await SipUa.open(ip);
  const tags = new Map<string, string>();
  ua.onEvery((m) => {
    if (!m.method || m.method === 'ACK') return;
    const callId = hdr(m, 'call-id');
    if (m.method === 'INVITE') {
      if (o.dropInvite?.(callId)) return;
      let tag = tagOf(hdr(m, 'to')) || tags.get(callId);
      if (!tag) tags.set(callId, (tag = newId()));
      ua.reply(m, 100, 'Trying');
      ua.reply(m, 200, 'OK', { toTag: tag, body: SDP(ip, 40000), extra: o.extra200 ?? [] });
      return;
    }
    ua.reply(m, 200, 'OK', { toTag: tags.get(callId) ?? newId() });
  });
  return ua;
}
