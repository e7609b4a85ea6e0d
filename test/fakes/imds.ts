import http from 'node:http';
import type { AddressInfo } from 'node:net';

// IMDSv2 on 127.0.0.1 (random port), as EC2 behaves:
// - PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds (1-21600), else 400; returns a token.
// - GET /latest/meta-data/<path> needs a valid X-aws-ec2-metadata-token, else 401. The 401 body is a
//   poisoned address (POISON_ADDRESS) so a client that parses it gets caught.
// - Unknown paths are 404. `setDown(true)` closes every connection without an answer.
// - `rejectNextTokenUse` makes the next GET with a valid token answer 401 (token expired), so the
//   client must PUT again. `delayMs` slows every answer.

export const POISON_ADDRESS = '10.66.66.66';

export interface ImdsRequest {
  method: string;
  path: string;
  token: boolean;
  status: number;
}

export interface ImdsFake {
  endpoint: string;
  metadata: Map<string, string>;
  requests: ImdsRequest[];
  setLifecycleState(state: string | undefined): void;
  setDown(down: boolean): void;
  rejectNextTokenUse(): void;
  delayMs: number;
  close(): Promise<void>;
}

export interface ImdsFakeOptions {
  localIpv4?: string;
  publicIpv4?: string;
  region?: string;
  instanceId?: string;
  lifecycleState?: string;
}

export async function startImdsFake(o: ImdsFakeOptions = {}): Promise<ImdsFake> {
  const metadata = new Map<string, string>([
    ['local-ipv4', o.localIpv4 ?? '10.0.1.23'],
    ['placement/region', o.region ?? 'us-east-1'],
    ['instance-id', o.instanceId ?? 'i-0123456789abcdef0'],
  ]);
  if (o.publicIpv4 !== undefined) metadata.set('public-ipv4', o.publicIpv4);
  if (o.lifecycleState !== undefined) metadata.set('autoscaling/target-lifecycle-state', o.lifecycleState);
  const tokens = new Set<string>();
  const requests: ImdsRequest[] = [];
  let down = false;
  let rejectNext = false;
  let n = 0;
  const fake: ImdsFake = {
    endpoint: '',
    metadata,
    requests,
    delayMs: 0,
    setLifecycleState(s) {
      if (s === undefined) metadata.delete('autoscaling/target-lifecycle-state');
      else metadata.set('autoscaling/target-lifecycle-state', s);
    },
    setDown(d) {
      down = d;
    },
    rejectNextTokenUse() {
      rejectNext = true;
    },
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const answer = (status: number, body: string) => {
      const token = typeof req.headers['x-aws-ec2-metadata-token'] === 'string';
      requests.push({ method: req.method ?? '', path: req.url ?? '', token, status });
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(body);
      }, fake.delayMs);
    };
    const url = req.url ?? '';
    if (req.method === 'PUT' && url === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return answer(400, 'Bad Request');
      const t = `tok-${++n}-${Math.random().toString(36).slice(2)}`;
      tokens.add(t);
      return answer(200, t);
    }
    if (req.method === 'GET' && url.startsWith('/latest/meta-data/')) {
      const token = req.headers['x-aws-ec2-metadata-token'];
      if (typeof token !== 'string' || !tokens.has(token)) return answer(401, POISON_ADDRESS);
      if (rejectNext) {
        rejectNext = false;
        tokens.delete(token);
        return answer(401, POISON_ADDRESS);
      }
      const v = metadata.get(url.slice('/latest/meta-data/'.length));
      return v === undefined ? answer(404, 'Not Found') : answer(200, v);
    }
    return answer(405, 'Method Not Allowed');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}
