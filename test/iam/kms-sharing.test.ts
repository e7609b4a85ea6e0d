// bake.kmsKeyId shared with bake.amiUsers: what `sipbake iam build --image NAME --key-policy` prints lets an
// amiUsers account use the key (EC2's grant at launch, its own create-grant for its Auto Scaling role, EBS's
// decrypt), evaluated across accounts (key policy AND the caller's policy); the same calls are denied without
// the printed key policy statements (the control), and a grant to any other principal stays denied.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import type { KeySharing } from '../../src/iam/kms-sharing.js';
import { keySharing } from '../../src/iam/kms-sharing.js';
import { FAKE_ACCOUNT } from '../fakes/aws/index.js';
import { keyUseAllowed } from '../fakes/aws/iam-kms.js';
import { buildFixture } from '../bake/build-support.js';

const USER = '210987654321';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY = `arn:aws:kms:us-east-1:${FAKE_ACCOUNT}:key/${KEY_ID}`;
const SLR = `arn:aws:iam::${USER}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
const LAUNCHER = `arn:aws:iam::${USER}:role/deployer`;

const scope = { regions: ['us-east-1'], account: FAKE_ACCOUNT, asgName: '*', image: 'twilio-relay', partition: 'aws' as const, launchTemplate: '*' };
const shared = (): KeySharing => {
  const k = keySharing({ ...scope, kmsKeyId: KEY_ID }, [USER]);
  if (!k) throw new Error('expected a key sharing');
  return k;
};

describe('KMS key sharing for amiUsers', () => {
  it('is printed only when both bake.kmsKeyId and bake.amiUsers are set', () => {
    expect(keySharing(scope, [USER])).toBeUndefined();
    expect(keySharing({ ...scope, kmsKeyId: KEY_ID }, [])).toBeUndefined();
    const k = shared();
    expect(k.keyArns).toEqual([KEY]);
    expect(k.grantCommands).toEqual([
      `[account ${USER}] aws kms create-grant --region us-east-1 --key-id ${KEY} --grantee-principal ${SLR} --operations Encrypt Decrypt ReEncryptFrom ReEncryptTo GenerateDataKey GenerateDataKeyWithoutPlaintext DescribeKey CreateGrant`,
    ]);
  });

  it.each([
    ['EC2 creates a grant for a launch', 'kms:CreateGrant', { 'kms:GrantIsForAWSResource': 'true', 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' }],
    ['the account grants its Auto Scaling role', 'kms:CreateGrant', { 'kms:GranteePrincipal': SLR }],
    ['EBS decrypts the snapshot', 'kms:Decrypt', { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' }],
    ['DescribeKey', 'kms:DescribeKey', {}],
  ])('%s: allowed with the printed statements, denied without them', async (_, action, context) => {
    const k = shared();
    const use = { principal: LAUNCHER, action, key: KEY, context };
    expect(await keyUseAllowed(use, k.userPolicy, k.keyPolicyStatements)).toBe(true);
    expect(await keyUseAllowed(use, k.userPolicy, [])).toBe(false);
  });

  it('never lets an amiUsers account grant the key to another principal, nor another account use it', async () => {
    const k = shared();
    const grant = { principal: LAUNCHER, action: 'kms:CreateGrant', key: KEY, context: { 'kms:GranteePrincipal': `arn:aws:iam::${USER}:role/anything` } };
    expect(await keyUseAllowed(grant, k.userPolicy, k.keyPolicyStatements)).toBe(false);
    const stranger = { principal: 'arn:aws:iam::333333333333:role/x', action: 'kms:Decrypt', key: KEY, context: {} };
    expect(await keyUseAllowed(stranger, k.userPolicy, k.keyPolicyStatements)).toBe(false);
  });

  it('`sipbake iam build --image NAME --key-policy` prints it; --explain shows it; without both fields it says why', async () => {
    const fx = await buildFixture({
      regions: ['us-east-1'],
      edit: (name, yaml) => (name === 'twilio-relay' ? yaml.replace(/^bake:\n/m, `bake:\n  amiUsers: ['${USER}']\n  kmsKeyId: ${KEY_ID}\n`) : yaml),
    });
    try {
      const run = async (...args: string[]) => {
        const reporter = new RecordingReporter(args.includes('--json'));
        const code = await main(['iam', 'build', '--image', 'twilio-relay', '--account', FAKE_ACCOUNT, ...args, '--root', fx.root], { reporter });
        return { code, reporter };
      };
      const json = await run('--key-policy', '--json');
      expect(json.code).toBe(0);
      expect(json.reporter.results[0]).toEqual(shared());
      const explained = await run('--explain');
      expect(explained.reporter.text()).toContain('AmiUsersGrantToTheirAutoScaling');
      expect(explained.reporter.text()).toContain('aws kms create-grant');
      const plain = await run();
      expect(plain.reporter.text()).toContain('--key-policy` prints what the key policy and those accounts need');
    } finally {
      await fx.cleanup();
    }
    const none = new RecordingReporter();
    const code = await main(['iam', 'build', '--key-policy', '--root', path.resolve(import.meta.dirname, '../..')], { reporter: none });
    expect(code).not.toBe(0);
    expect(none.text()).toMatch(/no --image given, so no key is shared/);
  });
});
