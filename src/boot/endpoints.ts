// What a booted image talks to, served on the host's end of its veth: IMDSv2 (reached in the guest at
// 169.254.169.254 through the namespace's DNAT) with instance-role credentials, and the Auto Scaling API the drain
// agent calls. The servers are the rehearsal's (src/rehearse/endpoints.ts, on unix sockets); a TCP listener on the
// host's end pipes each to its socket.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { closeServer, instanceMetadata, serveAutoScaling, serveImds, type AsgCall, type ImdsItems } from '../rehearse/endpoints.js';
import type { BootNet } from './net.js';

export interface InstanceEndpoints {
  imdsPort: number;
  autoScalingEndpoint: string;
  /** IMDS autoscaling/target-lifecycle-state, and the group's view of the instance (Terminating:Wait has a hook action). */
  setLifecycle(state: 'InService' | 'Terminated'): void;
  calls: AsgCall[];
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

export async function serveInstance(n: BootNet, dir: string, id: InstanceIdentity): Promise<InstanceEndpoints> {
  let state: 'InService' | 'Terminated' = 'InService';
  const calls: AsgCall[] = [];
  const creds = {
    Code: 'Success',
    LastUpdated: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    Type: 'AWS-HMAC',
    AccessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    SecretAccessKey: randomBytes(30).toString('base64'),
    Token: randomBytes(32).toString('base64'),
    Expiration: new Date(Date.now() + 6 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const items = (): ImdsItems => ({
    ...instanceMetadata({
      instanceId: id.instanceId,
      privateIp: n.guestIp,
      mac: '0e:49:61:0f:c3:11',
      vpcCidr: n.cidr,
      region: id.region,
      targetLifecycleState: state,
    }),
    'iam/security-credentials/': ROLE,
    [`iam/security-credentials/${ROLE}`]: JSON.stringify(creds),
  });
  const servers: http.Server[] = [];
  const listeners: net.Server[] = [];
  const close = async () => {
    for (const l of listeners) await new Promise<void>((r) => l.close(() => r()));
    for (const s of servers) await closeServer(s);
  };
  try {
    servers.push(await serveImds(path.join(dir, 'imds.sock'), items));
    servers.push(
      await serveAutoScaling(
        path.join(dir, 'asg.sock'),
        {
          groupName: id.groupName,
          hookName: id.hookName,
          hookTimeoutSeconds: id.hookTimeoutSeconds,
          stateOf: (i) => (i === id.instanceId ? (state === 'Terminated' ? 'Terminating:Wait' : 'InService') : undefined),
          members: () => [{ id: id.instanceId, lifecycleState: state === 'Terminated' ? 'Terminating:Wait' : 'InService', healthy: true }],
          heartbeat: (i) => i === id.instanceId && state === 'Terminated',
          complete: (i) => i === id.instanceId && state === 'Terminated',
        },
        calls,
      ),
    );
    const imds = await forward(n.hostIp, path.join(dir, 'imds.sock'));
    listeners.push(imds);
    const asg = await forward(n.hostIp, path.join(dir, 'asg.sock'));
    listeners.push(asg);
    return {
      imdsPort: portOf(imds),
      autoScalingEndpoint: `http://${n.hostIp}:${portOf(asg)}`,
      setLifecycle: (s) => void (state = s),
      calls,
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
