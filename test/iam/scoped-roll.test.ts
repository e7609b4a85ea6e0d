// The roll policy launches only through the group's launch template and passes only the instance role: the fake
// evaluates what StartInstanceRefresh implies (RunInstances with ec2:LaunchTemplate, CreateTags on create,
// iam:PassRole of the template's instance profile role) against the policy `sipbake iam roll` prints.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import type { Policy } from '../../src/iam/policies.js';
import { FAKE_ACCOUNT } from '../fakes/aws/index.js';
import { harness, run, type Harness } from '../roll/helpers.js';

const root = path.resolve(import.meta.dirname, '../..');

async function printed(...args: string[]): Promise<Policy> {
  const reporter = new RecordingReporter(true);
  expect(await main(['iam', 'roll', '--image', 'twilio-relay', '--account', FAKE_ACCOUNT, '--json', '--root', root, ...args], { reporter })).toBe(0);
  return reporter.results[0] as Policy;
}

/** A seed world whose launch template names an instance profile (and tags its instances), rolled under `policy`. */
async function world(o: { profileRole: string; expectDenials?: boolean }): Promise<Harness> {
  const h = harness({ fake: { iam: { role: 'roll', image: 'twilio-relay', expectDenials: o.expectDenials ?? false } } });
  const data = h.world.lt.versions[0]!.data;
  data.IamInstanceProfile = { Name: o.profileRole };
  data.TagSpecifications = [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'kamailio-lb' }] }];
  return h;
}

const scoped = (h: Harness) => printed('--launch-template', h.world.lt.LaunchTemplateId, '--instance-role', 'sipbake-instance');

describe('roll policy scoped to the group’s launch template and instance role', () => {
  it('rolls when the launch template names the instance role: PassRole, RunInstances and CreateTags are evaluated', async () => {
    const h = await world({ profileRole: 'sipbake-instance' });
    try {
      h.fake.iam!.usePolicy(await scoped(h));
      const r = await run(h);
      expect(r.exitCode, r.reporter.text()).toBe(0);
      expect(h.fake.iam!.denials).toEqual([]);
      const allowed = h.fake.iam!.evaluated.filter((e) => e.allowed);
      expect(allowed).toContainEqual(expect.objectContaining({ action: 'iam:PassRole', resource: `arn:aws:iam::${FAKE_ACCOUNT}:role/sipbake-instance` }));
      expect(allowed).toContainEqual(expect.objectContaining({ action: 'ec2:RunInstances', resource: expect.stringMatching(/:instance\/\*$/) }));
      expect(allowed).toContainEqual(expect.objectContaining({ action: 'ec2:CreateTags', resource: expect.stringMatching(/:instance\/\*$/) }));
    } finally {
      h.restore();
    }
  });

  it('a launch template whose instance profile holds another role is refused: iam:PassRole denied', async () => {
    const h = await world({ profileRole: 'admin', expectDenials: true });
    try {
      h.fake.iam!.usePolicy(await scoped(h));
      const r = await run(h);
      expect(r.exitCode).not.toBe(0);
      expect(h.fake.iam!.denials.map((d) => `${d.action} ${d.resource}`)).toEqual([`iam:PassRole arn:aws:iam::${FAKE_ACCOUNT}:role/admin`]);
      expect(r.reporter.text()).toMatch(/iam:PassRole/);
    } finally {
      h.restore();
    }
  });

  it('a policy for another launch template may neither version nor launch through this one', async () => {
    const h = await world({ profileRole: 'sipbake-instance', expectDenials: true });
    try {
      h.fake.iam!.usePolicy(await printed('--launch-template', 'lt-0fffffffffffffff0', '--instance-role', 'sipbake-instance'));
      const r = await run(h);
      expect(r.exitCode).not.toBe(0);
      expect(h.fake.iam!.denials[0]).toMatchObject({ action: 'ec2:CreateLaunchTemplateVersion' });
    } finally {
      h.restore();
    }
  });
});
