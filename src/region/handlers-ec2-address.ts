// Elastic IP addresses of the region model: DescribeAddresses, AssociateAddress, DisassociateAddress, what the
// boot agent's media pool uses (src/agent/media-address.ts). Kept beside the Region, not in it: a WeakMap holds
// each region's addresses, and addElasticIp() seeds them (as `sipbake infra` would create the pool).
import type { Region } from './region.js';
import { awsError } from './faults.js';

type In = Record<string, any>;

interface FakeAddress {
  AllocationId: string;
  PublicIp: string;
  Tags: Record<string, string>;
  AssociationId?: string;
  InstanceId?: string;
}

const pools = new WeakMap<Region, Map<string, FakeAddress>>();

function addressesOf(f: Region): Map<string, FakeAddress> {
  let m = pools.get(f);
  if (m) return m;
  m = new Map();
  pools.set(f, m);
  const held = m;
  // "If you terminate the instance, the Elastic IP address is disassociated from it but remains allocated to
  // your account" (Amazon EC2 User Guide, Elastic IP addresses, "Elastic IP address basics").
  f.onInstance((event, i) => {
    if (event !== 'terminated') return;
    for (const a of held.values()) if (a.InstanceId === i.InstanceId) disassociate(a);
  });
  return m;
}

function disassociate(a: FakeAddress): void {
  delete a.AssociationId;
  delete a.InstanceId;
}

/** Scenario set-up: an allocated VPC Elastic IP with these tags (AllocateAddress with TagSpecifications). */
export function addElasticIp(f: Region, o: { PublicIp: string; Tags?: Record<string, string> }): string {
  const m = addressesOf(f);
  const AllocationId = f.nextId('eipalloc');
  m.set(AllocationId, { AllocationId, PublicIp: o.PublicIp, Tags: { ...(o.Tags ?? {}) } });
  return AllocationId;
}

/** What a test asserts on: which instance holds which address now. */
export function elasticIps(f: Region): readonly Readonly<FakeAddress>[] {
  return [...addressesOf(f).values()];
}

/** API_DescribeAddresses filters the model honours: tag:KEY, instance-id, allocation-id, association-id, public-ip. */
function matches(a: FakeAddress, filter: { Name: string; Values: string[] }): boolean {
  const v = (x: string | undefined) => x !== undefined && filter.Values.includes(x);
  if (filter.Name.startsWith('tag:')) return v(a.Tags[filter.Name.slice(4)]);
  switch (filter.Name) {
    case 'instance-id':
      return v(a.InstanceId);
    case 'allocation-id':
      return v(a.AllocationId);
    case 'association-id':
      return v(a.AssociationId);
    case 'public-ip':
      return v(a.PublicIp);
  }
  throw awsError('InvalidParameterValue', `The filter '${filter.Name}' is invalid`);
}

function view(a: FakeAddress) {
  return {
    AllocationId: a.AllocationId,
    PublicIp: a.PublicIp,
    Domain: 'vpc',
    Tags: Object.entries(a.Tags).map(([Key, Value]) => ({ Key, Value })),
    ...(a.AssociationId ? { AssociationId: a.AssociationId, InstanceId: a.InstanceId } : {}),
  };
}

function instanceExists(f: Region, id: string): boolean {
  const i = f.instances.get(id);
  if (i) return i.LifecycleState !== 'Terminated';
  const e = f.ec2Instances.get(id);
  return e !== undefined && e.State !== 'terminated';
}

export function ec2AddressHandlers(f: Region): Record<string, (input: In) => unknown> {
  return {
    // API_DescribeAddresses: every filter must hold; AllocationIds narrows further and an unknown id is an error.
    DescribeAddresses(input) {
      const all = [...addressesOf(f).values()];
      const ids = input.AllocationIds as string[] | undefined;
      for (const id of ids ?? []) if (!addressesOf(f).has(id)) throw awsError('InvalidAllocationID.NotFound', `The allocation ID '${id}' does not exist`);
      const filters = (input.Filters as { Name: string; Values: string[] }[] | undefined) ?? [];
      const found = all.filter((a) => (!ids || ids.includes(a.AllocationId)) && filters.every((fl) => matches(a, fl)));
      return { Addresses: found.map(view) };
    },
    // API_AssociateAddress: with AllowReassociation false (the default) an address associated elsewhere fails with
    // Resource.AlreadyAssociated; "If you associate an Elastic IP address with an instance that has an existing
    // Elastic IP address, the existing address is disassociated from the instance, but remains allocated".
    AssociateAddress(input) {
      const a = addressesOf(f).get(input.AllocationId as string);
      if (!a) throw awsError('InvalidAllocationID.NotFound', `The allocation ID '${String(input.AllocationId)}' does not exist`);
      const instanceId = input.InstanceId as string;
      if (!instanceExists(f, instanceId)) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${instanceId}' does not exist`);
      if (a.AssociationId && a.InstanceId !== instanceId && input.AllowReassociation !== true)
        throw awsError('Resource.AlreadyAssociated', `resource ${a.AllocationId} is already associated with associate-id ${a.AssociationId}`);
      for (const other of addressesOf(f).values()) if (other !== a && other.InstanceId === instanceId) disassociate(other);
      a.AssociationId = f.nextId('eipassoc');
      a.InstanceId = instanceId;
      return { AssociationId: a.AssociationId };
    },
    // API_DisassociateAddress: by AssociationId; an association that no longer exists is InvalidAssociationID.NotFound.
    DisassociateAddress(input) {
      const a = [...addressesOf(f).values()].find((x) => x.AssociationId !== undefined && x.AssociationId === input.AssociationId);
      if (!a) throw awsError('InvalidAssociationID.NotFound', `The association ID '${String(input.AssociationId)}' does not exist`);
      disassociate(a);
      return {};
    },
  };
}

/** Tags of an address, for the IAM evaluator's aws:ResourceTag context. */
export function addressTags(f: Region, allocationOrAssociationId: string): Record<string, string> | undefined {
  return [...addressesOf(f).values()].find((a) => a.AllocationId === allocationOrAssociationId || a.AssociationId === allocationOrAssociationId)?.Tags;
}

/** The allocation id behind an association (DisassociateAddress names only the association). */
export function allocationOf(f: Region, associationId: string): string | undefined {
  return [...addressesOf(f).values()].find((a) => a.AssociationId === associationId)?.AllocationId;
}
