import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';

// What the instances' agents talk to during a rehearsal, served by the controller on unix sockets (a forwarder in
// each instance namespace bridges 127.0.0.1 to them; README.md here):
// - IMDSv2 per instance (token PUT, then GETs with the token), as EC2 documents it:
//   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
//   The items the boot agent and the drain agent read, by the categories of "Instance metadata categories"
//   (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-categories.html): local-ipv4, public-ipv4
//   (404 for an instance without a public IPv4 address, as in a private subnet), mac (the primary interface),
//   network/interfaces/macs/MAC/vpc-ipv4-cidr-block, placement/region, instance-id;
//   autoscaling/target-lifecycle-state: https://docs.aws.amazon.com/autoscaling/ec2/userguide/retrieving-target-lifecycle-state-through-imds.html
// - The Auto Scaling API calls a drain agent makes, in their wire protocol (awsQuery: form POST, XML answers):
//   DescribeAutoScalingInstances, DescribeLifecycleHooks, RecordLifecycleActionHeartbeat, CompleteLifecycleAction.
//   Heartbeat and completion are valid only while a lifecycle action exists (Terminating:Wait); otherwise AWS
//   answers 400 ValidationError "No active Lifecycle Action found with instance ID …", and so does this.

/** meta-data paths (without latest/meta-data/) and their values; a missing path answers 404. */
export type ImdsItems = Readonly<Record<string, string | undefined>>;

export interface InstanceMetadata {
  instanceId: string;
  privateIp: string;
  /** Only an instance with a public IPv4 address has public-ipv4. */
  publicIp?: string;
  mac: string;
  /** The VPC's IPv4 CIDR (here: the private subnet, the only network the instances share). */
  vpcCidr: string;
  region: string;
  targetLifecycleState?: string;
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
  };
}

export async function serveImds(socketPath: string, items: () => ImdsItems): Promise<http.Server> {
  const tokens = new Set<string>();
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    };
    const url = req.url ?? '';
    if (req.method === 'PUT' && url === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!(ttl >= 1 && ttl <= 21600)) return send(400, 'Bad Request');
      const t = randomBytes(24).toString('base64url');
      tokens.add(t);
      return send(200, t);
    }
    if (req.method !== 'GET') return send(405, 'Method Not Allowed');
    const token = req.headers['x-aws-ec2-metadata-token'];
    if (typeof token !== 'string' || !tokens.has(token)) return send(401, 'Unauthorized');
    const [, item] = /^\/latest\/meta-data\/(.+)$/.exec(url) ?? [];
    const all = items();
    const v = item !== undefined && Object.hasOwn(all, item) ? all[item] : undefined;
    return v === undefined ? send(404, 'Not Found') : send(200, v);
  });
  await listenUnix(server, socketPath);
  return server;
}

export interface AutoScalingBackend {
  groupName: string;
  hookName: string;
  hookTimeoutSeconds: number;
  /** The instance's lifecycle state, undefined when it is not in the group. */
  stateOf(id: string): string | undefined;
  /** True when a lifecycle action exists (Terminating:Wait); then the call is recorded for the controller. */
  heartbeat(id: string): boolean;
  complete(id: string, result: string): boolean;
}

export interface AsgCall {
  action: string;
  instanceId: string;
  atMs: number;
  ok: boolean;
  error?: string;
}

const NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const ok = (action: string, inner: string) =>
  `<${action}Response xmlns="${NS}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>rehearse</RequestId></ResponseMetadata></${action}Response>`;
const fault = (code: string, message: string) =>
  `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>rehearse</RequestId></ErrorResponse>`;

export async function serveAutoScaling(socketPath: string, b: AutoScalingBackend, calls: AsgCall[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const p = Object.fromEntries(new URLSearchParams(raw));
      const action = p.Action ?? '';
      const id = p.InstanceId ?? p['InstanceIds.member.1'] ?? '';
      const send = (status: number, xml: string, error?: string) => {
        calls.push({ action, instanceId: id, atMs: Date.now(), ok: status === 200, ...(error ? { error } : {}) });
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(xml);
      };
      const noAction = () => send(400, fault('ValidationError', `No active Lifecycle Action found with instance ID ${id}`), 'no-action');
      const wrongIds = p.AutoScalingGroupName !== undefined && p.AutoScalingGroupName !== b.groupName;
      switch (action) {
        case 'DescribeAutoScalingInstances': {
          const st = b.stateOf(id);
          const member =
            st === undefined
              ? ''
              : `<member><InstanceId>${esc(id)}</InstanceId><AutoScalingGroupName>${esc(b.groupName)}</AutoScalingGroupName><LifecycleState>${esc(st)}</LifecycleState><HealthStatus>HEALTHY</HealthStatus><AvailabilityZone>us-east-1a</AvailabilityZone><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>`;
          return send(200, ok(action, `<AutoScalingInstances>${member}</AutoScalingInstances>`));
        }
        case 'DescribeLifecycleHooks':
          if (wrongIds) return send(400, fault('ValidationError', `Group ${p.AutoScalingGroupName} not found`), 'no-group');
          return send(
            200,
            ok(
              action,
              `<LifecycleHooks><member><LifecycleHookName>${esc(b.hookName)}</LifecycleHookName><AutoScalingGroupName>${esc(b.groupName)}</AutoScalingGroupName><LifecycleTransition>autoscaling:EC2_INSTANCE_TERMINATING</LifecycleTransition><HeartbeatTimeout>${b.hookTimeoutSeconds}</HeartbeatTimeout><GlobalTimeout>${Math.min(100 * b.hookTimeoutSeconds, 172800)}</GlobalTimeout><DefaultResult>CONTINUE</DefaultResult></member></LifecycleHooks>`,
            ),
          );
        case 'RecordLifecycleActionHeartbeat':
          if (wrongIds || p.LifecycleHookName !== b.hookName) return noAction();
          return b.heartbeat(id) ? send(200, ok(action, '')) : noAction();
        case 'CompleteLifecycleAction':
          if (wrongIds || p.LifecycleHookName !== b.hookName) return noAction();
          return b.complete(id, p.LifecycleActionResult ?? '') ? send(200, ok(action, '')) : noAction();
        default:
          return send(400, fault('InvalidAction', `the rehearsal does not serve ${action}`), 'invalid');
      }
    });
  });
  await listenUnix(server, socketPath);
  return server;
}

async function listenUnix(server: http.Server, socketPath: string): Promise<void> {
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function closeServer(s: http.Server): Promise<void> {
  return new Promise((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });
}
