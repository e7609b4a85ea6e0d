// IMDSv2 per instance, as EC2 serves it ("Use the Instance Metadata Service to access instance metadata",
// docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html):
// - PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1-21600), else 400; the token lives that long;
// - GET /latest/meta-data/PATH with a live X-aws-ec2-metadata-token, else 401; an unknown path 404.
// The items, by "Instance metadata categories" (instancedata-data-categories.html): instance-id, local-ipv4,
// public-ipv4 (404 without a public address), mac, network/interfaces/macs/MAC/vpc-ipv4-cidr-block,
// placement/region, autoscaling/target-lifecycle-state ("Retrieve the target lifecycle state through instance
// metadata", Auto Scaling user guide), spot/instance-action ("Spot Instance interruption notices": JSON
// {"action","time"}, 404 until a notice is issued).
// Faults a test can put on it (ImdsControls; none by default): one-shot answers by path prefix (a status and/or a
// delay), a slow IMDS, an unreachable one (connections closed unanswered), and an expired token: EC2 answers 401
// when the token has expired and the client must PUT a new one (configuring-instance-metadata-service.html,
// "Session tokens").
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Region } from '../region.js';
import { closeServer, listen } from './listen.js';

/** One request as it crossed the wire: `token`, whether it carried X-aws-ec2-metadata-token. */
export interface ImdsRequest {
  method: string;
  path: string;
  token: boolean;
  status: number;
}

/** A one-shot fault: the answer waits `delayMs` more and/or is `status` (with its reason phrase as body). */
export interface ImdsFault {
  status?: number;
  delayMs?: number;
}

/** A test's hold on one IMDS; a new one changes nothing, and records every request. */
export class ImdsControls {
  readonly requests: ImdsRequest[] = [];
  /** Every answer waits this long. */
  delayMs = 0;
  /** Unreachable: each request's connection is closed without an answer (not recorded). */
  down = false;
  /** The 401 body; a test may set a canary to prove that a client never reads a 401's body. */
  unauthorizedBody = 'Unauthorized';
  private readonly faults: { prefix: string; f: ImdsFault }[] = [];
  private rejectNext = false;

  /** Queues a one-shot fault for the next request whose path (e.g. /latest/api/token) starts with `prefix`. */
  fault(prefix: string, f: ImdsFault): void {
    this.faults.push({ prefix, f });
  }

  /** The next GET with a live token answers 401 as if the token had expired (it is dropped). */
  rejectNextTokenUse(): void {
    this.rejectNext = true;
  }

  /** @internal The fault queued for `path`, removed from the queue. */
  takeFault(path: string): ImdsFault | undefined {
    const i = this.faults.findIndex((x) => path.startsWith(x.prefix));
    return i >= 0 ? this.faults.splice(i, 1)[0]?.f : undefined;
  }

  /** @internal Whether this use of a live token is the one to reject. */
  takeRejection(): boolean {
    const r = this.rejectNext;
    this.rejectNext = false;
    return r;
  }
}

export interface InstanceRoleCredentials {
  role: string;
  accessKeyId: string;
  secretAccessKey: string;
  token: string;
}

/** meta-data paths (without latest/meta-data/) and their values; a missing path answers 404. */
export type ImdsItems = Readonly<Record<string, string | undefined>>;

export interface InstanceMetadata {
  instanceId: string;
  privateIp: string;
  /** Only an instance with a public IPv4 address has public-ipv4. */
  publicIp?: string;
  mac: string;
  /** The VPC's IPv4 CIDR. */
  vpcCidr: string;
  region: string;
  targetLifecycleState?: string;
  /** A Spot interruption notice: {"action":"terminate","time":"2026-01-01T00:02:00Z"}. */
  spotInstanceAction?: { action: 'hibernate' | 'stop' | 'terminate'; time: string };
}

/** Pure: the metadata tree of one instance, by the paths of EC2's instance metadata categories. */
export function instanceMetadata(m: InstanceMetadata): ImdsItems {
  return {
    'instance-id': m.instanceId,
    'local-ipv4': m.privateIp,
    ...(m.publicIp !== undefined ? { 'public-ipv4': m.publicIp } : {}),
    mac: m.mac,
    [`network/interfaces/macs/${m.mac}/vpc-ipv4-cidr-block`]: m.vpcCidr,
    'placement/region': m.region,
    ...(m.targetLifecycleState !== undefined ? { 'autoscaling/target-lifecycle-state': m.targetLifecycleState } : {}),
    ...(m.spotInstanceAction ? { 'spot/instance-action': JSON.stringify(m.spotInstanceAction) } : {}),
  };
}

/** Instance-role credentials as EC2 serves them ("Retrieve security credentials from instance metadata",
 * docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-security-credentials.html): iam/security-credentials/
 * lists the role name; .../ROLE answers {Code, LastUpdated, Type: AWS-HMAC, AccessKeyId, SecretAccessKey, Token,
 * Expiration} (six hours from now here). */
export function instanceRoleItems(c: InstanceRoleCredentials, nowMs = Date.now()): ImdsItems {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const doc = {
    Code: 'Success',
    LastUpdated: iso(nowMs),
    Type: 'AWS-HMAC',
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    Token: c.token,
    Expiration: iso(nowMs + 6 * 3600_000),
  };
  return { 'iam/security-credentials/': c.role, [`iam/security-credentials/${c.role}`]: JSON.stringify(doc) };
}

/** A MAC for an instance id, stable and locally administered (02:…). */
export function macOf(instanceId: string): string {
  const hex = instanceId.replace(/^i-/, '').padStart(10, '0').slice(-10);
  return ['02', ...(hex.match(/../g) ?? [])].join(':');
}

/**
 * The Region's instance as its IMDS shows it, read at each request: its address, lifecycle state (Auto Scaling's
 * target lifecycle state: InService, then Terminated from the moment it is selected to leave), Spot notice.
 */
function regionInstanceItems(region: () => Region, instanceId: string, vpcCidr = '10.0.0.0/16', extra: ImdsItems = {}): () => ImdsItems {
  return () => {
    const i = region().instances.get(instanceId);
    if (!i) return {};
    const target = i.targetLifecycleState ?? (i.LifecycleState === 'InService' ? 'InService' : undefined);
    return {
      ...extra,
      ...instanceMetadata({
        instanceId,
        privateIp: i.PrivateIpAddress ?? '',
        ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}),
        mac: macOf(instanceId),
        vpcCidr,
        region: region().opts.region,
        ...(target ? { targetLifecycleState: target } : {}),
        ...(i.spotInstanceAction ? { spotInstanceAction: i.spotInstanceAction } : {}),
      }),
    };
  };
}

type Answer = [status: number, body: string];
type Tokens = Map<string, number>;

/** PUT /latest/api/token: a token living the TTL asked for (1-21600 s), else 400. */
function tokenAnswer(req: http.IncomingMessage, tokens: Tokens): Answer {
  const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
  if (!(Number.isInteger(ttl) && ttl >= 1 && ttl <= 21600)) return [400, 'Bad Request'];
  const t = randomBytes(24).toString('base64url');
  tokens.set(t, Date.now() + ttl * 1000);
  return [200, t];
}

/** GET /latest/meta-data/ITEM with a live token: the item, 404 if none; 401 without a live token. */
function metadataAnswer(req: http.IncomingMessage, tokens: Tokens, items: () => ImdsItems, c?: ImdsControls): Answer {
  const unauthorized: Answer = [401, c?.unauthorizedBody ?? 'Unauthorized'];
  const token = req.headers['x-aws-ec2-metadata-token'];
  if (typeof token !== 'string' || !((tokens.get(token) ?? 0) > Date.now())) return unauthorized;
  if (c?.takeRejection()) {
    tokens.delete(token); // expired
    return unauthorized;
  }
  const [, item] = /^\/latest\/meta-data\/(.+)$/.exec(req.url ?? '') ?? [];
  const all = items();
  const v = item !== undefined && Object.hasOwn(all, item) ? all[item] : undefined;
  return v === undefined ? [404, 'Not Found'] : [200, v];
}

function answerOf(req: http.IncomingMessage, tokens: Tokens, items: () => ImdsItems, c?: ImdsControls): Answer {
  if (req.method === 'PUT' && req.url === '/latest/api/token') return tokenAnswer(req, tokens);
  if (req.method !== 'GET') return [405, 'Method Not Allowed'];
  return metadataAnswer(req, tokens, items, c);
}

/** Writes the answer, after `delayMs` if any (unless the client gave up waiting). */
function reply(res: http.ServerResponse, [status, body]: Answer, delayMs: number): void {
  const write = () => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  };
  if (delayMs > 0) setTimeout(write, delayMs);
  else write();
}

function imdsHandler(items: () => ImdsItems, c?: ImdsControls): http.RequestListener {
  const tokens: Tokens = new Map();
  return (req, res) => {
    if (c?.down) return void req.socket.destroy();
    const path = req.url ?? '';
    const fault = c?.takeFault(path);
    const a: Answer = fault?.status !== undefined ? [fault.status, http.STATUS_CODES[fault.status] ?? ''] : answerOf(req, tokens, items, c);
    const token = typeof req.headers['x-aws-ec2-metadata-token'] === 'string';
    c?.requests.push({ method: req.method ?? '', path, token, status: a[0] });
    reply(res, a, (c?.delayMs ?? 0) + (fault?.delayMs ?? 0));
  };
}

export interface InstanceImds {
  /** `http://127.0.0.1:PORT`, or the socket path. */
  endpoint: string;
  close(): Promise<void>;
}

export interface ImdsServeOptions {
  /** Else 127.0.0.1 on a free port. */
  socketPath?: string;
  /** Faults and the request log (tests); none by default. */
  controls?: ImdsControls;
}

/** IMDSv2 serving `items` (read at each request) on 127.0.0.1 (a free port) or on `socketPath` (the rehearsal
 *  forwards 169.254.169.254 / 127.0.0.1:1338 in an instance's namespace to it). */
export async function serveImdsItems(items: () => ImdsItems, o: ImdsServeOptions = {}): Promise<InstanceImds> {
  const server = http.createServer(imdsHandler(items, o.controls));
  const endpoint = await listen(server, o.socketPath);
  return { endpoint, close: () => closeServer(server) };
}

/** IMDSv2 of one Region instance, on 127.0.0.1 (a free port) or on `socketPath`; `extra`: items the model does not hold (an instance role's credentials). */
export function serveInstanceImds(
  region: Region | (() => Region),
  instanceId: string,
  o: ImdsServeOptions & { vpcCidr?: string; extra?: ImdsItems } = {},
): Promise<InstanceImds> {
  const current = typeof region === 'function' ? region : () => region;
  return serveImdsItems(regionInstanceItems(current, instanceId, o.vpcCidr, o.extra), o);
}
