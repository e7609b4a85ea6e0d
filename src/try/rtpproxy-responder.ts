// A stand-in for RTPProxy's control socket (UDP), speaking the protocol as Kamailio's rtpproxy module
// sends it. Every request is "COOKIE COMMAND…"; every reply is "COOKIE RESULT\n".
//   V                 → protocol version 20040107
//   VF <capability>   → 1 for the capabilities listed in CAPABILITIES, else 0
//   U<flags> callid addr port fromtag[;n] …         (offer)  → "PORT ADDR": the media port it allocated
//   L<flags> callid addr port fromtag[;n] totag[;n] (answer) → "PORT ADDR"
//   D<flags> callid fromtag [totag]                 (delete) → 0
//   anything else      → E1 (syntax error), as RTPProxy answers
// Media never flows: this is control only. Each command is recorded for assertions.
import { createSocket, type Socket } from 'node:dgram';

export const CAPABILITIES = ['20040107', '20050322', '20060704', '20071218', '20080403', '20081102', '20081224', '20090810'];

export interface RtpproxyCommand {
  at: number;
  /** V, VF, U, L, D, … (the command letter(s), without flags). */
  command: string;
  flags: string;
  callId?: string;
  addr?: string;
  port?: number;
  fromTag?: string;
  toTag?: string;
  raw: string;
  reply: string;
}

export interface RtpproxyResponderOptions {
  host: string;
  port: number;
  /** Address returned for media (goes into the rewritten c= line). Default: host. */
  mediaIp?: string;
  /** First media port handed out; each U/L gets the next even one, wrapping within 20000 ports (never past 65535). Default 35000. */
  firstMediaPort?: number;
}

/** Pure: one request text → the reply text (without cookie) and what was understood. */
export function answer(body: string, allocate: (callId: string, tag: string) => number, mediaIp: string): Omit<RtpproxyCommand, 'at' | 'raw'> {
  const parts = body.trim().split(/\s+/);
  const head = parts[0] ?? '';
  if (head === 'V') return { command: 'V', flags: '', reply: '20040107' };
  if (head === 'VF') return { command: 'VF', flags: parts[1] ?? '', reply: CAPABILITIES.includes(parts[1] ?? '') ? '1' : '0' };
  const letter = head.charAt(0).toUpperCase();
  const flags = head.slice(1);
  const tag = (s: string | undefined): string | undefined => s?.split(';')[0];
  if (letter === 'U' || letter === 'L') {
    const [, callId, addr, port, fromTag, toTag] = parts;
    if (!callId || !addr || !port || !fromTag) return { command: letter, flags, reply: 'E1' };
    const own = letter === 'U' ? tag(fromTag) : (tag(toTag) ?? tag(fromTag));
    const p = allocate(callId, own ?? '');
    return { command: letter, flags, callId, addr, port: Number(port), fromTag: tag(fromTag), ...(toTag ? { toTag: tag(toTag) } : {}), reply: `${p} ${mediaIp}` };
  }
  if (letter === 'D') {
    const [, callId, fromTag, toTag] = parts;
    return { command: 'D', flags, ...(callId ? { callId } : {}), ...(fromTag ? { fromTag: tag(fromTag) } : {}), ...(toTag ? { toTag: tag(toTag) } : {}), reply: '0' };
  }
  if (letter === 'I') return { command: 'I', flags, reply: 'sessions created: 0' };
  return { command: head, flags: '', reply: 'E1' };
}

export class RtpproxyResponder {
  readonly commands: RtpproxyCommand[] = [];
  private socket: Socket | undefined;
  private next: number;
  private ports = new Map<string, number>();
  readonly mediaIp: string;

  constructor(readonly opts: RtpproxyResponderOptions) {
    this.mediaIp = opts.mediaIp ?? opts.host;
    this.next = opts.firstMediaPort ?? 35000;
  }

  /** The control socket as Kamailio's rtpproxy_sock wants it. */
  get url(): string {
    return `udp:${this.opts.host}:${this.opts.port}`;
  }

  /** The media port handed out for (callId, tag). */
  portFor(callId: string, tag: string): number | undefined {
    return this.ports.get(`${callId} ${tag}`);
  }

  async start(): Promise<this> {
    const s = createSocket('udp4');
    this.socket = s;
    s.on('message', (msg, rinfo) => {
      const raw = msg.toString('utf8');
      const sp = raw.indexOf(' ');
      if (sp <= 0) return; // no cookie: RTPProxy ignores it too
      const cookie = raw.slice(0, sp);
      const a = answer(raw.slice(sp + 1), (callId, tag) => this.allocate(callId, tag), this.mediaIp);
      this.commands.push({ at: Date.now(), raw, ...a });
      s.send(`${cookie} ${a.reply}\n`, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.opts.port, this.opts.host, () => resolve());
    });
    return this;
  }

  private allocate(callId: string, tag: string): number {
    const key = `${callId} ${tag}`;
    const have = this.ports.get(key);
    if (have !== undefined) return have;
    const p = this.next;
    // Even ports in [first, min(first + 20000, 65536)), reused round-robin: a long benchmark allocates far more
    // sessions than there are ports (RTPProxy reuses freed ports the same way).
    const first = this.opts.firstMediaPort ?? 35000;
    const end = Math.min(first + 20000, 65536);
    this.next = p + 2 >= end ? first : p + 2;
    if (this.ports.size > 50_000) this.ports.clear(); // bounded memory over long runs
    this.ports.set(key, p);
    return p;
  }

  /** Recorded commands of one kind (U, L, D, V, VF). */
  of(command: string): RtpproxyCommand[] {
    return this.commands.filter((c) => c.command === command);
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
