// A stand-in for RTPProxy's control socket (UDP), speaking the protocol as Kamailio's rtpproxy module
// sends it. Every request is "COOKIE COMMAND…"; every reply is "COOKIE RESULT\n".
//   V                 → protocol version 20040107
//   VF <capability>   → 1 for the capabilities listed in CAPABILITIES, else 0
//   U<flags> callid addr port fromtag[;n] …         (offer)  → "PORT ADDR": the media port it allocated
//   L<flags> callid addr port fromtag[;n] totag[;n] (answer) → "PORT ADDR"
//   D<flags> callid fromtag [totag]                 (delete) → 0
//   anything else      → E1 (syntax error), as RTPProxy answers
// Media never flows: this is control only. Each command is recorded for assertions.
//
// Where it still runs, and why (everywhere media matters the real RTPProxy 3.2.0 runs: src/try/rtpproxy.ts):
// - as the fallback when this machine has no rtpproxy binary (a clone without ../shared/upstream: .ci/setup
//   then compiles nothing); the live tests, `sipbake try` and bench:sip say so in one line;
// - in test/sip/harness.test.ts, which tests this stand-in itself, and test/agent/boot-rtpproxy.test.ts, which
//   reads the unit's argv the way 3.2.0 does (parseRtpproxyArgv) without starting anything;
// - in test/agent/boot-rtpproxy.live.test.ts's second case, which feeds it the OLD argv (`-l PRIVATE -A PUBLIC`)
//   to show what 3.2.0 advertised with it: the same case runs the real binary when it is built.
// - in test/sip/recorder-lb-overload.live.test.ts's failed-offer case: an RTPProxy answering every offer with an
//   error (failOffers), which the real one does only when exhausted or overloaded, not on demand.
//
// Started from an argv (RtpproxyResponder.fromArgv), it reads the command line the way RTPProxy 3.2.0 does
// (sippy/rtpproxy b26b09b3: src/main.c getopt, src/rtpp_bindargs.c bindarg_parse/init_bindaddrs,
// src/rtpp_command_reply.c): the address in each reply is the first listen address's `=advertised` part,
// else the listen address itself; `-A` counts only in bridge mode (`-l a/b -A x/y`) and is otherwise
// ignored without a word; an unknown option or a missing argument refuses to start, as getopt does.
import { createSocket, type Socket } from 'node:dgram';

/** RTPProxy 3.2.0's getopt string (src/main.c). */
const OPTSTRING = 'vf2Rl:6:s:S:t:r:p:T:L:m:M:u:Fin:Pad:Vc:A:w:bW:DC';

interface RtpproxyListen {
  label?: string;
  address: string;
  advertised?: string;
  v6: boolean;
}

export interface RtpproxyArgs {
  control: { host: string; port: number } | { path: string };
  listen: RtpproxyListen[];
  /** -A advertised pair (bridge mode only). */
  legacyAdvertised?: [string, string | undefined];
  bridge: boolean;
  logLevel?: string;
  pidFile?: string;
  nofile?: number;
  ports: { min: number; max: number };
}

export class RtpproxyArgvError extends Error {}

/** Pure: argv (after the binary) → what RTPProxy 3.2.0 would configure, or RtpproxyArgvError where it refuses. */
export function parseRtpproxyArgv(argv: readonly string[]): RtpproxyArgs {
  const out: RtpproxyArgs = {
    control: { path: '/var/run/rtpproxy.sock' },
    listen: [],
    bridge: false,
    ports: { min: 35000, max: 65000 },
  };
  const withArg = (c: string) => OPTSTRING[OPTSTRING.indexOf(c) + 1] === ':';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === undefined || a === '--') break;
    if (a.startsWith('--')) continue; // long options (--force_asymmetric, …) take no part in addressing
    if (!a.startsWith('-') || a === '-') throw new RtpproxyArgvError(`unexpected argument ${JSON.stringify(a)}`);
    for (let j = 1; j < a.length; j++) {
      const c = a.charAt(j);
      if (c === ':' || !OPTSTRING.includes(c)) throw new RtpproxyArgvError(`invalid option -- '${c}'`);
      let val: string | undefined;
      if (withArg(c)) {
        val = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (val === undefined) throw new RtpproxyArgvError(`option requires an argument -- '${c}'`);
        j = a.length;
      }
      apply(out, c, val);
    }
  }
  const first = out.listen.find((l) => !l.v6);
  if (first?.address.includes('/')) {
    out.bridge = true;
    if (first.advertised !== undefined) throw new RtpproxyArgvError('bridging address(es) cannot have an advertized address, use matching -A argument');
    if (out.legacyAdvertised && out.legacyAdvertised[1] === undefined)
      throw new RtpproxyArgvError('two advertised addresses are required for internal and external interfaces in bridging mode');
  } else if (out.listen.length > 1 && out.listen.slice(1).some((l) => l.label === undefined)) {
    throw new RtpproxyArgvError('address label is missing');
  }
  return out;
}

/** The argument of an option that takes one (parseRtpproxyArgv has read it, or refused the argv). */
function argOf(c: string, val: string | undefined): string {
  if (val === undefined) throw new RtpproxyArgvError(`option requires an argument -- '${c}'`);
  return val;
}

function apply(out: RtpproxyArgs, c: string, val: string | undefined): void {
  switch (c) {
    case 'l':
    case '6': {
      let rest = argOf(c, val);
      const l: RtpproxyListen = { address: '', v6: c === '6' };
      const at = rest.indexOf('@');
      if (at >= 0) {
        l.label = rest.slice(0, at);
        rest = rest.slice(at + 1);
      }
      const eq = rest.indexOf('=');
      if (eq >= 0) {
        l.advertised = rest.slice(eq + 1);
        rest = rest.slice(0, eq);
      }
      l.address = rest;
      out.listen.push(l);
      return;
    }
    case 'A': {
      if (!val) throw new RtpproxyArgvError('first advertised address is invalid');
      const [x, y] = val.split('/', 2) as [string, string | undefined];
      if (y === '') throw new RtpproxyArgvError('second advertised address is invalid');
      out.legacyAdvertised = [x, y];
      return;
    }
    case 's': {
      const v = argOf(c, val);
      const [, , host, port] = /^(udp6?|tcp6?):(.*?)(?::(\d+))?$/.exec(v) ?? [];
      if (host !== undefined) out.control = { host: host.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(port ?? 22222) };
      else if (/^c?unix:/.test(v)) out.control = { path: v.replace(/^c?unix:/, '') };
      else throw new RtpproxyArgvError("can't parse control socket argument");
      return;
    }
    case 'd': {
      const level = argOf(c, val).replace(/:.*$/s, ''); // the part before the first ':'
      if (!['DBUG', 'INFO', 'WARN', 'ERR', 'CRIT'].includes(level)) throw new RtpproxyArgvError(`${level}: invalid log level`);
      out.logLevel = level;
      return;
    }
    case 'p':
      out.pidFile = argOf(c, val);
      return;
    case 'L':
      if (!/^\d+$/.test(argOf(c, val))) throw new RtpproxyArgvError(`${val}: max file rlimit argument is invalid`);
      out.nofile = Number(val);
      return;
    case 'm':
    case 'M': {
      const n = Number(val);
      if (!/^\d+$/.test(argOf(c, val)) || n < 1 || n > 65535) throw new RtpproxyArgvError(`${val}: ${c === 'm' ? 'min' : 'max'} port argument is invalid`);
      if (c === 'm') out.ports.min = n;
      else out.ports.max = n;
      return;
    }
    default:
      return;
  }
}

/**
 * Pure: the address RTPProxy 3.2.0 puts in a U/L reply (rtpc_reply_append_port_addr): the bind address's
 * advertised address, else the bind address; none when it is bound to any address ('*', 0.0.0.0).
 * In bridge mode the command's i/e flags choose the interface and -A gives its advertised address.
 */
export function replyAddress(args: RtpproxyArgs, flags = ''): string | undefined {
  const first = args.listen.find((l) => !l.v6) ?? args.listen[0];
  const isNull = (a: string | undefined) => a === undefined || a === '*' || a === '0.0.0.0' || a === '::';
  if (args.bridge && first) {
    const [internal, external] = first.address.split('/') as [string, string];
    const ie = /[ie]/i.exec(flags)?.[0]?.toLowerCase();
    const idx = ie === 'e' ? 1 : 0;
    const adv = args.legacyAdvertised?.[idx];
    const bind = idx === 0 ? internal : external;
    return adv ?? (isNull(bind) ? undefined : bind);
  }
  if (!first) return undefined;
  return first.advertised ?? (isNull(first.address) ? undefined : first.address);
}

const CAPABILITIES = ['20040107', '20050322', '20060704', '20071218', '20080403', '20081102', '20081224', '20090810'];

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
  /**
   * Fault: answer every offer (U) with this error code, e.g. 71 (RTPProxy's ECODE_LSTFAIL_1: no port for a
   * listener) or 50 (session unknown), as an overloaded or exhausted RTPProxy does. The real one cannot be made
   * to do this on demand, which is why this stand-in still exists.
   */
  failOffers?: number;
  /** Started from an RTPProxy command line: replies carry the address 3.2.0 would (see parseRtpproxyArgv). */
  args?: RtpproxyArgs;
}

/** Pure: one request text → the reply text (without cookie) and what was understood. */
export function answer(
  body: string,
  allocate: (callId: string, tag: string) => number,
  mediaIp: string | ((flags: string) => string | undefined),
): Omit<RtpproxyCommand, 'at' | 'raw'> {
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
    const ip = typeof mediaIp === 'string' ? mediaIp : mediaIp(flags);
    return {
      command: letter,
      flags,
      callId,
      addr,
      port: Number(port),
      fromTag: tag(fromTag),
      ...(toTag ? { toTag: tag(toTag) } : {}),
      reply: ip === undefined ? `${p}` : `${p} ${ip}`,
    };
  }
  if (letter === 'D') {
    const [, callId, fromTag, toTag] = parts;
    return {
      command: 'D',
      flags,
      ...(callId ? { callId } : {}),
      ...(fromTag ? { fromTag: tag(fromTag) } : {}),
      ...(toTag ? { toTag: tag(toTag) } : {}),
      reply: '0',
    };
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
    this.mediaIp = opts.args ? (replyAddress(opts.args) ?? '') : (opts.mediaIp ?? opts.host);
    this.next = opts.firstMediaPort ?? opts.args?.ports.min ?? 35000;
  }

  /** A responder configured by an RTPProxy 3.2.0 command line (after the binary); its -s must be udp:HOST:PORT. */
  static fromArgv(argv: readonly string[], o: { firstMediaPort?: number } = {}): RtpproxyResponder {
    const args = parseRtpproxyArgv(argv);
    if (!('host' in args.control)) throw new RtpproxyArgvError('the responder speaks UDP only: give -s udp:HOST:PORT');
    return new RtpproxyResponder({
      host: args.control.host,
      port: args.control.port,
      args,
      ...(o.firstMediaPort !== undefined ? { firstMediaPort: o.firstMediaPort } : {}),
    });
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
      const args = this.opts.args;
      const understood = answer(raw.slice(sp + 1), (callId, tag) => this.allocate(callId, tag), args ? (flags) => replyAddress(args, flags) : this.mediaIp);
      const fail = this.opts.failOffers;
      const a = fail !== undefined && understood.command === 'U' ? { ...understood, reply: `E${fail}` } : understood;
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
