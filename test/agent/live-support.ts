import dgram from 'node:dgram';
import net from 'node:net';
import { execa, type ResultPromise } from 'execa';

// Helpers for the live drain suite (real Kamailio and SIPp on loopback). Kept here until shared helpers
// exist in test/support/. Every child is started in its own process group (execa `detached: true`) and
// registered; killAll() kills each group by its id, so Kamailio's forked workers go too.

const children = new Set<ResultPromise>();

export function track<T extends ResultPromise>(c: T): T {
  children.add(c);
  void c.finally(() => children.delete(c)).catch(() => undefined);
  return c;
}

function killGroup(c: ResultPromise, signal: NodeJS.Signals): void {
  if (c.pid === undefined) return;
  try {
    process.kill(-c.pid, signal);
  } catch {
    c.kill(signal);
  }
}

export async function killAll(): Promise<void> {
  const list = [...children];
  for (const c of list) killGroup(c, 'SIGTERM');
  const settled = Promise.all(list.map((c) => c.catch(() => undefined)));
  const timer = new Promise((r) => setTimeout(r, 3000));
  await Promise.race([settled, timer]);
  for (const c of list) if (c.exitCode === null && c.signalCode === null) killGroup(c, 'SIGKILL');
  await Promise.race([settled, new Promise((r) => setTimeout(r, 3000))]);
  children.clear();
}

export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** A port free for both UDP and TCP on host. */
export async function freeSipPort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const p = await freeTcpPort(host);
    const u = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      u.once('error', () => r(false));
      u.bind(p, host, () => r(true));
    });
    await new Promise<void>((r) => u.close(() => r()));
    if (ok) return p;
  }
}

export function connects(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms: number, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function kamcmd(ctl: string, ...args: string[]): Promise<string | undefined> {
  const r = await execa('kamcmd', ['-s', ctl, ...args], { reject: false, timeout: 3000 });
  return r.exitCode === 0 ? r.stdout : undefined;
}

export async function activeDialogs(ctl: string): Promise<number | undefined> {
  const out = await kamcmd(ctl, 'dlg.stats_active');
  const m = out && /all:\s*(\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
}

/** Sends one out-of-dialog INVITE over UDP and returns the first final (or 1xx-less) status line and headers. */
export async function sendInvite(to: { host: string; port: number }, from: { host: string }): Promise<{ status: number; text: string } | undefined> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, from.host, r));
  const lport = sock.address().port;
  const callId = `drain-probe-${Date.now()}@${from.host}`;
  const msg = [
    `INVITE sip:probe@${to.host}:${to.port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${from.host}:${lport};branch=z9hG4bK-${Date.now()};rport`,
    'Max-Forwards: 70',
    `From: <sip:prober@${from.host}:${lport}>;tag=p${Date.now()}`,
    `To: <sip:probe@${to.host}:${to.port}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:prober@${from.host}:${lport}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  try {
    return await new Promise((resolve) => {
      const t = setTimeout(() => resolve(undefined), 3000);
      sock.on('message', (buf) => {
        const text = buf.toString();
        const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]);
        if (status >= 200) {
          clearTimeout(t);
          resolve({ status, text });
        }
      });
      sock.send(msg, to.port, to.host);
    });
  } finally {
    sock.close();
  }
}
