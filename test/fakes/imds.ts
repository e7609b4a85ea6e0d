// The tests' IMDSv2: the product's IMDS wire (src/region/wire/imds.ts, which cites the AWS pages) on 127.0.0.1
// (a free port), serving a mutable Map of items, with its fault controls (ImdsControls). No wire code here.
// - The items: instanceMetadata() (instance-id, local-ipv4, public-ipv4 when given, mac and the VPC CIDR under it,
//   placement/region, autoscaling/target-lifecycle-state when given) and the role's credentials (instanceRoleItems).
// - Every 401 body is POISON_ADDRESS, so a client that takes a 401's body for an address gets caught.
import {
  ImdsControls,
  instanceMetadata,
  instanceRoleItems,
  macOf,
  serveImdsItems,
  type ImdsFault,
  type ImdsRequest,
  type InstanceRoleCredentials,
} from '../../src/region/wire/imds.js';

export const POISON_ADDRESS = '10.66.66.66';

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

const LIFECYCLE = 'autoscaling/target-lifecycle-state';

function items(o: ImdsFakeOptions): Map<string, string> {
  const instanceId = o.instanceId ?? 'i-0123456789abcdef0';
  const privateIp = o.localIpv4 ?? '10.0.1.23';
  const m = instanceMetadata({
    instanceId,
    privateIp,
    ...(o.publicIpv4 !== undefined ? { publicIp: o.publicIpv4 } : {}),
    mac: macOf(instanceId),
    vpcCidr: o.vpcCidr ?? (privateIp.startsWith('127.') ? '127.0.0.0/8' : '10.0.0.0/16'),
    region: o.region ?? 'us-east-1',
    ...(o.lifecycleState !== undefined ? { targetLifecycleState: o.lifecycleState } : {}),
  });
  const all = { ...m, ...(o.role ? instanceRoleItems(o.role) : {}) };
  return new Map(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

export async function startImdsFake(o: ImdsFakeOptions = {}): Promise<ImdsFake> {
  const metadata = items(o);
  const c = new ImdsControls();
  c.unauthorizedBody = POISON_ADDRESS;
  const server = await serveImdsItems(() => Object.fromEntries(metadata), { controls: c });
  return {
    endpoint: server.endpoint,
    metadata,
    requests: c.requests,
    get delayMs() {
      return c.delayMs;
    },
    set delayMs(ms: number) {
      c.delayMs = ms;
    },
    fault: (prefix, f) => c.fault(prefix, f),
    setLifecycleState: (s) => (s === undefined ? metadata.delete(LIFECYCLE) : metadata.set(LIFECYCLE, s)),
    setDown: (d) => (c.down = d),
    rejectNextTokenUse: () => c.rejectNextTokenUse(),
    close: () => server.close(),
  };
}
