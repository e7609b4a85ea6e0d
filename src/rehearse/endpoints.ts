import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { globalTimeoutSeconds } from '../contract/drain-timing.js';

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
//   DescribeAutoScalingInstances, DescribeLifecycleHooks, RecordLifecycleActionHeartbeat, CompleteLifecycleAction,
//   and DescribeAutoScalingGroups (a draining agent's peer discovery: the group's InService + Healthy instances).
//   Heartbeat and completion are valid only while a lifecycle action exists (Terminating:Wait); otherwise AWS
//   answers 400 ValidationError "No active Lifecycle Action found with instance ID …", and so does this.
//   Answer shapes: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingInstances.html
//   (AutoScalingInstanceDetails: HealthStatus "HEALTHY"|"UNHEALTHY"),
//   https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html (AutoScalingGroup,
//   its Instances: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_Instance.html, HealthStatus
//   "Healthy"|"Unhealthy" — AWS spells the two differently), terminated instances leave the group.
// - EC2 DescribeInstances, in EC2's Query protocol (form POST, XML in the 2016-11-15 namespace), for the peers'
//   private addresses: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
//   (reservationSet/item/instancesSet/item: instanceId, imageId, instanceState {code, name}, privateIpAddress — absent
//   once terminated); an unknown id: 400 InvalidInstanceID.NotFound "The instance ID 'i-…' does not exist"
//   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html); errors in EC2's
//   <Response><Errors><Error> envelope (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/query-api-troubleshooting.html).

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
  /** Every instance the group holds (not the terminated ones), in launch order. */
  members(): GroupMember[];
  /** True when a lifecycle action exists (Terminating:Wait); then the call is recorded for the controller. */
  heartbeat(id: string): boolean;
  complete(id: string, result: string): boolean;
}

export interface GroupMember {
  id: string;
  lifecycleState: string;
  healthy: boolean;
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
      const groupNames = Object.entries(p)
        .filter(([k]) => /^AutoScalingGroupNames\.member\.\d+$/.test(k))
        .map(([, v]) => v);
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
        case 'DescribeAutoScalingGroups': {
          // No names: every group (this one); names that are not this group: an empty list, as AWS answers.
          if (groupNames.length > 0 && !groupNames.includes(b.groupName)) return send(200, ok(action, '<AutoScalingGroups/>'));
          const members = b.members();
          const instances = members
            .map(
              (m) =>
                `<member><InstanceId>${esc(m.id)}</InstanceId><InstanceType>c6i.large</InstanceType><AvailabilityZone>us-east-1a</AvailabilityZone><LifecycleState>${esc(m.lifecycleState)}</LifecycleState><HealthStatus>${m.healthy ? 'Healthy' : 'Unhealthy'}</HealthStatus><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>`,
            )
            .join('');
          const n = members.length;
          return send(
            200,
            ok(
              action,
              `<AutoScalingGroups><member><AutoScalingGroupName>${esc(b.groupName)}</AutoScalingGroupName><MinSize>${n}</MinSize><MaxSize>${2 * n}</MaxSize><DesiredCapacity>${n}</DesiredCapacity><DefaultCooldown>300</DefaultCooldown><AvailabilityZones><member>us-east-1a</member></AvailabilityZones><HealthCheckType>ELB</HealthCheckType><HealthCheckGracePeriod>300</HealthCheckGracePeriod><CreatedTime>2026-01-01T00:00:00Z</CreatedTime><Instances>${instances}</Instances></member></AutoScalingGroups>`,
            ),
          );
        }
        case 'DescribeLifecycleHooks':
          if (wrongIds) return send(400, fault('ValidationError', `Group ${p.AutoScalingGroupName} not found`), 'no-group');
          return send(
            200,
            ok(
              action,
              `<LifecycleHooks><member><LifecycleHookName>${esc(b.hookName)}</LifecycleHookName><AutoScalingGroupName>${esc(b.groupName)}</AutoScalingGroupName><LifecycleTransition>autoscaling:EC2_INSTANCE_TERMINATING</LifecycleTransition><HeartbeatTimeout>${b.hookTimeoutSeconds}</HeartbeatTimeout><GlobalTimeout>${globalTimeoutSeconds(b.hookTimeoutSeconds)}</GlobalTimeout><DefaultResult>CONTINUE</DefaultResult></member></LifecycleHooks>`,
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

export interface Ec2Instance {
  id: string;
  imageId: string;
  privateIp: string;
  /** EC2's instance state name (pending, running, shutting-down, terminated). */
  state: 'pending' | 'running' | 'shutting-down' | 'terminated';
}

const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const EC2_STATE_CODE = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48 } as const;
const ec2Fault = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>rehearse</RequestID></Response>`;

/** The filters DescribeInstances takes that a peer lookup uses; AWS knows many more, this refuses the others loudly. */
const EC2_FILTERS: Record<string, (i: Ec2Instance) => string | undefined> = {
  'instance-id': (i) => i.id,
  'instance-state-name': (i) => i.state,
  'private-ip-address': (i) => (i.state === 'terminated' ? undefined : i.privateIp),
};

/** Pure: EC2's DescribeInstances answer (or its error) for a Query-protocol request's parameters. */
function describeInstances(all: readonly Ec2Instance[], p: Readonly<Record<string, string>>): { status: number; xml: string } {
  const ids = Object.entries(p)
    .filter(([k]) => /^InstanceId\.\d+$/.test(k))
    .map(([, v]) => v);
  const missing = ids.filter((id) => !all.some((i) => i.id === id));
  if (missing.length)
    return {
      status: 400,
      xml: ec2Fault(
        'InvalidInstanceID.NotFound',
        `The instance ID${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist`,
      ),
    };
  const filters: Array<{ name: string; values: string[] }> = [];
  for (const [k, name] of Object.entries(p)) {
    const n = /^Filter\.(\d+)\.Name$/.exec(k)?.[1];
    if (n === undefined) continue;
    if (!Object.hasOwn(EC2_FILTERS, name)) return { status: 400, xml: ec2Fault('InvalidParameterValue', `The filter '${name}' is invalid`) };
    const values = Object.entries(p)
      .filter(([vk]) => vk.startsWith(`Filter.${n}.Value.`))
      .map(([, v]) => v);
    filters.push({ name, values });
  }
  const chosen = all.filter(
    (i) =>
      (ids.length === 0 || ids.includes(i.id)) &&
      filters.every((f) => {
        const v = EC2_FILTERS[f.name]?.(i);
        return v !== undefined && f.values.includes(v);
      }),
  );
  // One reservation per instance: each was launched by its own RunInstances call (as Auto Scaling does).
  const items = chosen
    .map(
      (i) =>
        `<item><reservationId>r-${esc(i.id.slice(2))}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet><item><instanceId>${esc(i.id)}</instanceId><imageId>${esc(i.imageId)}</imageId><instanceState><code>${EC2_STATE_CODE[i.state]}</code><name>${i.state}</name></instanceState>${i.state === 'terminated' ? '' : `<privateIpAddress>${esc(i.privateIp)}</privateIpAddress>`}<instanceType>c6i.large</instanceType><placement><availabilityZone>us-east-1a</availabilityZone></placement></item></instancesSet></item>`,
    )
    .join('');
  return {
    status: 200,
    xml: `<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="${EC2_NS}"><requestId>rehearse</requestId><reservationSet>${items}</reservationSet></DescribeInstancesResponse>`,
  };
}

/** EC2's Query API on a unix socket; only DescribeInstances (what a draining agent's peer lookup calls). */
export async function serveEc2(socketPath: string, instances: () => readonly Ec2Instance[], calls: AsgCall[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const p = Object.fromEntries(new URLSearchParams(raw));
      const action = p.Action ?? '';
      const r =
        action === 'DescribeInstances'
          ? describeInstances(instances(), p)
          : { status: 400, xml: ec2Fault('InvalidAction', `The action ${action} is not valid for this web service.`) };
      calls.push({
        action,
        instanceId: p['InstanceId.1'] ?? '',
        atMs: Date.now(),
        ok: r.status === 200,
        ...(r.status === 200 ? {} : { error: /<Code>([^<]*)/.exec(r.xml)?.[1] ?? '' }),
      });
      res.writeHead(r.status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(r.xml);
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
