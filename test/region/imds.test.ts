// IMDSv2 of a Region instance: answers from the instance as it is at each request (address, target lifecycle state,
// Spot notice), with IMDSv2's token rules. Negative control: regionInstanceItems() reporting `InService` whatever
// the instance's targetLifecycleState makes the "Terminated once selected" expectation fail.
import { afterEach, describe, expect, it } from 'vitest';
import { serveInstanceImds, macOf, type InstanceImds } from '../../src/region/wire/imds.js';
import { seedWorld } from '../../src/region/scenario.js';
import { FakeAws } from '../fakes/aws/index.js';

let imds: InstanceImds | undefined;
afterEach(async () => {
  await imds?.close();
  imds = undefined;
});

async function get(endpoint: string, path: string, token?: string): Promise<[number, string]> {
  const res = await fetch(`${endpoint}/latest/meta-data/${path}`, { headers: token ? { 'x-aws-ec2-metadata-token': token } : {} });
  return [res.status, await res.text()];
}

describe('serveInstanceImds', () => {
  it("serves the Region instance's metadata, live, behind an IMDSv2 token", async () => {
    const f = new FakeAws({ bootSeconds: 0, iam: false });
    seedWorld(f, { desired: 1 });
    const i = [...f.instances.values()][0]!;
    imds = await serveInstanceImds(f, i.InstanceId);
    expect((await get(imds.endpoint, 'instance-id'))[0]).toBe(401);
    const bad = await fetch(`${imds.endpoint}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '0' } });
    expect(bad.status).toBe(400);
    const token = await (await fetch(`${imds.endpoint}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } })).text();
    expect(await get(imds.endpoint, 'instance-id', token)).toEqual([200, i.InstanceId]);
    expect(await get(imds.endpoint, 'local-ipv4', token)).toEqual([200, i.PrivateIpAddress]);
    expect(await get(imds.endpoint, 'public-ipv4', token)).toEqual([404, 'Not Found']);
    expect(await get(imds.endpoint, `network/interfaces/macs/${macOf(i.InstanceId)}/vpc-ipv4-cidr-block`, token)).toEqual([200, '10.0.0.0/16']);
    expect(await get(imds.endpoint, 'placement/region', token)).toEqual([200, 'us-east-1']);
    expect(await get(imds.endpoint, 'autoscaling/target-lifecycle-state', token)).toEqual([200, 'InService']);
    expect((await get(imds.endpoint, 'spot/instance-action', token))[0]).toBe(404);
    // Selected to leave: Terminated at once (before deregistration and the hook), and a Spot notice once issued.
    f.beginTermination(i);
    i.spotInstanceAction = { action: 'terminate', time: '2026-01-01T00:02:00Z' };
    i.PublicIpAddress = '198.51.100.4';
    expect(await get(imds.endpoint, 'autoscaling/target-lifecycle-state', token)).toEqual([200, 'Terminated']);
    expect(await get(imds.endpoint, 'spot/instance-action', token)).toEqual([200, '{"action":"terminate","time":"2026-01-01T00:02:00Z"}']);
    expect(await get(imds.endpoint, 'public-ipv4', token)).toEqual([200, '198.51.100.4']);
  });
});
