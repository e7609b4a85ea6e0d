// Free ports on a given loopback address, picked at run time. A port is handed out only when it can
// be bound on that address for both UDP and TCP (SIP listens on both), and never twice by this process.
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

const handedOut = new Set<string>();

function bindUdp(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, host, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function bindTcp(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen({ port, host, exclusive: true }, () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : undefined;
      s.close(() => resolve(p));
    });
  });
}

/** A port free for UDP and TCP on `host` (e.g. 127.0.0.2). Ports come from the kernel's ephemeral range. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = await bindUdp(host, 0);
    if (p === undefined) throw new Error(`cannot bind UDP on ${host}: is it a loopback address this machine has?`);
    const key = `${host}:${p}`;
    if (handedOut.has(key)) continue;
    if ((await bindTcp(host, p)) === undefined) continue;
    handedOut.add(key);
    return p;
  }
  throw new Error(`no free UDP+TCP port found on ${host} after 50 attempts`);
}

/** n distinct free ports on host. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await freePort(host));
  return out;
}

/** True when something accepts a TCP connection at host:port within ms (what an NLB's TCP health check sees). */
export function tcpOpen(host: string, port: number, ms = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(ms, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
