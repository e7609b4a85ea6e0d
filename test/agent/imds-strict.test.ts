// The IMDS client against a loopback IMDSv2 server: a slow IMDS is waited for (each retry doubles the request
// timeout), and an address item that is not an IPv4 is refused with a clear error.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Imds, META } from '../../src/agent/imds.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** IMDSv2 on 127.0.0.1: answers each meta-data GET after `delayMs` with `items[path]`. */
async function imds(items: Record<string, string>, delayMs = 0): Promise<string> {
  server = createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') return void res.end('token');
    const item = items[(req.url ?? '').replace('/latest/meta-data/', '')];
    setTimeout(() => {
      if (res.destroyed) return;
      res.statusCode = item === undefined ? 404 : 200;
      res.end(item ?? '');
    }, delayMs);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('IMDS client', () => {
  it('an IMDS slower than the first request timeout still answers: the timeout doubles at each retry', async () => {
    const endpoint = await imds({ 'local-ipv4': '10.0.1.23' }, 300);
    const c = new Imds({ endpoint, requestTimeoutMs: 100, budgetMs: 5000 });
    expect(await c.getIpv4(META.localIpv4)).toBe('10.0.1.23');
  });

  it.each(['10.0.1.999', '10.0.1.23 10.0.1.24', '10.0.1.23/24', '<html>proxy</html>'])('a malformed local-ipv4 (%j) is refused, naming it', async (bad) => {
    const endpoint = await imds({ 'local-ipv4': bad });
    const c = new Imds({ endpoint, requestTimeoutMs: 500, budgetMs: 2000 });
    await expect(c.getIpv4(META.localIpv4)).rejects.toThrow(/meta-data\/local-ipv4 is ".*", not an IPv4 address/);
  });

  it('a missing public-ipv4 is undefined, not an error', async () => {
    const endpoint = await imds({});
    expect(await new Imds({ endpoint, budgetMs: 2000 }).findIpv4(META.publicIpv4)).toBeUndefined();
  });
});
