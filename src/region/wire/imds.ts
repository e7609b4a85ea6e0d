// IMDSv2 per instance, as EC2 serves it ("Use the Instance Metadata Service to access instance metadata",
// docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html):
// - PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1-21600), else 400; the token lives that long;
// - GET /latest/meta-data/PATH with a live X-aws-ec2-metadata-token, else 401; an unknown path 404.
// The items, by "Instance metadata categories" (instancedata-data-categories.html): instance-id, local-ipv4,
// public-ipv4 (404 without a public address), mac, network/interfaces/macs/MAC/vpc-ipv4-cidr-block,
// placement/region, autoscaling/target-lifecycle-state ("Retrieve the target lifecycle state through instance
// metadata", Auto Scaling user guide), spot/instance-action ("Spot Instance interruption notices": JSON
// {"action","time"}, 404 until a notice is issued).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Region } from '../region.js';
import { closeServer, listen } from './listen.js';

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

function imdsHandler(items: () => ImdsItems): http.RequestListener {
  const tokens = new Map<string, number>();
  return (req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    };
    const url = req.url ?? '';
    if (req.method === 'PUT' && url === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!(Number.isInteger(ttl) && ttl >= 1 && ttl <= 21600)) return send(400, 'Bad Request');
      const t = randomBytes(24).toString('base64url');
      tokens.set(t, Date.now() + ttl * 1000);
      return send(200, t);
    }
    if (req.method !== 'GET') return send(405, 'Method Not Allowed');
    const token = req.headers['x-aws-ec2-metadata-token'];
    if (typeof token !== 'string' || !((tokens.get(token) ?? 0) > Date.now())) return send(401, 'Unauthorized');
    const [, item] = /^\/latest\/meta-data\/(.+)$/.exec(url) ?? [];
    const all = items();
    const v = item !== undefined && Object.hasOwn(all, item) ? all[item] : undefined;
    return v === undefined ? send(404, 'Not Found') : send(200, v);
  };
}

/** IMDSv2 on a unix socket (the rehearsal forwards 169.254.169.254 / 127.0.0.1:1338 in the namespace to it). */
export async function serveImds(socketPath: string, items: () => ImdsItems): Promise<http.Server> {
  const server = http.createServer(imdsHandler(items));
  await listen(server, socketPath);
  return server;
}

export interface InstanceImds {
  /** `http://127.0.0.1:PORT`, or the socket path. */
  endpoint: string;
  close(): Promise<void>;
}

/** IMDSv2 of one Region instance, on 127.0.0.1 (a free port) or on `socketPath`; `extra`: items the model does not hold (an instance role's credentials). */
export async function serveInstanceImds(
  region: Region | (() => Region),
  instanceId: string,
  o: { socketPath?: string; vpcCidr?: string; extra?: ImdsItems } = {},
): Promise<InstanceImds> {
  const current = typeof region === 'function' ? region : () => region;
  const server = http.createServer(imdsHandler(regionInstanceItems(current, instanceId, o.vpcCidr, o.extra)));
  const endpoint = await listen(server, o.socketPath);
  return { endpoint, close: () => closeServer(server) };
}
