// Every policy `sipbake iam` can print (each role, with and without --image, both seeds, amiRegions, GovCloud)
// is evaluated against the calls of its own scenario on the AWS fake, and contains no StringEquals with a wildcard.
import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { buildImage } from '../../src/bake/index.js';
import { deploySchema } from '../../src/definition/deploy-schema.js';
import type { Policy } from '../../src/iam/policies.js';
import { peerFinder } from '../../src/agent/peers.js';
import { modelledPacker, seedDebianBase } from '../fakes/aws/bake-model.js';
import { createFakeAws, FAKE_ACCOUNT, installFakeAws } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';
import { buildFixture, type BuildFixture } from '../bake/build-support.js';
import { run } from '../roll/helpers.js';

const root = path.resolve(import.meta.dirname, '../..');
let fx: BuildFixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

async function printed(root: string, ...args: string[]): Promise<Policy> {
  const reporter = new RecordingReporter(true);
  const code = await main(['iam', ...args, '--account', FAKE_ACCOUNT, '--json', '--root', root], { reporter });
  expect(code).toBe(0);
  return reporter.results[0] as Policy;
}

/** Every condition operator/value pair, for the StringEquals-with-wildcard check. */
function wildcardEquals(p: Policy): string[] {
  return p.Statement.flatMap((s) =>
    Object.entries(s.Condition ?? {}).flatMap(([op, kv]) =>
      /^String(Not)?Equals/.test(op)
        ? Object.entries(kv)
            .filter(([, v]) => [v].flat().some((x) => /[*?]/.test(x)))
            .map(([k, v]) => `${s.Sid}: ${op} ${k} ${JSON.stringify(v)}`)
        : [],
    ),
  );
}

const seeds = [
  {
    image: 'twilio-relay',
    asg: 'kamailio-lb-asg',
    tg: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kamailio-lb-tg/0123456789abcdef',
  },
  {
    image: 'recorder-lb',
    asg: 'recorder-lb-asg',
    tg: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/recorder-lb-tg/0123456789abcdef',
  },
];

describe('sipbake iam: every printable policy', () => {
  it.each([['build'], ['roll'], ['instance']])(
    '%s: no StringEquals with a wildcard, with or without --image, for both seeds and a GovCloud region',
    async (role) => {
      const variants = [[], ['--image', 'twilio-relay'], ['--image', 'recorder-lb'], ['--image', 'twilio-relay', '--region', 'us-gov-west-1']];
      for (const v of variants) {
        const p = await printed(root, role, ...v);
        expect(wildcardEquals(p), `sipbake iam ${role} ${v.join(' ')}`).toEqual([]);
        if (v.includes('us-gov-west-1')) expect(JSON.stringify(p)).not.toMatch(/arn:aws:/);
      }
    },
  );

  describe.each([[undefined], ...seeds.map((s) => [s.image])] as [string | undefined][])(
    'roll policy (--image %s) against a roll, a rollback, status and history',
    (image) => {
      it.each(seeds)('on the $image group', async (seed) => {
        if (image && image !== seed.image) return; // a policy scoped to one image is not meant for the other's group
        const policy = await printed(root, 'roll', ...(image ? ['--image', image] : []));
        const h = createFakeAws({ iam: { role: 'roll', image: seed.image, policy } });
        try {
          const world = seedWorld(h.fake, {
            image: seed.image,
            asgName: seed.asg,
            targetGroupArn: seed.tg,
            desired: 2,
          });
          const deploy = deploySchema.parse({
            region: 'us-east-1',
            asgName: seed.asg,
            targetGroupArns: [seed.tg],
            refresh: { instanceWarmup: 60, bakeTime: 0 },
          });
          const harness = { ...h, world, deploy };
          const rolled = await run(harness, { image: seed.image });
          expect(rolled.exitCode, rolled.reporter.text()).toBe(0);
          const back = await run(harness, { kind: 'rollback', image: seed.image, ami: world.oldAmi.ImageId });
          expect(back.exitCode, back.reporter.text()).toBe(0);
          const restore = installFakeAws(h.fake);
          try {
            for (const cmd of ['status', 'history']) {
              const reporter = new RecordingReporter();
              expect(
                await main([cmd, seed.image, '--root', root], {
                  reporter,
                  env: {},
                  signal: new AbortController().signal,
                }),
                `${cmd}: ${reporter.text()}`,
              ).toBe(0);
            }
          } finally {
            restore();
          }
          expect(h.fake.iam!.denials).toEqual([]);
          const actions = new Set(h.fake.iam!.evaluated.map((e) => e.action));
          for (const a of ['autoscaling:StartInstanceRefresh', 'ec2:CreateLaunchTemplateVersion', 'ec2:RunInstances', 'autoscaling:CreateOrUpdateTags'])
            expect(actions).toContain(a);
        } finally {
          h.restore();
        }
      });
    },
  );

  it.each([[undefined], ...seeds.map((s) => [s.image])] as [string | undefined][])(
    'instance policy (--image %s) against the drain agent’s calls and its boot secrets',
    async (image) => {
      const seed = seeds.find((s) => s.image === (image ?? 'recorder-lb'))!;
      const policy = await printed(root, 'instance', ...(image ? ['--image', image] : []));
      const h = createFakeAws({ drainAgent: false, iam: { role: 'instance', image: seed.image, policy } });
      try {
        const w = seedWorld(h.fake, {
          image: seed.image,
          asgName: seed.asg,
          targetGroupArn: seed.tg,
          desired: 2, // a peer to hand off to
          heartbeat: 300,
        });
        const i = [...h.fake.instances.values()][0]!;
        h.fake.beginTermination(i);
        h.fake.advance(1000);
        const asg = h.clients.autoScaling;
        await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [i.InstanceId] }));
        await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: w.asg.AutoScalingGroupName }));
        // The drain's hand-off: the group's serving peers and their private addresses.
        await peerFinder({ autoScaling: asg, ec2: h.clients.ec2, instanceId: i.InstanceId }).find();
        expect(h.fake.calls.slice(-2).map((c) => c.command)).toEqual(['DescribeAutoScalingGroups', 'DescribeInstances']);
        const hook = {
          AutoScalingGroupName: w.asg.AutoScalingGroupName,
          LifecycleHookName: 'sipbake-drain',
          InstanceId: i.InstanceId,
        };
        await asg.send(new RecordLifecycleActionHeartbeatCommand(hook));
        await asg.send(new CompleteLifecycleActionCommand({ ...hook, LifecycleActionResult: 'CONTINUE' }));
        // Boot secrets are read from SSM (not served by this fake): evaluate the reads the agent makes directly.
        if (seed.image === 'recorder-lb') {
          const param = `arn:aws:ssm:us-east-1:${FAKE_ACCOUNT}:parameter/sipbake/recorder-lb/db-password`;
          await h.fake.iam!.check('instance', 'GetParameter', {
            action: 'ssm:GetParameter',
            resource: param,
            context: { 'aws:RequestedRegion': 'us-east-1' },
          });
          await h.fake.iam!.check('instance', 'Decrypt', {
            action: 'kms:Decrypt',
            resource: `arn:aws:kms:us-east-1:${FAKE_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
            context: { 'aws:RequestedRegion': 'us-east-1', 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' },
          });
        }
        expect(h.fake.iam!.denials).toEqual([]);
      } finally {
        h.restore();
      }
    },
  );

  it.each([
    ['--image twilio-relay', ['--image', 'twilio-relay'], []],
    ['--image twilio-relay with amiRegions', ['--image', 'twilio-relay'], ['us-west-2', 'eu-west-1']],
    ['no --image', [], ['us-west-2']],
  ])('build policy (%s) against a bake with encrypt_boot, copies and deprecation', async (_name, args, extra) => {
    fx = await buildFixture({
      regions: ['us-east-1', ...extra],
      edit: (name, yaml) =>
        name === 'twilio-relay' && extra.length
          ? yaml.replace(/^bake:\n {2}region: us-east-1$/m, `bake:\n  region: us-east-1\n  amiRegions: [${extra.join(', ')}]\n  deprecateAfterDays: 90`)
          : yaml,
    });
    const policy = await printed(fx.root, 'build', ...args);
    for (const h of fx.regions.values()) h.fake.iam!.usePolicy(policy);
    seedDebianBase(fx.regions.get('us-east-1')!);
    const r = await buildImage(
      { image: 'twilio-relay' },
      {
        root: fx.root,
        reporter: new RecordingReporter(),
        signal: new AbortController().signal,
        env: fx.env(),
        ec2For: fx.ec2For,
        renderer: 'silent',
        packer: modelledPacker(fx.regions),
      },
    );
    expect(Object.keys(r.amis).sort()).toEqual(['us-east-1', ...extra].sort());
    for (const h of fx.regions.values()) expect(h.fake.iam!.denials).toEqual([]);
  });
});
