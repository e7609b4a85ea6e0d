import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceMetadata, serveImdsItems, type InstanceImds } from '../../src/region/wire/imds.js';
import { instanceMac, parseBootInclude } from '../../src/rehearse/boot.js';
import { renderBootInclude } from '../../src/contract/boot-include.js';

// The rehearsal's per-instance IMDSv2: what the boot agent reads (local-ipv4, mac, the VPC CIDR under that MAC,
// public-ipv4 only when the instance has one), with a token, over the unix socket the namespace forwards to.

let dir: string;
let server: InstanceImds;
const sock = () => path.join(dir, 'imds.sock');

function req(method: string, p: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ socketPath: sock(), method, path: p, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-imds-'));
  server = await serveImdsItems(
    () =>
      instanceMetadata({
        instanceId: 'i-1',
        privateIp: '10.0.1.11',
        mac: instanceMac(1),
        vpcCidr: '10.0.1.0/24',
        region: 'us-east-1',
        targetLifecycleState: 'InService',
      }),
    { socketPath: sock() },
  );
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('rehearsal IMDSv2', () => {
  it('serves what boot reads, with a token; public-ipv4 and unknown paths are 404', async () => {
    expect((await req('GET', '/latest/meta-data/local-ipv4')).status).toBe(401);
    const token = (await req('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '60' })).body;
    const get = (item: string) => req('GET', `/latest/meta-data/${item}`, { 'x-aws-ec2-metadata-token': token });
    expect(await get('local-ipv4')).toEqual({ status: 200, body: '10.0.1.11' });
    const mac = (await get('mac')).body;
    expect(mac).toBe('02:5b:00:00:00:01');
    expect(await get(`network/interfaces/macs/${mac}/vpc-ipv4-cidr-block`)).toEqual({ status: 200, body: '10.0.1.0/24' });
    expect((await get('public-ipv4')).status).toBe(404);
    expect((await get('toString')).status).toBe(404);
    expect((await get('autoscaling/target-lifecycle-state')).body).toBe('InService');
  });

  it('reads back the boot include the agent writes', () => {
    const text = renderBootInclude({ privateIp: '10.0.1.11', publicIp: '203.0.113.10', root: '/t', peerNet: '10.0.1.0/24' });
    expect(parseBootInclude(text)).toEqual({
      header: expect.stringMatching(/^# Written at boot by sipbake-boot/),
      privateIp: '10.0.1.11',
      publicIp: '203.0.113.10',
      peerNet: '10.0.1.0/24',
    });
  });
});
