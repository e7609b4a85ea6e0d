import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { POISON_ADDRESS, startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { startSecretsFake, type SecretsFake } from '../fakes/ssm.js';
import { agentNode, agentRoot, image, runAgent, type TempRoot } from './support.js';

// The bundled agent, as a child process, against IMDSv2 and SSM/Secrets Manager fakes on loopback.

const INCLUDE = 'etc/kamailio/sipbake-boot.cfg';
const RTP_ENV = 'etc/sipbake/rtpproxy-boot.env';
// Every character Kamailio's db_url parser takes verbatim: '@', '/', ':' and '%' included.
const PASSWORD = 'p@ss/w:rd%41 é S3cret!';

let imds: ImdsFake;
let aws: SecretsFake;
const roots: TempRoot[] = [];

beforeAll(async () => {
  aws = await startSecretsFake();
  aws.parameters.set('/sipbake/recorder-lb/db-password', { value: PASSWORD, secure: true });
  aws.secrets.set('sipbake/db', JSON.stringify({ username: 'kamailio', password: PASSWORD }));
  aws.parameters.set('/sipbake/slashed', { value: `S3cret/${PASSWORD}`, secure: true });
});
afterAll(async () => {
  await aws.close();
  await Promise.all(roots.map((r) => r.cleanup()));
});
afterEach(async () => {
  await imds?.close();
});

async function rootFor(...args: Parameters<typeof image>): Promise<TempRoot> {
  const r = await agentRoot(await image(...args));
  roots.push(r);
  return r;
}

function env(root: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SIPBAKE_ROOT: root,
    SIPBAKE_IMDS_ENDPOINT: imds.endpoint,
    SIPBAKE_SSM_ENDPOINT: aws.endpoint,
    SIPBAKE_SECRETSMANAGER_ENDPOINT: aws.endpoint,
    ...extra,
  };
}

async function leftovers(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of ['etc/kamailio', 'etc/sipbake']) out.push(...(await readdir(path.join(root, d))).filter((f) => f !== 'image.json').map((f) => `${d}/${f}`));
  return out;
}

describe('agent.mjs boot (bundled, child process)', () => {
  it('reads both addresses with an IMDSv2 token and writes the include and the rtpproxy env', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.1.23', publicIpv4: '203.0.113.7' });
    const r = await rootFor('recorder-lb', { advertise: { source: 'instance-public-ipv4' } });
    const res = await runAgent(r.agent, 'boot', env(r.root));
    expect(res.stderr).toContain('wrote');
    expect(res.exitCode).toBe(0);
    const inc = await readFile(path.join(r.root, INCLUDE), 'utf8');
    expect(inc).toContain('#!define SIPBAKE_PRIVATE_IP 10.0.1.23\n');
    expect(inc).toContain('#!define SIPBAKE_PUBLIC_IP 203.0.113.7\n');
    expect(inc).toContain('#!define SIPBAKE_PEER_NET "10.0.0.0/16"\n');
    expect(inc).not.toContain('substdef');
    expect(inc).toContain(`#!define SIPBAKE_CTL_SOCK "unix:${r.root}/run/kamailio/kamailio_ctl"`);
    expect(await readFile(path.join(r.root, RTP_ENV), 'utf8')).toBe('RTPPROXY_ADDR_OPTS="-l 10.0.1.23=203.0.113.7"\n');
    expect((await stat(path.join(r.root, INCLUDE))).mode & 0o777).toBe(0o640);
    // Every metadata GET carried a token; the PUT came first.
    const gets = imds.requests.filter((q) => q.method === 'GET');
    expect(gets.length).toBeGreaterThanOrEqual(2);
    expect(gets.every((q) => q.token)).toBe(true);
    expect(imds.requests[0]).toMatchObject({ method: 'PUT', path: '/latest/api/token', status: 200 });
  });

  it('on a 401 gets a new token and never uses the 401 answer', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.1.24', publicIpv4: '203.0.113.8' });
    imds.rejectNextTokenUse();
    const r = await rootFor('twilio-relay', { advertise: { source: 'instance-public-ipv4' } });
    const res = await runAgent(r.agent, 'boot', env(r.root));
    expect(res.exitCode).toBe(0);
    const inc = await readFile(path.join(r.root, INCLUDE), 'utf8');
    expect(inc).not.toContain(POISON_ADDRESS);
    expect(inc).toContain('#!define SIPBAKE_PRIVATE_IP 10.0.1.24\n');
    expect(imds.requests.filter((q) => q.status === 401)).toHaveLength(1);
    expect(imds.requests.filter((q) => q.method === 'PUT')).toHaveLength(2);
  });

  it('advertises the definition Elastic IP for advertise.source elastic-ip', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.1.25' });
    const r = await rootFor('twilio-relay', { advertise: { source: 'elastic-ip', elasticIp: '198.51.100.9' } });
    const res = await runAgent(r.agent, 'boot', env(r.root));
    expect(res.exitCode).toBe(0);
    const inc = await readFile(path.join(r.root, INCLUDE), 'utf8');
    expect(inc).toContain('#!define SIPBAKE_PUBLIC_IP 198.51.100.9\n');
    expect(imds.requests.some((q) => q.path.endsWith('public-ipv4'))).toBe(false);
  });

  it('fails with a fix when instance-public-ipv4 is asked for and the instance has none', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.1.26' });
    const r = await rootFor('twilio-relay', { advertise: { source: 'instance-public-ipv4' } });
    const res = await runAgent(r.agent, 'boot', env(r.root));
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/no public IPv4.*advertise\.source: elastic-ip/s);
    expect(await leftovers(r.root)).toEqual([]);
  });

  it('exits non-zero within its budget and writes nothing when IMDS is down', async () => {
    imds = await startImdsFake();
    imds.setDown(true);
    const r = await rootFor('recorder-lb');
    const res = await runAgent(r.agent, 'boot', env(r.root, { SIPBAKE_IMDS_TIMEOUT_SECONDS: '2' }));
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/did not answer meta-data\/local-ipv4 within 2 s/);
    expect(await leftovers(r.root)).toEqual([]);
  });

  it('puts the SSM SecureString password, verbatim as Kamailio parses it, into the DB URL and prints it nowhere', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.1.27', publicIpv4: '203.0.113.9', region: 'eu-west-1' });
    const r = await rootFor('recorder-lb');
    const res = await runAgent(r.agent, 'boot', env(r.root));
    expect(res.exitCode).toBe(0);
    const inc = await readFile(path.join(r.root, INCLUDE), 'utf8');
    expect(inc).toContain(`#!define SIPBAKE_DB_URL "postgres://kamailio:${PASSWORD}@database.example.com:5432/kamailio"`);
    const req = aws.requests.at(-1)!;
    expect(req).toMatchObject({
      target: 'AmazonSSM.GetParameter',
      body: { Name: '/sipbake/recorder-lb/db-password', WithDecryption: true },
      signed: true,
    });
    for (const out of [res.stdout, res.stderr]) {
      expect(out).not.toContain(PASSWORD);
      expect(out).not.toContain('S3cret');
    }
  });

  it('reads a Secrets Manager JSON secret by jsonKey', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.1.28', publicIpv4: '203.0.113.10' });
    const r = await rootFor('recorder-lb', {
      dispatcher: { backend: { password: { source: 'secretsmanager', name: 'sipbake/db', jsonKey: 'password' } } },
    });
    const res = await runAgent(r.agent, 'boot', env(r.root));
    expect(res.exitCode).toBe(0);
    expect(aws.requests.at(-1)).toMatchObject({
      target: 'secretsmanager.GetSecretValue',
      body: { SecretId: 'sipbake/db' },
    });
    expect(await readFile(path.join(r.root, INCLUDE), 'utf8')).toContain(`postgres://kamailio:${PASSWORD}@database.example.com:5432/`);
    expect(res.stderr).not.toContain(PASSWORD);
  });

  it.each([
    ['a missing SSM parameter', { source: 'ssm', name: '/nope' }, /ParameterNotFound.*create it in us-east-1/s],
    ['a missing JSON key', { source: 'secretsmanager', name: 'sipbake/db', jsonKey: 'pw' }, /no non-empty string under key "pw"/],
    [
      'a password Kamailio cannot parse',
      { source: 'ssm', name: '/sipbake/slashed' },
      /PostgreSQL password in SSM parameter \/sipbake\/slashed cannot be used: it has a '\/' before any '@'/,
    ],
  ])('fails on %s, says what to do, writes nothing and leaks nothing', async (_n, password, message) => {
    imds = await startImdsFake({ publicIpv4: '203.0.113.11' });
    const r = await rootFor('recorder-lb', { dispatcher: { backend: { password } } });
    const res = await runAgent(r.agent, 'boot', env(r.root));
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toContain(PASSWORD);
    expect(await leftovers(r.root)).toEqual([]);
  });
});

describe('the Node the agent runs on', () => {
  // CI runs this file again with SIPBAKE_TEST_NODE = Debian 12's node 18 (.ci/debian-node18.sh) and
  // SIPBAKE_AGENT_NODE_MAJOR=18: the image runs the agent on Debian's Node, not on the CI's.
  it('is the one CI asked for', async () => {
    const { execa } = await import('execa');
    const r = await execa(agentNode, ['-p', 'process.versions.node'], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const want = process.env.SIPBAKE_AGENT_NODE_MAJOR;
    if (want) expect(r.stdout.trim().split('.')[0]).toBe(want);
    else expect(Number(r.stdout.trim().split('.')[0])).toBeGreaterThanOrEqual(18);
  });
});
