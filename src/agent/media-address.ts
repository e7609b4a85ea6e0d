// The instance's own media address (media.address in the image definition; docs/media.md). Signalling keeps the
// NLB's address; RTPProxy advertises this one, so RTP goes straight to the instance and never crosses the NLB.
//   instance-public-ipv4: the public IPv4 IMDS reports (the instance runs in a public subnet).
//   elastic-ip-pool: boot claims a free Elastic IP tagged sipbake:media-pool=POOL (AssociateAddress with
//   AllowReassociation false, so two booting instances never take the same one); the drain gives it back.
import { AssociateAddressCommand, DescribeAddressesCommand, DisassociateAddressCommand, type Address, type EC2Client } from '@aws-sdk/client-ec2';
import type { MediaAddress } from '../contract/image-manifest.js';
import { UserError } from '../core/errors.js';
import type { Log } from './log.js';

import { MEDIA_POOL_TAG } from '../contract/tags.js';

type Ec2 = Pick<EC2Client, 'send'>;

export interface MediaPoolContext {
  ec2: Ec2;
  instanceId: string;
  pool: string;
  log: Log;
}

const poolFilter = (pool: string) => ({ Name: `tag:${MEDIA_POOL_TAG}`, Values: [pool] });

/**
 * Pure: the order in which to try the pool's free addresses. Starts at a place the instance id picks, so
 * instances booting together mostly try different addresses first; the one this instance holds comes first.
 */
export function claimOrder(addresses: Address[], instanceId: string): Address[] {
  const mine = addresses.filter((a) => a.InstanceId === instanceId);
  if (mine.length > 0) return mine.slice(0, 1);
  const free = addresses
    .filter((a) => !a.AssociationId && a.AllocationId && a.PublicIp)
    .sort((a, b) => (a.AllocationId ?? '').localeCompare(b.AllocationId ?? ''));
  if (free.length === 0) return [];
  let h = 0;
  for (const c of instanceId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const start = h % free.length;
  return [...free.slice(start), ...free.slice(0, start)];
}

function errorName(e: unknown): string {
  return e instanceof Error ? ((e as { Code?: string }).Code ?? e.name) : '';
}

/** Claims one address of the pool for this instance; returns its public IPv4. Tries the next on a lost race. */
export async function claimPoolAddress(c: MediaPoolContext): Promise<string> {
  const { Addresses = [] } = await c.ec2.send(new DescribeAddressesCommand({ Filters: [poolFilter(c.pool)] }));
  const order = claimOrder(Addresses, c.instanceId);
  for (const a of order) {
    if (a.InstanceId === c.instanceId) {
      c.log(`media address: ${a.PublicIp} (${a.AllocationId}) of pool ${c.pool} is already this instance's`);
      return a.PublicIp ?? '';
    }
    try {
      await c.ec2.send(new AssociateAddressCommand({ AllocationId: a.AllocationId, InstanceId: c.instanceId, AllowReassociation: false }));
      c.log(`media address: claimed ${a.PublicIp} (${a.AllocationId}) from pool ${c.pool}`);
      return a.PublicIp ?? '';
    } catch (e) {
      // Another instance associated it between our Describe and our Associate: try the next one.
      if (errorName(e) !== 'Resource.AlreadyAssociated') throw e;
      c.log(`media address: ${a.AllocationId} was taken meanwhile; trying the next`);
    }
  }
  const held = Addresses.filter((a) => a.AssociationId).length;
  throw new UserError(
    `no free Elastic IP in media pool ${c.pool}: ${Addresses.length} address(es) tagged ${MEDIA_POOL_TAG}=${c.pool}, ${held} associated already${order.length ? ' (the free ones were taken while boot tried them)' : ''}`,
    `allocate more Elastic IPs with the tag ${MEDIA_POOL_TAG}=${c.pool} (sipbake infra makes one per instance of the group's MaxSize), then restart sipbake-boot`,
  );
}

/** Gives this instance's pool address back (the drain's end). Returns the addresses released. */
async function releasePoolAddress(c: MediaPoolContext): Promise<string[]> {
  const { Addresses = [] } = await c.ec2.send(new DescribeAddressesCommand({ Filters: [poolFilter(c.pool), { Name: 'instance-id', Values: [c.instanceId] }] }));
  const released: string[] = [];
  for (const a of Addresses) {
    if (!a.AssociationId) continue;
    try {
      await c.ec2.send(new DisassociateAddressCommand({ AssociationId: a.AssociationId }));
    } catch (e) {
      // Gone already (the instance is terminating and EC2 disassociated it): nothing to give back.
      if (errorName(e) !== 'InvalidAssociationID.NotFound') throw e;
    }
    released.push(a.PublicIp ?? a.AllocationId ?? '?');
    c.log(`media address: released ${a.PublicIp} (${a.AllocationId}) to pool ${c.pool}`);
  }
  return released;
}

/** What boot needs to learn the media address: IMDS's public IPv4 and, for a pool, an EC2 client. */
export interface MediaAddressDeps {
  publicIpv4: () => Promise<string | undefined>;
  pool: () => Promise<MediaPoolContext>;
}

/** The address RTPProxy advertises: the signalling one, the instance's public IPv4, or a claimed pool address. */
export async function mediaAddressFor(a: MediaAddress, signallingIp: string, deps: MediaAddressDeps): Promise<string> {
  switch (a.source) {
    case 'signalling':
      return signallingIp;
    case 'instance-public-ipv4': {
      const ip = await deps.publicIpv4();
      if (ip) return ip;
      throw new UserError(
        'media.address.source is instance-public-ipv4, but this instance has no public IPv4 (meta-data/public-ipv4 is 404)',
        'launch the instances in public subnets with a public IPv4 (sipbake infra does for this image), or use media.address.source: elastic-ip-pool',
      );
    }
    case 'elastic-ip-pool':
      return claimPoolAddress(await deps.pool());
  }
}

/**
 * The drain's hook for the pool: before the lifecycle action is completed (the calls are over, or the drain
 * gave up), the instance's pool address goes back, once. A failed release does not hold the termination up:
 * EC2 disassociates the address when the instance terminates anyway.
 */
export function releaseBeforeComplete<H extends { complete(): Promise<void> }>(hook: H, c: MediaPoolContext | undefined): H {
  if (!c) return hook;
  let released = false;
  return {
    ...hook,
    complete: async () => {
      if (!released) {
        released = true;
        await releasePoolAddress(c).catch((e: unknown) =>
          c.log(`media address: release failed (${e instanceof Error ? e.message : String(e)}); EC2 frees it when the instance terminates`),
        );
      }
      return hook.complete();
    },
  };
}
