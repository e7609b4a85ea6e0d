import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { AMI_TAG as TAG } from '../../src/contract/tags.js';
import { buildFixture, type BuildFixture } from './build-support.js';

let fx: BuildFixture | undefined;
let restore: (() => void) | undefined;
afterEach(async () => {
  restore?.();
  restore = undefined;
  await fx?.cleanup();
  fx = undefined;
});

async function cli(argv: string[], env: NodeJS.ProcessEnv = process.env) {
  const reporter = new RecordingReporter(argv.includes('--json'));
  const code = await main(argv, { reporter, env, signal: new AbortController().signal });
  return { code, reporter };
}

describe('CLI: build, packer, pin', () => {
  it.each([['build'], ['packer'], ['pin']])('%s --help exits 0', async (cmd) => {
    const { code, reporter } = await cli([cmd, '--help']);
    expect(code).toBe(0);
    expect(reporter.text()).toContain('--json');
  });

  it('build --plan --json prints one document with the hash and the decision, and runs no packer', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    const fake = new FakeAws({ iam: { role: 'build', root: fx.root } });
    restore = installFakeAws(fake);
    const { code, reporter } = await cli(['build', 'twilio-relay', '--plan', '--json', '--root', fx.root], {
      ...fx.env(),
      AWS_ACCESS_KEY_ID: 'FAKE',
      AWS_SECRET_ACCESS_KEY: 'FAKE',
    });
    expect(code).toBe(0);
    const doc = reporter.results[0] as Record<string, unknown>;
    expect(doc).toMatchObject({
      ok: true,
      action: 'planned',
      bake: true,
      image: 'twilio-relay',
      regions: ['us-east-1'],
    });
    expect(doc.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await fx.calls()).toEqual([]);
  });

  it('build --json on a hit returns the AMI and exit 0', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    const fake = new FakeAws({ iam: { role: 'build', root: fx.root } });
    restore = installFakeAws(fake);
    const env = { ...fx.env(), AWS_ACCESS_KEY_ID: 'FAKE', AWS_SECRET_ACCESS_KEY: 'FAKE' };
    const plan = await cli(['build', 'twilio-relay', '--plan', '--json', '--root', fx.root], env);
    const hash = (plan.reporter.results[0] as { contentHash: string }).contentHash;
    const ami = fake.addImage({ Tags: { [TAG.image]: 'twilio-relay', [TAG.contentHash]: hash } }).ImageId;
    const { code, reporter } = await cli(['build', 'twilio-relay', '--json', '--root', fx.root], env);
    expect(code).toBe(0);
    expect(reporter.results[0]).toMatchObject({ ok: true, action: 'skipped', amis: { 'us-east-1': ami } });
  });

  it('build of an unknown image is a user error (exit 1) that names the file', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    const { code, reporter } = await cli(['build', 'nope', '--root', fx.root], fx.env());
    expect(code).toBe(1);
    expect(reporter.text()).toContain('images/nope.yaml');
  });

  it('packer --check --json reports the checked-in template as up to date', async () => {
    const { code, reporter } = await cli(['packer', '--check', '--json']);
    expect(code).toBe(0);
    expect(reporter.results[0]).toMatchObject({ ok: true });
  });
});
