import net from 'node:net';

// The NLB health-check port. Open: accept, answer an HTTP request with 200 (so TCP and HTTP checks
// both pass), close. close: stop listening (connections are refused). refuse: keep listening but
// reset every connection at once (an HTTP check fails; a TCP check may still pass).

type HealthMode = 'open' | 'closed' | 'refusing';

export interface HealthPort {
  readonly mode: HealthMode;
  open(): Promise<void>;
  /** Drain: 'close' stops listening, 'refuse' resets connections. */
  fail(behaviour: 'close' | 'refuse'): Promise<void>;
  stop(): Promise<void>;
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';

export function healthPort(port: number, host = '0.0.0.0'): HealthPort {
  let server: net.Server | undefined;
  let mode: HealthMode = 'closed';
  const sockets = new Set<net.Socket>();

  const onConnection = (s: net.Socket) => {
    if (mode === 'refusing') {
      s.resetAndDestroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.setTimeout(5000, () => s.destroy());
    s.once('data', () => s.end(OK));
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const srv = net.createServer(onConnection);
      srv.once('error', reject);
      srv.listen({ port, host, exclusive: true }, () => {
        srv.off('error', reject);
        server = srv;
        resolve();
      });
    });

  const unlisten = async () => {
    const srv = server;
    server = undefined;
    if (!srv) return;
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  };

  return {
    get mode() {
      return mode;
    },
    async open() {
      if (!server) await listen();
      mode = 'open';
    },
    async fail(behaviour) {
      if (behaviour === 'refuse') {
        if (!server) await listen();
        mode = 'refusing';
        for (const s of sockets) s.resetAndDestroy();
      } else {
        mode = 'closed';
        await unlisten();
      }
    },
    async stop() {
      mode = 'closed';
      await unlisten();
    },
  };
}
