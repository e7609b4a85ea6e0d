// The build policy, scoped to what Packer's amazon-ebs steps call, against modelled bakes: none of the old
// over-broad grants is needed; GovCloud (Packer tags nothing there) ends clean; a customer managed key bake.
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingReporter } from '../../src/core/reporter.js';
import { buildImage } from '../../src/bake/index.js';
import { policyFor, type Policy } from '../../src/iam/policies.js';
import { modelledPacker, seedDebianBase } from '../fakes/aws/bake-model.js';
import { FAKE_ACCOUNT } from '../fakes/aws/index.js';
import { buildFixture, type BuildFixture } from '../bake/build-support.js';

let fx: BuildFixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';

/** twilio-relay's bake section, rewritten. */
const relayBake = (bake: string) => (name: string, yaml: string) =>
  name === 'twilio-relay' ? yaml.replace(/^bake:\n {2}region: us-east-1$/m, `bake:\n${bake}`) : yaml;

async function bake(f: BuildFixture, home: string) {
  seedDebianBase(f.regions.get(home)!);
  return buildImage(
    { image: 'twilio-relay' },
    {
      root: f.root,
      reporter: new RecordingReporter(),
      signal: new AbortController().signal,
      env: f.env(),
      ec2For: f.ec2For,
      renderer: 'silent',
      packer: modelledPacker(f.regions),
    },
  );
}

/** What a bake leaves in a region: AMIs not deregistered, snapshots, build instances not terminated. */
function leftovers(f: BuildFixture, region: string) {
  const fake = f.regions.get(region)!.fake;
  return {
    amis: [...fake.images.values()].filter((i) => i.State !== 'deregistered' && i.OwnerId === fake.account).map((i) => i.Name),
    snapshots: [...fake.snapshots.values()].map((s) => ({ encrypted: s.encrypted, kmsKeyId: s.kmsKeyId })),
    running: [...fake.ec2Instances.values()].filter((i) => i.State !== 'terminated').map((i) => i.InstanceId),
    keyPairs: fake.keyPairs.size,
    groups: fake.securityGroups.size,
  };
}

/** The value a statement's condition requires of a key, under any operator. */
const conditionOn = (s: Policy['Statement'][number], key: string) => Object.values(s.Condition ?? {}).find((kv) => key in kv)?.[key];

describe('build policy scoped to the amazon-ebs steps', () => {
  it('grants none of the over-broad actions, and what Packer tags is tag-conditioned', () => {
    for (const region of ['us-east-1', 'us-gov-west-1']) {
      const p = policyFor('build', undefined, { account: FAKE_ACCOUNT, region });
      const actions = p.Statement.flatMap((s) => s.Action);
      for (const gone of [
        'ec2:CreateVolume',
        'ec2:AttachVolume',
        'ec2:DetachVolume',
        'ec2:CreateSnapshot',
        'ec2:RegisterImage',
        'ec2:ModifySnapshotAttribute',
        'ec2:GetPasswordData',
        'ec2:DeleteVolume',
        'ec2:ModifyInstanceAttribute',
      ])
        expect(actions, `${region}: ${gone}`).not.toContain(gone);
      for (const s of p.Statement) {
        if (s.Action.some((a) => /^ec2:(Describe)/.test(a))) continue;
        expect(s.Resource, `${s.Sid} on *`).not.toBe('*');
        if (s.Action.some((a) => /^ec2:(StopInstances|TerminateInstances)$/.test(a)))
          expect(conditionOn(s, 'aws:ResourceTag/sipbake:image'), s.Sid).toBeDefined();
      }
    }
  });

  it('roll policy: no RunInstances without ec2:LaunchTemplate, no PassRole on role/*, no tags but on create', () => {
    const p: Policy = policyFor('roll', undefined, { account: FAKE_ACCOUNT, launchTemplate: 'lt-0123456789abcdef0', instanceRole: 'sipbake-instance' });
    for (const s of p.Statement) {
      if (s.Action.includes('ec2:RunInstances')) expect(s.Condition?.ArnLike?.['ec2:LaunchTemplate'], s.Sid).toBeDefined();
      if (s.Action.includes('ec2:CreateTags')) expect(s.Condition?.StringEquals?.['ec2:CreateAction'], s.Sid).toBe('RunInstances');
      if (s.Action.includes('iam:PassRole')) expect(s.Resource, s.Sid).toBe(`arn:aws:iam::${FAKE_ACCOUNT}:role/sipbake-instance`);
      if (s.Action.includes('ec2:CreateLaunchTemplateVersion')) expect(s.Resource, s.Sid).toMatch(/:launch-template\/lt-0123456789abcdef0$/);
    }
    expect(policyFor('roll', undefined, { account: FAKE_ACCOUNT }).Statement.flatMap((s) => s.Action)).not.toContain('iam:PassRole');
  });

  it('a GovCloud bake ends clean: the untagged temporary AMI and its snapshot are removed, nothing denied', async () => {
    fx = await buildFixture({ regions: ['us-gov-west-1'], edit: relayBake('  region: us-gov-west-1') });
    const r = await bake(fx, 'us-gov-west-1');
    expect(Object.keys(r.amis)).toEqual(['us-gov-west-1']);
    const fake = fx.regions.get('us-gov-west-1')!.fake;
    expect(fake.iam!.denials).toEqual([]);
    // The temporary AMI was created untagged (IsRestricted), and removed under RemoveTheUntaggedTemporaryAmi.
    expect(fake.iam!.evaluated).toContainEqual(
      expect.objectContaining({ action: 'ec2:DeregisterImage', allowed: true, resource: expect.stringMatching(/^arn:aws-us-gov:/) }),
    );
    const left = leftovers(fx, 'us-gov-west-1');
    expect(left.amis).toHaveLength(1);
    expect(left.snapshots).toEqual([{ encrypted: true, kmsKeyId: 'alias/aws/ebs' }]);
    expect(left).toMatchObject({ running: [], keyPairs: 0, groups: 0 });
  });

  it('a customer managed key bake: copies in every region encrypted with bake.kmsKeyId, shared with amiUsers', async () => {
    fx = await buildFixture({
      regions: ['us-east-1', 'us-west-2'],
      edit: relayBake(`  region: us-east-1\n  amiRegions: [us-west-2]\n  amiUsers: ['210987654321']\n  kmsKeyId: ${KEY}`),
    });
    const r = await bake(fx, 'us-east-1');
    expect(Object.keys(r.amis).sort()).toEqual(['us-east-1', 'us-west-2']);
    for (const region of ['us-east-1', 'us-west-2']) {
      const fake = fx.regions.get(region)!.fake;
      expect(fake.iam!.denials, region).toEqual([]);
      const ami = fake.images.get(r.amis[region]!)!;
      expect(ami).toMatchObject({ encrypted: true, kmsKeyId: KEY, launchPermissions: ['210987654321'] });
      expect(fake.iam!.evaluated, region).toContainEqual({
        role: 'build',
        action: 'kms:CreateGrant',
        resource: `arn:aws:kms:${region}:${FAKE_ACCOUNT}:key/${KEY}`,
        allowed: true,
      });
    }
  });
});
