import { connect } from 'node:net';
import { rtpproxyUdpCommand } from '../contract/rtpproxy-control.js';

// sipbake-status's view of RTPProxy: its own counters through its control socket (the `I` command, RTPProxy 3.2.0
// src/commands/rtpp_command_stats.c / doc/manpage.xml "Control protocol"), never from logs. A udp: socket takes
// a cookie before the command and answers with it; a unix: socket is a stream without cookies.

export interface RtpproxyStatus {
  socket: string;
  up: boolean;
  /** `active sessions: N`: calls with media through this instance now. */
  activeSessions?: number;
  sessionsCreated?: number;
  activeStreams?: number;
  error?: string;
}

/** Sends one command and resolves with the reply (cookie stripped). */
export type RtpproxyAsk = (command: string) => Promise<string>;

/** Pure: udp:HOST:PORT, udp6:[HOST]:PORT or unix:PATH. */
export function parseRtpproxySocket(s: string): { kind: 'unix'; path: string } | { kind: 'udp'; host: string; port: number; v6: boolean } | undefined {
  if (s.startsWith('unix:')) return { kind: 'unix', path: s.slice(5) };
  const m = /^udp(6?):(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(s);
  if (!m) return undefined;
  return { kind: 'udp', host: m[2] ?? m[3] ?? '', port: Number(m[4]), v6: m[1] === '6' };
}

export function rtpproxyAsker(socket: string, timeoutMs = 2000): RtpproxyAsk {
  const where = parseRtpproxySocket(socket);
  return (command) => {
    if (!where) return Promise.reject(new Error(`cannot read the control socket ${JSON.stringify(socket)} (expected udp:HOST:PORT or unix:PATH)`));
    return where.kind === 'udp' ? askUdp(where, command, timeoutMs) : askUnix(where.path, command, timeoutMs);
  };
}

function askUdp(w: { host: string; port: number; v6: boolean }, command: string, timeoutMs: number): Promise<string> {
  return rtpproxyUdpCommand({ ...w, command, timeoutMs, what: `no answer on udp:${w.host}:${w.port}` });
}

function askUnix(path: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const c = connect(path);
    const t = setTimeout(() => {
      c.destroy();
      if (out) resolve(out.trim());
      else reject(new Error(`no answer on unix:${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    c.on('connect', () => c.end(`${command}\n`));
    c.on('data', (d) => (out += d.toString('utf8')));
    c.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    c.on('close', () => {
      clearTimeout(t);
      resolve(out.trim());
    });
  });
}

/** Pure: the `I` reply's counters ("sessions created: N", "active sessions: N", "active streams: N"). */
function parseRtpproxyInfo(reply: string): Pick<RtpproxyStatus, 'activeSessions' | 'sessionsCreated' | 'activeStreams'> {
  const num = (re: RegExp) => {
    const m = re.exec(reply);
    return m ? Number(m[1]) : undefined;
  };
  const v = {
    activeSessions: num(/active sessions:\s*(\d+)/),
    sessionsCreated: num(/sessions created:\s*(\d+)/),
    activeStreams: num(/active streams:\s*(\d+)/),
  };
  return JSON.parse(JSON.stringify(v)) as ReturnType<typeof parseRtpproxyInfo>;
}

export async function observeRtpproxy(socket: string, ask: RtpproxyAsk): Promise<RtpproxyStatus> {
  try {
    const info = parseRtpproxyInfo(await ask('I'));
    if (info.activeSessions === undefined) return { socket, up: false, error: 'answered I without "active sessions"' };
    return { socket, up: true, ...info };
  } catch (e) {
    return { socket, up: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Pure: one line of the screen. */
export function formatRtpproxy(r: RtpproxyStatus): string {
  if (!r.up) return `RTPProxy         DOWN (${r.error ?? 'no answer'} on ${r.socket}; journalctl -u rtpproxy)`;
  const streams = r.activeStreams !== undefined ? `, ${r.activeStreams} stream(s)` : '';
  const created = r.sessionsCreated !== undefined ? `, ${r.sessionsCreated} created since start` : '';
  return `RTPProxy         up: ${r.activeSessions} active session(s)${streams}${created} (${r.socket})`;
}
