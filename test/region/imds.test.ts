// IMDSv2 of a Region instance: answers from the instance as it is at each request (address, target lifecycle state,
// Spot notice), with IMDSv2's token rules. Negative control: regionInstanceItems() reporting `InService` whatever
// the instance's targetLifecycleState makes the "Terminated once selected" expectation fail.
// Its fault controls (ImdsControls), through fetch: one-shot faults by path prefix (status, delay), a slow IMDS, an
// unreachable one, an expired token (401, then a new PUT works), the request log. Negative controls: takeFault()
// leaving the fault in the queue fails "one-shot"; keeping the rejected token alive fails "the token is dropped";
// ignoring `down` or `delayMs` fails the last test.
import { afterEach, describe, expect, it } from 'vitest';
import { ImdsControls, serveImdsItems, serveInstanceImds, macOf, type InstanceImds } from '../../src/region/wire/imds.js';
import { seedWorld } from '../../src/region/scenario.js';
import { FakeAws } from '../fakes/aws/index.js';

let imds: InstanceImds | undefined;
afterEach(async () => {
  await imds?.close();
  imds = undefined;
});

async function putToken(endpoint: string): Promise<string> {
  const res = await fetch(`${endpoint}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } });
  return res.text();
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

async function get(endpoint: string, path: string, token?: string): Promise<[number, string]> {
  const res = await fetch(`${endpoint}/latest/meta-data/${path}`, { headers: token ? { 'x-aws-ec2-metadata-token': token } : {} });
  return [res.status, await res.text()];
}

describe('serveInstanceImds', () => {
  it("serves the Region instance's metadata, live, behind an IMDSv2 token", async () => {
    // IMDS is answered without IAM (no signed request), and the seeded instance is up at once.
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

describe('ImdsControls', () => {
  const items = () => ({ 'local-ipv4': '10.0.1.23', 'iam/security-credentials/': 'r' });
  const serve = async (c?: ImdsControls) => (imds = await serveImdsItems(items, c ? { controls: c } : {})).endpoint;

  it("none (the product's default): a 401 answers Unauthorized", async () => {
    expect(await get(await serve(), 'local-ipv4')).toEqual([401, 'Unauthorized']);
  });

  it('one-shot faults by path prefix: a status, then a delay; other paths and later requests untouched', async () => {
    const c = new ImdsControls();
    const e = await serve(c);
    const token = await putToken(e);
    c.fault('/latest/meta-data/local', { status: 500 });
    c.fault('/latest/meta-data/iam/', { delayMs: 300 });
    expect(await get(e, 'local-ipv4', token)).toEqual([500, 'Internal Server Error']);
    expect(await get(e, 'local-ipv4', token)).toEqual([200, '10.0.1.23']); // one-shot
    const [slow, ms] = await timed(() => get(e, 'iam/security-credentials/', token));
    expect(slow).toEqual([200, 'r']);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect((await timed(() => get(e, 'iam/security-credentials/', token)))[1]).toBeLessThan(200);
    expect(c.requests).toEqual([
      { method: 'PUT', path: '/latest/api/token', token: false, status: 200 },
      { method: 'GET', path: '/latest/meta-data/local-ipv4', token: true, status: 500 },
      { method: 'GET', path: '/latest/meta-data/local-ipv4', token: true, status: 200 },
      { method: 'GET', path: '/latest/meta-data/iam/security-credentials/', token: true, status: 200 },
      { method: 'GET', path: '/latest/meta-data/iam/security-credentials/', token: true, status: 200 },
    ]);
  });

  it('an expired token: the next use of a live token answers 401 (the set body) and the token is dropped', async () => {
    const c = new ImdsControls();
    c.unauthorizedBody = '10.66.66.66';
    const e = await serve(c);
    const token = await putToken(e);
    c.rejectNextTokenUse();
    expect(await get(e, 'local-ipv4', token)).toEqual([401, '10.66.66.66']);
    expect((await get(e, 'local-ipv4', token))[0]).toBe(401); // the token is dropped
    expect(await get(e, 'local-ipv4', await putToken(e))).toEqual([200, '10.0.1.23']);
  });

  it('slow: every answer waits delayMs; down: connections close unanswered, until it is up again', async () => {
    const c = new ImdsControls();
    const e = await serve(c);
    c.delayMs = 250;
    const [token, ms] = await timed(() => putToken(e));
    expect(ms).toBeGreaterThanOrEqual(240);
    c.delayMs = 0;
    c.down = true;
    await expect(get(e, 'local-ipv4', token)).rejects.toThrow();
    c.down = false;
    expect(await get(e, 'local-ipv4', token)).toEqual([200, '10.0.1.23']);
    expect(c.requests.map((r) => r.status)).toEqual([200, 200]);
  });
});
