// media.address elastic-ip-pool and instance-public-ipv4 (src/agent/media-address.ts): boot claims an Elastic IP
// of the tagged pool through the real EC2 client, served by the region model with the instance policy
// `sipbake iam instance` prints evaluated on every call; the drain gives it back before the hook completes.
import { afterEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runBoot } from '../../src/agent/boot.js';
import { claimOrder, claimPoolAddress, releaseBeforeComplete } from '../../src/agent/media-address.js';
import type { AgentManifest } from '../../src/contract/image-manifest.js';
import { RTPPROXY_BOOT_ENV_PATH } from '../../src/contract/rtpproxy-args.js';
import { imageSchema } from '../../src/definition/schema.js';
import { policyFor } from '../../src/iam/policies.js';
import { addElasticIp, ec2AddressHandlers, elasticIps } from '../../src/region/handlers-ec2-address.js';
import { AssociateAddressCommand, DescribeAddressesCommand } from '@aws-sdk/client-ec2';
import { seedWorld } from '../../src/region/scenario.js';
import { createFakeAws, FAKE_ACCOUNT, type FakeAwsHandle } from '../fakes/aws/index.js';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { makeTmpDir, type TmpDir } from '../support/index.js';

const POOL = 'recorder-media';
const NLB_EIP = '44.199.36.104';

const image = imageSchema.parse({
  name: 'recorder-lb',
  listen: { udp: 5060 },
  relay: { destination: { domain: 'sip.example.com' } },
  advertise: { source: 'elastic-ip', elasticIp: NLB_EIP },
  media: { rtpproxy: { enabled: true }, address: { source: 'elastic-ip-pool', pool: POOL } },
  deploy: {
    region: 'us-east-1',
    asgName: 'kamailio-lb',
    targetGroupArns: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kamailio-lb/0123456789abcdef'],
  },
});

function manifest(address: AgentManifest['mediaAddress']): AgentManifest {
  return {
    name: 'recorder-lb',
    advertise: { source: 'elastic-ip', elasticIp: NLB_EIP },
    rtpproxy: true,
    mediaAddress: address,
    drain: { ...image.drain, lifecycleHookName: 'sipbake-drain' },
    destinationHosts: [],
    allowUnresolved: false,
  };
}

let h: FakeAwsHandle | undefined;
let imds: ImdsFake | undefined;
let tmp: TmpDir | undefined;
afterEach(async () => {
  h?.restore();
  await imds?.close();
  await tmp?.remove();
  h = imds = tmp = undefined;
});

/** A group of `desired` instances and a pool of `size` addresses (plus one of another pool), under the printed policy. */
function world(desired: number, size: number) {
  h = createFakeAws({ drainAgent: false, iam: { role: 'instance', policy: policyFor('instance', image, { account: FAKE_ACCOUNT }) } });
  seedWorld(h.fake, { desired, asgName: 'kamailio-lb' });
  h.fake.advance(60_000); // past EC2's eventual consistency
  const ids = Array.from({ length: size }, (_, n) => addElasticIp(h!.fake, { PublicIp: `198.51.100.${10 + n}`, Tags: { 'sipbake:media-pool': POOL } }));
  const foreign = addElasticIp(h.fake, { PublicIp: '192.0.2.99', Tags: { 'sipbake:media-pool': 'other' } });
  return { fake: h.fake, ec2: h.clients.ec2, instances: [...h.fake.instances.values()], ids, foreign };
}

const log = () => undefined;

describe('media address from an Elastic IP pool', () => {
  it('boot claims a pool address and RTPProxy advertises it; Kamailio keeps the NLB address', async () => {
    const w = world(1, 2);
    const i = w.instances[0]!;
    tmp = await makeTmpDir('sipbake-media-');
    imds = await startImdsFake({ localIpv4: '10.0.1.23', instanceId: i.InstanceId });
    const r = await runBoot({ root: tmp.path, imds: { endpoint: imds.endpoint }, manifest: manifest({ source: 'elastic-ip-pool', pool: POOL }), ec2: w.ec2 });
    const held = elasticIps(w.fake).find((a) => a.InstanceId === i.InstanceId)!;
    expect(held.Tags['sipbake:media-pool']).toBe(POOL);
    expect(r.mediaIp).toBe(held.PublicIp);
    expect(r.publicIp).toBe(NLB_EIP);
    const env = await readFile(path.join(tmp.path, RTPPROXY_BOOT_ENV_PATH), 'utf8');
    expect(env).toBe(`RTPPROXY_ADDR_OPTS="-l 10.0.1.23=${held.PublicIp}"\n`);
    const include = await readFile(path.join(tmp.path, 'etc/kamailio/sipbake-boot.cfg'), 'utf8');
    expect(include).toContain(`#!define SIPBAKE_PUBLIC_IP ${NLB_EIP}`);
    const assoc = h!.fake.calls.find((c) => c.command === 'AssociateAddress')!;
    expect(assoc.input).toMatchObject({ InstanceId: i.InstanceId, AllowReassociation: false });
  });

  it('instances claim different addresses, and one that loses a race takes the next', async () => {
    const w = world(3, 3);
    const claimed: string[] = [];
    for (const i of w.instances) claimed.push(await claimPoolAddress({ ec2: w.ec2, instanceId: i.InstanceId, pool: POOL, log }));
    expect(new Set(claimed).size).toBe(3);
    expect(claimed).not.toContain('192.0.2.99');
    // A race: the Describe saw both addresses free, but another instance associated the first pick meanwhile.
    const race = world(2, 2);
    const [a, b] = race.instances;
    const { Addresses = [] } = await race.ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: 'tag:sipbake:media-pool', Values: [POOL] }] }));
    const first = claimOrder(Addresses, b!.InstanceId)[0]!;
    race.fake.faults.before('AssociateAddress', () => {
      ec2AddressHandlers(race.fake).AssociateAddress!({ AllocationId: first.AllocationId, InstanceId: a!.InstanceId });
    });
    const got = await claimPoolAddress({ ec2: race.ec2, instanceId: b!.InstanceId, pool: POOL, log });
    expect(got).not.toBe(first.PublicIp);
    expect(elasticIps(race.fake).find((x) => x.AllocationId === first.AllocationId)?.InstanceId).toBe(a!.InstanceId);
    expect(race.fake.faults.fired).toEqual([]);
  });

  it('an exhausted pool is a UserError naming the pool, the tag and what to do', async () => {
    const w = world(2, 1);
    await claimPoolAddress({ ec2: w.ec2, instanceId: w.instances[0]!.InstanceId, pool: POOL, log });
    await expect(claimPoolAddress({ ec2: w.ec2, instanceId: w.instances[1]!.InstanceId, pool: POOL, log })).rejects.toThrow(
      /no free Elastic IP in media pool recorder-media: 1 address\(es\) tagged sipbake:media-pool=recorder-media, 1 associated/,
    );
  });

  it('the drain releases the address once, before CompleteLifecycleAction', async () => {
    const w = world(1, 1);
    const i = w.instances[0]!;
    await claimPoolAddress({ ec2: w.ec2, instanceId: i.InstanceId, pool: POOL, log });
    const order: string[] = [];
    const hook = releaseBeforeComplete(
      { complete: async () => void order.push(`complete, held: ${elasticIps(w.fake).filter((a) => a.InstanceId).length}`) },
      {
        ec2: w.ec2,
        instanceId: i.InstanceId,
        pool: POOL,
        log,
      },
    );
    await hook.complete();
    await hook.complete();
    expect(order).toEqual(['complete, held: 0', 'complete, held: 0']);
    expect(h!.fake.calls.filter((c) => c.command === 'DisassociateAddress')).toHaveLength(1);
  });

  it('the instance policy refuses an address outside the pool (tag-conditioned)', async () => {
    const w = world(1, 0);
    h!.fake.iam!.opts.expectDenials = true;
    await expect(w.ec2.send(new AssociateAddressCommand({ AllocationId: w.foreign, InstanceId: w.instances[0]!.InstanceId }))).rejects.toThrow(
      /not authorized|AccessDenied/i,
    );
  });
});

describe('media address from the instance public IPv4', () => {
  it('RTPProxy advertises IMDS public-ipv4; without one boot fails saying what to do', async () => {
    tmp = await makeTmpDir('sipbake-media-');
    imds = await startImdsFake({ localIpv4: '10.0.1.23', publicIpv4: '203.0.113.7' });
    const r = await runBoot({ root: tmp.path, imds: { endpoint: imds.endpoint }, manifest: manifest({ source: 'instance-public-ipv4' }) });
    expect(r.mediaIp).toBe('203.0.113.7');
    expect(await readFile(path.join(tmp.path, RTPPROXY_BOOT_ENV_PATH), 'utf8')).toContain('-l 10.0.1.23=203.0.113.7');
    await imds.close();
    imds = await startImdsFake({ localIpv4: '10.0.1.23' });
    await expect(
      runBoot({ root: tmp.path, imds: { endpoint: imds.endpoint, budgetMs: 2000 }, manifest: manifest({ source: 'instance-public-ipv4' }) }),
    ).rejects.toThrow(/media\.address\.source is instance-public-ipv4, but this instance has no public IPv4/);
  });
});
