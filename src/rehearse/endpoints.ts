import http from 'node:http';
import { globalTimeoutSeconds } from '../contract/drain-timing.js';
import { renderAnswer, renderError, type WireAnswer } from '../region/wire/protocols.js';
import { closeServer, listen } from '../region/wire/listen.js';

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

// IMDSv2 and the wire encoding are the region model's (src/region/wire/): one wire module for the fake and the rehearsal.
export { instanceMetadata, serveImds, type ImdsItems } from '../region/wire/imds.js';
export { closeServer };

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

const AZ = 'us-east-1a';

/** Reads a form body; answers with what `route` returns, recording each call. */
function formServer(route: (p: Record<string, string>) => { a: WireAnswer; id: string; error?: string }, calls: AsgCall[]): http.Server {
  return http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const p = Object.fromEntries(new URLSearchParams(raw));
      const { a, id, error } = route(p);
      const code = a.status === 200 ? undefined : (error ?? /<Code>([^<]*)/.exec(a.body)?.[1] ?? '');
      calls.push({ action: p.Action ?? '', instanceId: id, atMs: Date.now(), ok: a.status === 200, ...(code !== undefined ? { error: code } : {}) });
      res.writeHead(a.status, a.headers);
      res.end(a.body);
    });
  });
}

/** DescribeAutoScalingInstances' answer for one instance (none once it left the group). */
function describeInstancesOut(b: AutoScalingBackend, id: string): unknown {
  const st = b.stateOf(id);
  const found =
    st === undefined
      ? []
      : [{ InstanceId: id, AutoScalingGroupName: b.groupName, LifecycleState: st, HealthStatus: 'HEALTHY', AvailabilityZone: AZ, ProtectedFromScaleIn: false }];
  return { AutoScalingInstances: found };
}

/** DescribeAutoScalingGroups' answer: this group and its members as the model has them. */
function describeGroupOut(b: AutoScalingBackend): unknown {
  const members = b.members();
  const n = members.length;
  const Instances = members.map((m) => ({
    InstanceId: m.id,
    InstanceType: 'c6i.large',
    AvailabilityZone: AZ,
    LifecycleState: m.lifecycleState,
    HealthStatus: m.healthy ? 'Healthy' : 'Unhealthy',
    ProtectedFromScaleIn: false,
  }));
  const group = { AutoScalingGroupName: b.groupName, MinSize: n, MaxSize: 2 * n, DesiredCapacity: n, DefaultCooldown: 300, AvailabilityZones: [AZ] };
  return { AutoScalingGroups: [{ ...group, HealthCheckType: 'ELB', HealthCheckGracePeriod: 300, CreatedTime: new Date('2026-01-01T00:00:00Z'), Instances }] };
}

/** Pure: the Auto Scaling answer (SDK-shaped, encoded by the region's wire codec) to one drain-agent request. */
function autoScalingAnswer(b: AutoScalingBackend, p: Readonly<Record<string, string>>): { a: WireAnswer; id: string; error?: string } {
  const action = p.Action ?? '';
  const id = p.InstanceId ?? p['InstanceIds.member.1'] ?? '';
  const okWith = (out: unknown) => ({ a: renderAnswer('autoscaling', action, out, 'rehearse'), id });
  const noAction = () => ({
    a: renderError('autoscaling', 'ValidationError', `No active Lifecycle Action found with instance ID ${id}`),
    id,
    error: 'no-action',
  });
  const groupNames = Object.entries(p)
    .filter(([k]) => /^AutoScalingGroupNames\.member\.\d+$/.test(k))
    .map(([, v]) => v);
  const wrongIds = p.AutoScalingGroupName !== undefined && p.AutoScalingGroupName !== b.groupName;
  switch (action) {
    case 'DescribeAutoScalingInstances':
      return okWith(describeInstancesOut(b, id));
    case 'DescribeAutoScalingGroups':
      // No names: every group (this one); names that are not this group: an empty list, as AWS answers.
      return okWith(groupNames.length > 0 && !groupNames.includes(b.groupName) ? { AutoScalingGroups: [] } : describeGroupOut(b));
    case 'DescribeLifecycleHooks':
      if (wrongIds) return { a: renderError('autoscaling', 'ValidationError', `Group ${p.AutoScalingGroupName} not found`), id, error: 'no-group' };
      return okWith({
        LifecycleHooks: [
          {
            LifecycleHookName: b.hookName,
            AutoScalingGroupName: b.groupName,
            LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
            HeartbeatTimeout: b.hookTimeoutSeconds,
            GlobalTimeout: globalTimeoutSeconds(b.hookTimeoutSeconds),
            DefaultResult: 'CONTINUE',
          },
        ],
      });
    case 'RecordLifecycleActionHeartbeat':
      if (wrongIds || p.LifecycleHookName !== b.hookName) return noAction();
      return b.heartbeat(id) ? okWith({}) : noAction();
    case 'CompleteLifecycleAction':
      if (wrongIds || p.LifecycleHookName !== b.hookName) return noAction();
      return b.complete(id, p.LifecycleActionResult ?? '') ? okWith({}) : noAction();
    default:
      return { a: renderError('autoscaling', 'InvalidAction', `the rehearsal does not serve ${action}`), id, error: 'invalid' };
  }
}

export async function serveAutoScaling(socketPath: string, b: AutoScalingBackend, calls: AsgCall[]): Promise<http.Server> {
  const server = formServer((p) => autoScalingAnswer(b, p), calls);
  await listen(server, socketPath);
  return server;
}

export interface Ec2Instance {
  id: string;
  imageId: string;
  privateIp: string;
  /** EC2's instance state name (pending, running, shutting-down, terminated). */
  state: 'pending' | 'running' | 'shutting-down' | 'terminated';
}

const EC2_STATE_CODE = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48 } as const;

/** The filters DescribeInstances takes that a peer lookup uses; AWS knows many more, this refuses the others loudly. */
const EC2_FILTERS: Record<string, (i: Ec2Instance) => string | undefined> = {
  'instance-id': (i) => i.id,
  'instance-state-name': (i) => i.state,
  'private-ip-address': (i) => (i.state === 'terminated' ? undefined : i.privateIp),
};

/** Pure: EC2's DescribeInstances answer (or its error) for a Query-protocol request's parameters. */
function describeInstances(all: readonly Ec2Instance[], p: Readonly<Record<string, string>>): WireAnswer {
  const ids = Object.entries(p)
    .filter(([k]) => /^InstanceId\.\d+$/.test(k))
    .map(([, v]) => v);
  const missing = ids.filter((id) => !all.some((i) => i.id === id));
  if (missing.length)
    return renderError(
      'ec2',
      'InvalidInstanceID.NotFound',
      `The instance ID${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist`,
    );
  const filters: Array<{ name: string; values: string[] }> = [];
  for (const [k, name] of Object.entries(p)) {
    const n = /^Filter\.(\d+)\.Name$/.exec(k)?.[1];
    if (n === undefined) continue;
    if (!Object.hasOwn(EC2_FILTERS, name)) return renderError('ec2', 'InvalidParameterValue', `The filter '${name}' is invalid`);
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
  const Reservations = chosen.map((i) => ({
    ReservationId: `r-${i.id.slice(2)}`,
    OwnerId: '123456789012',
    Groups: [],
    Instances: [
      {
        InstanceId: i.id,
        ImageId: i.imageId,
        State: { Code: EC2_STATE_CODE[i.state], Name: i.state },
        ...(i.state === 'terminated' ? {} : { PrivateIpAddress: i.privateIp }),
        InstanceType: 'c6i.large',
        Placement: { AvailabilityZone: AZ },
      },
    ],
  }));
  return renderAnswer('ec2', 'DescribeInstances', { Reservations }, 'rehearse');
}

/** EC2's Query API on a unix socket; only DescribeInstances (what a draining agent's peer lookup calls). */
export async function serveEc2(socketPath: string, instances: () => readonly Ec2Instance[], calls: AsgCall[]): Promise<http.Server> {
  const server = formServer((p) => {
    const action = p.Action ?? '';
    const a =
      action === 'DescribeInstances'
        ? describeInstances(instances(), p)
        : renderError('ec2', 'InvalidAction', `The action ${action} is not valid for this web service.`);
    return { a, id: p['InstanceId.1'] ?? '' };
  }, calls);
  await listen(server, socketPath);
  return server;
}
