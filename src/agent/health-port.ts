import net from 'node:net';
import { sipProbe } from './sip-probe.js';

// The NLB health-check port. Open: accept, answer an HTTP request with 200 (so TCP and HTTP checks
// both pass), close. close: stop listening (connections are refused). refuse: keep listening but
// reset every connection at once (an HTTP check fails; a TCP check may still pass).
// With a probe (sip-probe.ts: an OPTIONS Kamailio answers as it would a new call), an open port listens only while
// the last probe passed: a Kamailio that is dead, wedged or refusing new calls fails the NLB's check, TCP or HTTP.

type HealthMode = 'open' | 'closed' | 'refusing';

export interface HealthPort {
  readonly mode: HealthMode;
  open(): Promise<void>;
  /** Drain: 'close' stops listening, 'refuse' resets connections. */
  fail(behaviour: 'close' | 'refuse'): Promise<void>;
  stop(): Promise<void>;
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';

export interface HealthProbe {
  check(): Promise<boolean>;
  intervalMs: number;
  /** Told when the probe's verdict changes (a log line). */
  onChange?: (ok: boolean) => void;
}

/** Answers each connection's first bytes with 200 ok; resets it while the port is refusing. */
function connectionHandler(refusing: () => boolean, sockets: Set<net.Socket>): (s: net.Socket) => void {
  return (s) => {
    if (refusing()) {
      s.resetAndDestroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.setTimeout(5000, () => s.destroy());
    s.once('data', () => s.end(OK));
  };
}

function listenOn(port: number, host: string, onConnection: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer(onConnection);
    srv.once('error', reject);
    srv.listen({ port, host, exclusive: true }, () => {
      srv.off('error', reject);
      resolve(srv);
    });
  });
}

export function healthPort(port: number, host = '0.0.0.0', probe?: HealthProbe): HealthPort {
  let server: net.Server | undefined;
  let mode: HealthMode = 'closed';
  const sockets = new Set<net.Socket>();
  let probeOk = probe === undefined;
  let timer: NodeJS.Timeout | undefined;
  // One change of listening at a time: the probe's and the drain's.
  let chain = Promise.resolve();
  const serialize = (f: () => Promise<void>) => (chain = chain.then(f, f));

  const onConnection = connectionHandler(() => mode === 'refusing', sockets);
  const listen = async () => {
    server = await listenOn(port, host, onConnection);
  };

  const unlisten = async () => {
    const srv = server;
    server = undefined;
    if (!srv) return;
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  };

  /** Open mode listens while the probe passes. */
  const follow = async () => {
    if (mode !== 'open') return;
    if (probeOk && !server) await listen();
    if (!probeOk && server) await unlisten();
  };
  const runProbe = async () => {
    if (!probe) return;
    const ok = await probe.check().catch(() => false);
    if (ok !== probeOk) probe.onChange?.(ok);
    probeOk = ok;
    await serialize(follow);
  };
  const stopProbing = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };

  return {
    get mode() {
      return mode === 'open' && !server ? 'closed' : mode;
    },
    async open() {
      mode = 'open';
      if (probe) {
        await runProbe();
        timer ??= setInterval(() => void runProbe(), probe.intervalMs);
      } else await serialize(follow);
    },
    async fail(behaviour) {
      stopProbing();
      await serialize(async () => {
        if (behaviour === 'refuse') {
          if (!server) await listen();
          mode = 'refusing';
          for (const s of sockets) s.resetAndDestroy();
        } else {
          mode = 'closed';
          await unlisten();
        }
      });
    },
    async stop() {
      stopProbing();
      await serialize(async () => {
        mode = 'closed';
        await unlisten();
      });
    },
  };
}

/** The SIP-level probe for an instance whose Kamailio listens on UDP at privateIp:sipPort, once per poll (or none:
 *  then the port follows the drain alone). */
export function sipHealthProbe(
  sipPort: number | undefined,
  privateIp: string | undefined,
  pollSeconds: number,
  log: (l: string) => void,
): HealthProbe | undefined {
  if (sipPort === undefined || privateIp === undefined) return undefined;
  return {
    check: () => sipProbe({ host: privateIp, port: sipPort, timeoutMs: 1000 }),
    intervalMs: Math.max(200, pollSeconds * 1000),
    onChange: (ok) =>
      log(
        ok
          ? `Kamailio answers the health probe (OPTIONS to ${privateIp}:${sipPort}): health-check port open`
          : `Kamailio does not answer the health probe with 200 (OPTIONS to ${privateIp}:${sipPort}): health-check port closed`,
      ),
  };
}
