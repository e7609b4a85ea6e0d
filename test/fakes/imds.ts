import http from 'node:http';
import type { AddressInfo } from 'node:net';

// IMDSv2 on 127.0.0.1 (random port), as EC2 behaves:
// - PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds (1-21600), else 400; returns a token.
// - GET /latest/meta-data/<path> needs a valid X-aws-ec2-metadata-token, else 401. The 401 body is a
//   poisoned address (POISON_ADDRESS) so a client that parses it gets caught.
// - Unknown paths are 404. `setDown(true)` closes every connection without an answer.
// - `rejectNextTokenUse` makes the next GET with a valid token answer 401 (token expired), so the
//   client must PUT again. `delayMs` slows every answer.
// - Instance-role credentials as EC2 serves them ("Retrieve security credentials from instance metadata",
//   docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-security-credentials.html):
//   GET meta-data/iam/security-credentials/ lists the role name; .../ROLE answers the JSON document
//   {Code, LastUpdated, Type: AWS-HMAC, AccessKeyId, SecretAccessKey, Token, Expiration}.
// - mac and network/interfaces/macs/MAC/vpc-ipv4-cidr-block as EC2 serves them (instancedata-data-categories).
// - `fault(pathPrefix, {status?, delayMs?})` queues one-shot faults: the next request whose path starts
//   with the prefix is delayed and/or answered with that status (e.g. a 1.5 s first answer, a 500).

export const POISON_ADDRESS = '10.66.66.66';

interface ImdsRequest {
  method: string;
  path: string;
  token: boolean;
  status: number;
}

interface ImdsFault {
  status?: number;
  delayMs?: number;
}

interface InstanceRoleCredentials {
  role: string;
  accessKeyId: string;
  secretAccessKey: string;
  token: string;
}

export interface ImdsFake {
  endpoint: string;
  /** Queues a one-shot fault for the next request whose path (e.g. /latest/api/token) starts with prefix. */
  fault(prefix: string, f: ImdsFault): void;
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
  /** The VPC CIDR; default 127.0.0.0/8 for loopback addresses, else 10.0.0.0/16. */
  vpcCidr?: string;
  /** Serves instance-role credentials under iam/security-credentials/. */
  role?: InstanceRoleCredentials;
}

const FAKE_MAC = '0e:49:61:0f:c3:11';

export async function startImdsFake(o: ImdsFakeOptions = {}): Promise<ImdsFake> {
  const metadata = new Map<string, string>([
    ['local-ipv4', o.localIpv4 ?? '10.0.1.23'],
    ['placement/region', o.region ?? 'us-east-1'],
    ['instance-id', o.instanceId ?? 'i-0123456789abcdef0'],
  ]);
  if (o.publicIpv4 !== undefined) metadata.set('public-ipv4', o.publicIpv4);
  const local = metadata.get('local-ipv4')!;
  metadata.set('mac', FAKE_MAC);
  metadata.set(`network/interfaces/macs/${FAKE_MAC}/vpc-ipv4-cidr-block`, o.vpcCidr ?? (local.startsWith('127.') ? '127.0.0.0/8' : '10.0.0.0/16'));
  if (o.role) {
    metadata.set('iam/security-credentials/', o.role.role);
    const expiration = new Date(Date.now() + 6 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    metadata.set(
      `iam/security-credentials/${o.role.role}`,
      JSON.stringify({
        Code: 'Success',
        LastUpdated: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        Type: 'AWS-HMAC',
        AccessKeyId: o.role.accessKeyId,
        SecretAccessKey: o.role.secretAccessKey,
        Token: o.role.token,
        Expiration: expiration,
      }),
    );
  }
  const faults: { prefix: string; f: ImdsFault }[] = [];
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
    fault(prefix, f) {
      faults.push({ prefix, f });
    },
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
    const url = req.url ?? '';
    const i = faults.findIndex((x) => url.startsWith(x.prefix));
    const fault = i >= 0 ? faults.splice(i, 1)[0]!.f : undefined;
    const answer = (status0: number, body0: string) => {
      const status = fault?.status ?? status0;
      const body = fault?.status !== undefined ? 'Internal Server Error' : body0;
      const token = typeof req.headers['x-aws-ec2-metadata-token'] === 'string';
      requests.push({ method: req.method ?? '', path: url, token, status });
      setTimeout(
        () => {
          if (res.destroyed) return; // the client gave up (its timeout) before this slow answer
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end(body);
        },
        fake.delayMs + (fault?.delayMs ?? 0),
      );
    };
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
