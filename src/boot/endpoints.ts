// What a booted image talks to, served on the host's end of its veth: IMDSv2 (reached in the guest at
// 169.254.169.254 through the namespace's DNAT) with instance-role credentials, and the Auto Scaling API the drain
// agent calls. Both are the region model's (src/region): a group of one InService instance (this machine) with the
// termination hook; its IMDS and the region's wire server listen on unix sockets, and a TCP listener on the host's
// end pipes each to its socket. The region's clock follows real time, so the hook's heartbeat timeout runs as on AWS.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import type { FakeInstance } from '../region/model.js';
import { Region } from '../region/region.js';
import { instanceRoleItems, serveInstanceImds, type ImdsItems, type InstanceImds } from '../region/wire/imds.js';
import { serveRegion, type RegionServer, type WireRecord } from '../region/wire/server.js';
import type { BootNet } from './net.js';

export interface InstanceEndpoints {
  imdsPort: number;
  autoScalingEndpoint: string;
  /**
   * The group selects the instance to leave (as a scale-in or TerminateInstanceInAutoScalingGroup does): IMDS
   * autoscaling/target-lifecycle-state Terminated at once, then Terminating:Wait with the hook's lifecycle action.
   */
  terminate(): void;
  /** Every Auto Scaling request the instance made, with its answer's status. */
  calls: WireRecord[];
  close(): Promise<void>;
}

export interface InstanceIdentity {
  instanceId: string;
  region: string;
  groupName: string;
  hookName: string;
  hookTimeoutSeconds: number;
}

const ROLE = 'sipbake-instance';

function forward(host: string, socketPath: string): Promise<net.Server> {
  const s = net.createServer((c) => {
    const up = net.connect(socketPath);
    c.pipe(up).pipe(c);
    const end = () => {
      c.destroy();
      up.destroy();
    };
    c.on('error', end);
    up.on('error', end);
  });
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, host, () => resolve(s));
  });
}

const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

/** The region of one booted machine: its group (one InService instance, id and address the machine's) and hook. */
function bootRegion(n: Pick<BootNet, 'guestIp'>, id: InstanceIdentity): { region: Region; instance: FakeInstance } {
  // No simulated drain agent: the machine's own drain agent completes the lifecycle action (or the timeout does).
  const region = new Region({ region: id.region, bootSeconds: 0, drainAgent: false });
  const image = region.addImage({ Name: `${id.groupName}-image` });
  const lt = region.addLaunchTemplate(`${id.groupName}-lt`, { ImageId: image.ImageId });
  region.addAsg({
    AutoScalingGroupName: id.groupName,
    desired: 0, // seedInstance below adds the machine: desired 1
    MinSize: 1,
    launchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: '1' },
    hooks: [
      {
        LifecycleHookName: id.hookName,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: id.hookTimeoutSeconds,
        DefaultResult: 'CONTINUE',
      },
    ],
  });
  // The group's one instance is the machine itself: its id and address, not ones the model would number.
  const instance = region.seedInstance(id.groupName, { InstanceId: id.instanceId, PrivateIpAddress: n.guestIp });
  return { region, instance };
}

/** Instance-role credentials as IMDS serves them (instance-metadata-security-credentials.html): fresh random keys. */
function roleItems(): ImdsItems {
  return instanceRoleItems({
    role: ROLE,
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    token: randomBytes(32).toString('base64'),
  });
}

export async function serveInstance(n: BootNet, dir: string, id: InstanceIdentity): Promise<InstanceEndpoints> {
  const { region, instance } = bootRegion(n, id);
  let imds: InstanceImds | undefined;
  let wire: RegionServer | undefined;
  const listeners: net.Server[] = [];
  const close = async () => {
    for (const l of listeners) await new Promise<void>((r) => l.close(() => r()));
    await imds?.close();
    await wire?.close();
  };
  try {
    imds = await serveInstanceImds(region, id.instanceId, { socketPath: path.join(dir, 'imds.sock'), vpcCidr: n.cidr, extra: roleItems() });
    wire = await serveRegion(region, { sockets: { autoscaling: path.join(dir, 'asg.sock') } });
    const imdsFwd = await forward(n.hostIp, imds.endpoint);
    listeners.push(imdsFwd);
    const asgFwd = await forward(n.hostIp, wire.endpoints.autoscaling);
    listeners.push(asgFwd);
    return {
      imdsPort: portOf(imdsFwd),
      autoScalingEndpoint: `http://${n.hostIp}:${portOf(asgFwd)}`,
      terminate: () => region.beginTermination(instance),
      calls: wire.requests,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A unit drop-in pointing the agents at the Auto Scaling API served here (on EC2: the regional endpoint). */
export function agentDropIn(e: Pick<InstanceEndpoints, 'autoScalingEndpoint'>): string {
  return `[Service]\nEnvironment=SIPBAKE_AUTOSCALING_ENDPOINT=${e.autoScalingEndpoint}\n`;
}
