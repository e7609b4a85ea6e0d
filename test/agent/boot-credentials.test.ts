import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fromInstanceMetadata } from '@smithy/credential-provider-imds';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { startSecretsFake, type SecretsFake } from '../fakes/ssm.js';
import { agentRoot, image, runAgent, type TempRoot } from './support.js';

// The real instance-role path: no static keys anywhere, the bundled agent gets the role's credentials
// from the IMDSv2 fake (token, then iam/security-credentials/ROLE) through the SDK's provider as boot
// configures it, and signs the SSM read with them. Faults: a slow first answer (1.5 s) and a 500.

const ROLE = {
  role: 'sipbake-recorder-lb',
  accessKeyId: 'ASIAFAKEINSTANCEROLE',
  secretAccessKey: 'fake-role-secret',
  token: 'fake-session-token-1',
};
const PARAM = '/sipbake/recorder-lb/db-password';
const NO_STATIC_KEYS = {
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_EC2_METADATA_DISABLED: '',
  AWS_PROFILE: '',
};

let imds: ImdsFake | undefined;
let aws: SecretsFake;
const roots: TempRoot[] = [];

beforeAll(async () => {
  aws = await startSecretsFake();
  aws.parameters.set(PARAM, { value: 'role-path-pw', secure: true });
});
afterAll(async () => {
  await aws.close();
  await Promise.all(roots.map((r) => r.cleanup()));
});
afterEach(async () => {
  await imds?.close();
  imds = undefined;
});

async function root(patch: Record<string, unknown> = {}): Promise<TempRoot> {
  const r = await agentRoot(await image('recorder-lb', patch));
  roots.push(r);
  return r;
}

function env(r: TempRoot, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SIPBAKE_ROOT: r.root,
    SIPBAKE_IMDS_ENDPOINT: imds!.endpoint,
    SIPBAKE_SSM_ENDPOINT: aws.endpoint,
    ...NO_STATIC_KEYS,
    ...extra,
  };
}

describe('boot credentials: the instance role through IMDSv2', () => {
  it('survives a 1.5 s first answer and a 500, then signs the SSM read with the role', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.2.10', role: ROLE });
    imds.fault('/latest/meta-data/iam/security-credentials/', { delayMs: 1500 });
    imds.fault(`/latest/meta-data/iam/security-credentials/${ROLE.role}`, { status: 500 });
    const r = await root();
    const before = aws.requests.length;
    const res = await runAgent(r.agent, 'boot', env(r));
    expect(res.exitCode, res.stderr).toBe(0);
    const reads = aws.requests.slice(before);
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.at(-1)).toMatchObject({
      target: 'AmazonSSM.GetParameter',
      signed: true,
      accessKeyId: ROLE.accessKeyId,
      sessionToken: ROLE.token,
    });
    // IMDSv2 only: every credential GET carried a session token, the slow answer and the 500 were both met.
    const cred = imds.requests.filter((q) => q.path.includes('security-credentials'));
    expect(cred.every((q) => q.token)).toBe(true);
    expect(cred.some((q) => q.status === 500)).toBe(true);
    expect(cred.filter((q) => q.status === 200).length).toBeGreaterThanOrEqual(2);
    for (const out of [res.stdout, res.stderr]) {
      expect(out).not.toContain(ROLE.secretAccessKey);
      expect(out).not.toContain('role-path-pw');
    }
    expect(JSON.parse(await readFile(path.join(r.root, 'run/sipbake/boot.json'), 'utf8'))).toMatchObject({
      ok: true,
      privateIp: '10.0.2.10',
      advertise: 'elastic-ip',
    });
  });

  it("the SDK's defaults (1 s, no retry) lose the same slow first answer: the reason boot configures the provider", async () => {
    imds = await startImdsFake({ localIpv4: '10.0.2.11', role: ROLE });
    imds.fault('/latest/meta-data/iam/security-credentials/', { delayMs: 1500 });
    const saved = process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.endpoint;
    try {
      await expect(fromInstanceMetadata({ ec2MetadataV1Disabled: true })()).rejects.toThrow();
    } finally {
      if (saved === undefined) delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
      else process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = saved;
    }
  });

  it('retries a failing secret read with backoff, then succeeds', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.2.12', role: ROLE });
    // The SDK client makes 4 attempts per read; 6 failures need boot's own retry on top.
    aws.failNext(6);
    const r = await root();
    const res = await runAgent(r.agent, 'boot', env(r));
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/reading the PostgreSQL password failed \(attempt 1\).*retrying in/);
  });

  it('gives up at the boot deadline with the reason, writes nothing and records the failure', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.2.13' }); // no role: credentials never come
    const r = await root();
    const t0 = Date.now();
    const res = await runAgent(r.agent, 'boot', env(r, { SIPBAKE_BOOT_DEADLINE_SECONDS: '3' }));
    expect(res.exitCode).toBe(1);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(res.stderr).toMatch(/cannot read the PostgreSQL password from SSM parameter/);
    expect(res.stderr).toMatch(/attach the instance profile/);
    const result = JSON.parse(await readFile(path.join(r.root, 'run/sipbake/boot.json'), 'utf8'));
    expect(result).toMatchObject({ ok: false });
    expect(result.error).toMatch(/PostgreSQL password/);
  });
});

describe('boot resolves dispatcher destination names', () => {
  const destinations = [
    { host: '10.0.0.3', port: 5060, transport: 'udp' },
    { host: 'recorder9.invalid', port: 5080, transport: 'tcp' },
  ];

  it('fails loudly (non-zero, journal line naming the host) when one does not resolve', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.2.14' });
    const r = await root({ dispatcher: { destinations } });
    const before = aws.requests.length;
    const res = await runAgent(r.agent, 'boot', env(r, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }));
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/dispatcher destination host\(s\) do not resolve: recorder9\.invalid \(ENOTFOUND\).*dispatcher\.allowUnresolved: true/s);
    // It fails before any secret is read, and writes no include for Kamailio to start with.
    expect(aws.requests.length).toBe(before);
    expect(JSON.parse(await readFile(path.join(r.root, 'run/sipbake/boot.json'), 'utf8'))).toMatchObject({ ok: false });
  });

  it('starts with a warning when the definition allows it', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.2.15' });
    const r = await root({ dispatcher: { destinations, allowUnresolved: true } });
    const res = await runAgent(r.agent, 'boot', env(r, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }));
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/warning: dispatcher destination\(s\) do not resolve: recorder9\.invalid/);
  });

  it('resolves names that do resolve (localhost) without a word', async () => {
    imds = await startImdsFake({ localIpv4: '10.0.2.16' });
    const r = await root({ dispatcher: { destinations: [{ host: 'localhost', port: 5060, transport: 'udp' }] } });
    const res = await runAgent(r.agent, 'boot', env(r, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }));
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).not.toMatch(/resolve/);
  });
});
