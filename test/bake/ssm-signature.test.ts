// scripts/lib/verify-signature.sh, the check 00-base.sh runs on the SSM agent .deb, with a locally generated gpg key
// standing in for AWS's; and the pinned AWS key file is the key whose fingerprint pins.env pins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePins } from '../../src/bake/pins.js';
import { scriptsDir } from './helpers.js';

let dir = '';
const gpg = (home: string, args: string[], o: { faked?: string } = {}) =>
  execa('gpg', ['--homedir', home, '--batch', '--passphrase', '', ...(o.faked ? ['--faked-system-time', o.faked] : []), ...args], { all: true });

/** A signing key in its own keyring: its armored public key file and fingerprint. */
async function signer(name: string, o: { faked?: string; expire?: string } = {}) {
  const home = path.join(dir, name);
  await execa('mkdir', ['-m', '700', home]);
  await gpg(home, ['--quick-gen-key', `${name} <${name}@example.com>`, 'ed25519', 'sign', o.expire ?? '1y'], o);
  const fpr = (await gpg(home, ['--with-colons', '--list-keys'])).stdout
    .split('\n')
    .find((l) => l.startsWith('fpr'))!
    .split(':')[9]!;
  const key = path.join(dir, `${name}.asc`);
  await writeFile(key, (await gpg(home, ['--armor', '--export', fpr])).stdout);
  const sign = async (file: string, faked?: string): Promise<void> => {
    await gpg(home, ['--detach-sign', '-o', `${file}.sig`, file], faked ? { faked } : {});
  };
  return { fpr, key, sign };
}

async function verify(key: string, pin: string, sig: string, file: string) {
  const script = `. lib/common.sh; . lib/verify-signature.sh; verify_signature "$@"`;
  return execa('bash', ['-c', script, 'verify', key, pin, sig, file], {
    cwd: scriptsDir,
    reject: false,
    all: true,
    env: { SIPBAKE_ROOT: dir },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sipbake-sig-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SSM agent signature verification (scripts/lib/verify-signature.sh)', () => {
  it('accepts a good signature by the pinned key and refuses a tampered file, another key, and a wrong pin', async () => {
    const aws = await signer('stand-in-aws');
    const other = await signer('someone-else');
    const deb = path.join(dir, 'amazon-ssm-agent.deb');
    await writeFile(deb, 'a .deb payload\n');
    await aws.sign(deb);
    const ok = await verify(aws.key, aws.fpr, `${deb}.sig`, deb);
    expect(ok.exitCode, ok.all).toBe(0);
    expect(ok.all).toContain(`good signature on amazon-ssm-agent.deb by the pinned key ${aws.fpr}`);
    // The pin may be written with spaces and in lower case, as AWS's page prints it.
    const spaced = aws.fpr
      .toLowerCase()
      .replace(/(.{4})/g, '$1 ')
      .trim();
    expect((await verify(aws.key, spaced, `${deb}.sig`, deb)).exitCode).toBe(0);

    const wrongPin = await verify(aws.key, other.fpr, `${deb}.sig`, deb);
    expect(wrongPin.exitCode).toBe(1);
    expect(wrongPin.all).toContain('is not the pinned key');

    // Signed by another key, with that key's file swapped in: the pin still refuses it.
    const forged = path.join(dir, 'forged.deb');
    await writeFile(forged, 'a .deb payload\n');
    await other.sign(forged);
    expect((await verify(other.key, aws.fpr, `${forged}.sig`, forged)).exitCode).toBe(1);
    // Signed by another key, checked against the real key: no good signature by the pinned key.
    const noGood = await verify(aws.key, aws.fpr, `${forged}.sig`, forged);
    expect(noGood.exitCode).toBe(1);
    expect(noGood.all).toMatch(/no good signature by the pinned key/);

    await appendFile(deb, 'tampered\n');
    const bad = await verify(aws.key, aws.fpr, `${deb}.sig`, deb);
    expect(bad.exitCode).toBe(1);
    expect(bad.all).toContain('BAD signature');
  });

  it('a signature made while the key was valid still verifies after the key expired (with a warning)', async () => {
    const old = await signer('expired-aws', { faked: '20200101T000000!', expire: '1d' });
    const deb = path.join(dir, 'old.deb');
    await writeFile(deb, 'signed in 2020\n');
    await old.sign(deb, '20200101T120000!');
    const r = await verify(old.key, old.fpr, `${deb}.sig`, deb);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toContain('the pinned key has expired since it signed');
  });

  it("pins.env pins the fingerprint of the AWS key file in the repository (AWS's SSM Agent signing key)", async () => {
    const pins = parsePins(await readFile(path.join(scriptsDir, 'pins.env'), 'utf8'));
    expect(pins.SSM_AGENT_KEY_FINGERPRINT).toBe('DE92C7DA3E56E92331D62A36BC1F495C97DD04ED');
    const home = await mkdtemp(path.join(dir, 'show-'));
    const shown = await execa('gpg', [
      '--homedir',
      home,
      '--batch',
      '--with-colons',
      '--import-options',
      'show-only',
      '--import',
      path.join(scriptsDir, 'keys/amazon-ssm-agent.asc'),
    ]);
    const fpr = shown.stdout
      .split('\n')
      .find((l) => l.startsWith('fpr'))!
      .split(':')[9];
    expect(fpr).toBe(pins.SSM_AGENT_KEY_FINGERPRINT);
    expect(shown.stdout).toContain('SSM Agent <ssm-agent-signer@amazon.com>');
    // 00-base.sh downloads URL.sig beside the .deb and runs the check before dpkg -i.
    const base = await readFile(path.join(scriptsDir, '00-base.sh'), 'utf8');
    expect(base.indexOf('verify_signature')).toBeGreaterThan(-1);
    expect(base.indexOf('verify_signature')).toBeLessThan(base.indexOf('dpkg -i'));
    expect(base).toContain('"$url.sig"');
  });
});
