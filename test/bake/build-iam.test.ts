// The bake end to end on the AWS fake, IAM-evaluated: sipbake's own look-ups and the amazon-ebs builder's calls
// (test/fakes/aws/bake-model.ts, modelled from packer-plugin-amazon for the generated template's options) are
// each checked against `sipbake iam build --image twilio-relay` in their region.
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingReporter } from '../../src/core/reporter.js';
import { UserError } from '../../src/core/errors.js';
import { buildImage } from '../../src/bake/index.js';
import { AMI_TAG as TAG } from '../../src/contract/tags.js';
import type { Policy } from '../../src/iam/policies.js';
import path from 'node:path';
import { BUILDER_PUBLIC_IP, amazonEbsBuild, modelledPacker, seedDebianBase, templateOptions } from '../fakes/aws/bake-model.js';
import { repoRoot } from './helpers.js';
import { buildFixture, type BuildFixture } from './build-support.js';

let fx: BuildFixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

const relay = (bake: string) => (name: string, yaml: string) =>
  name === 'twilio-relay' ? yaml.replace(/^bake:\n {2}region: us-east-1$/m, `bake:\n  region: us-east-1\n${bake}`) : yaml;
const withoutAction =
  (action: string) =>
  (p: Policy): Policy => ({
    ...p,
    Statement: p.Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== action) })),
  });

async function bake(f: BuildFixture) {
  for (const h of f.regions.values()) if (h.fake.opts.region === 'us-east-1') seedDebianBase(h);
  const packer = modelledPacker(f.regions);
  const reporter = new RecordingReporter();
  const result = await buildImage(
    { image: 'twilio-relay' },
    {
      root: f.root,
      reporter,
      signal: new AbortController().signal,
      env: f.env(),
      ec2For: f.ec2For,
      renderer: 'silent',
      packer,
    },
  );
  return { result, reporter, packer };
}

describe('sipbake build on the fake with IAM evaluation (encrypt_boot, amiRegions, deprecation)', () => {
  it('bakes in us-east-1 and copies to us-west-2: temporary AMI, encrypted copies, temporary one removed, tags, deprecation', async () => {
    fx = await buildFixture({
      regions: ['us-east-1', 'us-west-2'],
      edit: relay('  amiRegions: [us-west-2]\n  deprecateAfterDays: 30'),
      amiSeconds: 120,
      consistencyLagSeconds: 5,
    });
    const { result } = await bake(fx);
    expect(result.action).toBe('built');
    const east = fx.regions.get('us-east-1')!.fake;
    const west = fx.regions.get('us-west-2')!.fake;
    for (const [region, f] of [
      ['us-east-1', east],
      ['us-west-2', west],
    ] as const) {
      const ami = f.images.get(result.amis[region]!)!;
      expect(ami.State).toBe('available');
      expect(ami.encrypted).toBe(true);
      expect(ami.Tags[TAG.contentHash]).toBe(result.contentHash);
      expect(ami.Tags[TAG.image]).toBe('twilio-relay');
      expect(ami.DeprecationTime).toBeDefined();
      expect(f.calls.some((c) => c.command === 'CopyImage' && (c.input as { SourceRegion: string }).SourceRegion === 'us-east-1')).toBe(true);
    }
    // The temporary unencrypted AMI (random name) was created, copied from, then deregistered with its snapshot.
    const temp = east.callsOf('CreateImage')[0]!.input as { Name: string };
    expect(temp.Name).toMatch(/^[a-z0-9]{7}$/);
    const tempAmi = [...east.images.values()].find((i) => i.Name === temp.Name)!;
    expect(tempAmi.State).toBe('deregistered');
    expect(tempAmi.encrypted).toBe(false);
    for (const s of tempAmi.snapshotIds!) expect(east.snapshots.has(s)).toBe(false);
    // Build instance, security group and key pair are gone; SSH was open only to the builder's /32.
    expect([...east.ec2Instances.values()].map((i) => i.State)).toEqual(['terminated']);
    expect(east.securityGroups.size).toBe(0);
    expect(east.keyPairs.size).toBe(0);
    const ingress = east.callsOf('AuthorizeSecurityGroupIngress')[0]!.input as {
      IpPermissions: { IpRanges: { CidrIp: string }[] }[];
    };
    expect(ingress.IpPermissions[0]!.IpRanges[0]!.CidrIp).toBe(`${BUILDER_PUBLIC_IP}/32`);
    // Every call was evaluated in its own region and allowed.
    for (const f of [east, west]) {
      expect(f.iam!.denials).toEqual([]);
      expect(f.iam!.evaluated.map((e) => e.action)).toEqual(expect.arrayContaining(['ec2:CopyImage', 'ec2:EnableImageDeprecation', 'ec2:DescribeImages']));
    }
    expect(east.iam!.evaluated.map((e) => e.action)).toEqual(expect.arrayContaining(['ec2:CreateImage', 'ec2:DeregisterImage', 'ec2:RunInstances']));
  });

  it('a second build finds the content in both regions and bakes nothing', async () => {
    fx = await buildFixture({ regions: ['us-east-1', 'us-west-2'], edit: relay('  amiRegions: [us-west-2]') });
    const first = await bake(fx);
    const again = await bake(fx);
    expect(again.result.action).toBe('skipped');
    expect(again.result.amis).toEqual(first.result.amis);
    expect(again.packer.runs).toHaveLength(0);
  });

  it.each([
    ['ec2:CopyImage', 'CopyImage'],
    ['ec2:EnableImageDeprecation', 'EnableImageDeprecation'],
  ])('without %s in the build policy the bake fails at %s, naming the action, and still cleans up', async (action, command) => {
    fx = await buildFixture({
      regions: ['us-east-1', 'us-west-2'],
      edit: relay('  amiRegions: [us-west-2]\n  deprecateAfterDays: 30'),
      iam: { policy: withoutAction(action), expectDenials: true },
    });
    const err = await bake(fx).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'UnauthorizedOperation' });
    expect(String((err as Error).message)).toContain(`denies ${action} on arn:aws:ec2:us-east-1::image/`);
    const east = fx.regions.get('us-east-1')!.fake;
    expect(east.iam!.denials.map((d) => d.command)).toEqual([command]);
    expect([...east.ec2Instances.values()].map((i) => i.State)).toEqual(['terminated']);
    expect(east.securityGroups.size).toBe(0);
  });

  it('the policy as printed before the fix (no CopyImage, no EnableImageDeprecation) fails the plain bake', async () => {
    const old = (p: Policy): Policy => withoutAction('ec2:EnableImageDeprecation')(withoutAction('ec2:CopyImage')(p));
    fx = await buildFixture({ regions: ['us-east-1'], iam: { policy: old, expectDenials: true } });
    await expect(bake(fx)).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
  });

  it('amiUsers with the AWS managed EBS key: build and build --plan refuse before anything is launched', async () => {
    fx = await buildFixture({ regions: ['us-east-1'], edit: relay("  amiUsers: ['210987654321']") });
    const err = await bake(fx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/bake\.amiUsers: AMIs are encrypted with the AWS managed EBS key/);
    expect(fx.regions.get('us-east-1')!.fake.callsOf('RunInstances')).toHaveLength(0);
    const plan = await buildImage(
      { image: 'twilio-relay', plan: true },
      {
        root: fx.root,
        reporter: new RecordingReporter(),
        signal: new AbortController().signal,
        env: fx.env(),
        ec2For: fx.ec2For,
        renderer: 'silent',
      },
    ).catch((e: unknown) => e);
    expect(plan).toBeInstanceOf(UserError);
    expect((plan as UserError).message).toBe((err as UserError).message);
  });

  it('the fake itself refuses the share, as AWS does, when the preflight is bypassed', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    seedDebianBase(fx.regions.get('us-east-1')!);
    const vars = {
      region: 'us-east-1',
      ami_regions: [],
      ami_users: ['210987654321'],
      deprecate_after_days: 0,
      image_name: 'twilio-relay',
      content_hash: 'c'.repeat(64),
      content_parts: '',
      kamailio_version: '5.5.7',
      rtpproxy_version: 'none',
      git_commit: 'x',
      architecture: 'x86_64',
      instance_type: 't3.small',
      manifest_path: '',
    };
    const t = await templateOptions(path.join(repoRoot, 'packer.pkr.hcl'));
    await expect(amazonEbsBuild(fx.regions, vars, t)).rejects.toMatchObject({
      name: 'InvalidParameter',
      message: expect.stringMatching(/AWS Managed CMK can't be shared/),
    });
    expect([...fx.regions.get('us-east-1')!.fake.ec2Instances.values()].map((i) => i.State)).toEqual(['terminated']);
  });

  it('build --plan refuses like build while pins.env is not ready, and never says it would bake', async () => {
    fx = await buildFixture({ regions: ['us-east-1'], pinsReady: false });
    const reporter = new RecordingReporter();
    const plan = await buildImage(
      { image: 'twilio-relay', plan: true },
      {
        root: fx.root,
        reporter,
        signal: new AbortController().signal,
        env: fx.env(),
        ec2For: fx.ec2For,
        renderer: 'silent',
      },
    ).catch((e: unknown) => e);
    const build = await buildImage(
      { image: 'twilio-relay' },
      {
        root: fx.root,
        reporter: new RecordingReporter(),
        signal: new AbortController().signal,
        env: fx.env(),
        ec2For: fx.ec2For,
        renderer: 'silent',
      },
    ).catch((e: unknown) => e);
    expect(reporter.text()).not.toContain('would run packer');
    expect(plan instanceof UserError && build instanceof UserError ? [plan.message, build.message] : [plan, build]).toEqual([
      (build as Error).message,
      (build as Error).message,
    ]);
  });
});
