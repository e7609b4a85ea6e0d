// `sipbake unlock IMAGE` (effects): releases the roll lease a dead roll left on the group (a CI runner killed with
// -9 before it could release it), after saying whose lease it was.
import { DeleteTagsCommand } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients.js';
import { aws } from '../aws/errors.js';
import { UserError } from '../core/errors.js';
import { describeGroup } from './observe.js';
import { leaseExpired, parseLease, TAG_LEASE, type Lease } from './tags.js';

export interface Unlocked {
  asgName: string;
  /** The lease removed; undefined when the group held none. */
  lease?: Lease;
  expired: boolean;
}

export async function unlock(c: AwsClients, asgName: string, nowMs: number): Promise<Unlocked> {
  const g = await aws(`reading the lease on ${asgName}`, () => describeGroup(c, asgName));
  if (!g) throw new UserError(`Auto Scaling group ${asgName} not found`, 'check deploy.asgName and deploy.region of the image definition (or --region)');
  const lease = parseLease(g.tags[TAG_LEASE]);
  if (!lease) return { asgName, expired: false };
  await aws(`removing the roll lease from ${asgName}`, () =>
    c.autoScaling.send(new DeleteTagsCommand({ Tags: [{ ResourceId: asgName, ResourceType: 'auto-scaling-group', Key: TAG_LEASE }] })),
  );
  return { asgName, lease, expired: leaseExpired(lease, nowMs) };
}

export function formatUnlocked(u: Unlocked): string[] {
  if (!u.lease) return [`${u.asgName} holds no roll lease; nothing to release`];
  return [
    `released the roll lease on ${u.asgName}: held by ${u.lease.owner} since ${u.lease.startedAt} (${u.expired ? 'expired' : 'expires'} ${u.lease.expiresAt})`,
    ...(u.expired ? [] : [`if that roll still runs, it goes on watching its refresh; the next roll attaches to it (sipbake status IMAGE shows it)`]),
  ];
}
