// Listening for the wire servers: 127.0.0.1 on a free port, or a unix socket (the rehearsal forwards
// 127.0.0.1:PORT inside each instance's namespace to a socket on the host).
import { rm } from 'node:fs/promises';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `socketPath`, or on 127.0.0.1 (a free port) without one; answers the endpoint URL or socket path. */
export async function listen(server: http.Server, socketPath?: string): Promise<string> {
  if (socketPath) await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (socketPath) server.listen(socketPath, done);
    else server.listen(0, '127.0.0.1', done);
  });
  return socketPath ?? `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function closeServer(s: http.Server): Promise<void> {
  return new Promise((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });
}
