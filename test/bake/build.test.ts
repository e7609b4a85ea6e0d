import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { AbortError, ProcessError, UserError } from '../../src/core/errors.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { buildImage, type BuildOptions } from '../../src/bake/index.js';
import { AMI_TAG as TAG } from '../../src/contract/tags.js';
import { buildFixture, type BuildFixture } from './build-support.js';

let fx: BuildFixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

const withRegions = (regions: string[]) => (name: string, yaml: string) =>
  name === 'twilio-relay' ? yaml.replace(/^bake:\n {2}region: us-east-1$/m, `bake:\n  region: us-east-1\n  amiRegions: [${regions.join(', ')}]`) : yaml;

async function run(o: Partial<BuildOptions> & { mode?: string; signal?: AbortSignal } = {}) {
  const reporter = new RecordingReporter();
  const result = await buildImage(
    { image: 'twilio-relay', ...o },
    {
      root: fx!.root,
      reporter,
      signal: o.signal ?? new AbortController().signal,
      env: fx!.env(o.mode),
      ec2For: fx!.ec2For,
      renderer: 'silent',
    },
  );
  return { result, reporter };
}

/** Registers an AMI of `hash` in `region`'s fake, as a previous bake would have. */
function haveAmi(region: string, hash: string, extra: Record<string, string> = {}): string {
  return fx!.regions.get(region)!.fake.addImage({ Tags: { [TAG.image]: 'twilio-relay', [TAG.contentHash]: hash, ...extra } }).ImageId;
}

async function currentHash(): Promise<string> {
  const { result } = await run({ plan: true });
  return result.contentHash;
}

/** The work directories this test's packer ran in (its cwd, from the fake's call log) that still exist. */
async function ownBakeDirsLeft(): Promise<string[]> {
  return [...new Set((await fx!.calls()).map((c) => c.cwd))].filter((d) => existsSync(d));
}

describe('sipbake build (fake packer on PATH, stateful EC2 fake per region)', () => {
  it('dedup miss: runs packer init and build, reads the manifest, prints the AMI per region', async () => {
    fx = await buildFixture({ regions: ['us-east-1', 'eu-west-1'], edit: withRegions(['eu-west-1']) });
    const { result, reporter } = await run();
    expect(result.action).toBe('built');
    expect(Object.keys(result.amis).sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(result.amis['us-east-1']).toMatch(/^ami-0fake/);
    const calls = await fx.calls();
    expect(calls.map((c) => c.argv[0])).toEqual(['init', 'build']);
    expect(calls[1]!.argv).toEqual(expect.arrayContaining(['-machine-readable', '-on-error=cleanup']));
    expect(reporter.text()).toContain('no AMI with content');
    expect(reporter.text()).toMatch(/us-east-1: ami-0fake/);
    // Progress stages parsed from the machine-readable output, in order.
    const stages = reporter.lines.filter((l) => l.message.startsWith('packer: ')).map((l) => l.message.slice('packer: '.length));
    expect(stages).toEqual([
      'preparing',
      'launching the build instance',
      'waiting for SSH',
      'connected',
      'uploading the rendered tree and scripts',
      'running 00-base',
      'running 90-cleanup',
      'stopping the build instance',
      'creating the AMI',
      'waiting for the AMI',
      'copying to other regions',
      'cleaning up',
      'writing the manifest',
    ]);
    // The var file carried the image's values into the one template.
    expect(calls[1]!.argv).toContain('-var-file=sipbake.pkrvars.hcl');
    // DescribeImages asked each region for the image's content hash by tag.
    for (const [, h] of fx.regions) {
      const q = h.fake.calls.find((c) => c.command === 'DescribeImages')!;
      expect(q.input.Filters).toEqual(expect.arrayContaining([{ Name: `tag:${TAG.contentHash}`, Values: [result.contentHash] }]));
    }
    // Other test files bake in parallel in the same tmpdir: only this test's own work directory counts.
    expect(await ownBakeDirsLeft()).toEqual([]);
  });

  it('dedup hit: every target region has the content, so nothing is built', async () => {
    fx = await buildFixture({ regions: ['us-east-1', 'eu-west-1'], edit: withRegions(['eu-west-1']) });
    const hash = await currentHash();
    const east = haveAmi('us-east-1', hash);
    const west = haveAmi('eu-west-1', hash);
    const { result, reporter } = await run();
    expect(result.action).toBe('skipped');
    expect(result.amis).toEqual({ 'us-east-1': east, 'eu-west-1': west });
    expect(await fx.calls()).toEqual([]);
    expect(reporter.text()).toContain('no bake: every target region has this content');
  });

  it('--force bakes even on a hit', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    haveAmi('us-east-1', await currentHash());
    const { result } = await run({ force: true });
    expect(result.action).toBe('built');
    expect((await fx.calls()).map((c) => c.argv[0])).toEqual(['init', 'build']);
  });

  it('an AMI in only some regions: bakes, and says which regions lack it', async () => {
    fx = await buildFixture({ regions: ['us-east-1', 'eu-west-1'], edit: withRegions(['eu-west-1']) });
    haveAmi('us-east-1', await currentHash());
    const { result, reporter } = await run();
    expect(result.action).toBe('built');
    expect(reporter.text()).toContain('bake: missing in eu-west-1');
  });

  it('a different content hash is a miss', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    haveAmi('us-east-1', 'f'.repeat(64));
    const { result } = await run();
    expect(result.action).toBe('built');
  });

  it('--plan runs no packer and says what changed since the last AMI', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    const { result: first } = await run({ plan: true });
    // The last AMI was built from the same definition and template but other scripts.
    const parts = Object.entries(first.parts)
      .map(([k, v]) => `${k}=${k === 'scripts' ? '000000000000' : v.slice(0, 12)}`)
      .join(' ');
    const old = haveAmi('us-east-1', 'e'.repeat(64), { [TAG.contentParts]: parts });
    const { result, reporter } = await run({ plan: true });
    expect(result.action).toBe('planned');
    expect(result.bake).toBe(true);
    expect(result.changedSince).toEqual({ imageId: old, parts: ['scripts'] });
    expect(reporter.text()).toContain(`changed since ${old}: scripts`);
    expect(await fx.calls()).toEqual([]);
  });

  it('the content hash changes with the definition, and not with deploy settings', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    const a = await currentHash();
    await fx.cleanup();
    fx = await buildFixture({
      regions: ['us-east-1'],
      edit: (n, y) => (n === 'twilio-relay' ? y.replace('asgName: kamailio-lb-asg', 'asgName: other-asg') : y),
    });
    expect(await currentHash()).toBe(a);
    await fx.cleanup();
    fx = await buildFixture({
      regions: ['us-east-1'],
      edit: (n, y) => (n === 'twilio-relay' ? y.replace('debugLevel: 2', 'debugLevel: 3') : y),
    });
    expect(await currentHash()).not.toBe(a);
  });

  it('refuses to launch anything while pins.env lacks the SSM agent key fingerprint, and says where to get it', async () => {
    fx = await buildFixture({ regions: ['us-east-1'], pinsReady: false });
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).details.join('\n')).toContain('SSM_AGENT_KEY_FINGERPRINT');
    expect((err as UserError).fix).toContain('Verify the signature of SSM Agent');
    expect(await fx.calls()).toEqual([]);
  });

  it('the checked-in pins.env is ready for a bake: the SSM agent needs no hand-computed sha256', async () => {
    fx = await buildFixture({ regions: ['us-east-1'], pinsAsShipped: true });
    const { result } = await run();
    expect(result.action).toBe('built');
  });

  it.each([
    ['expired', 'the AWS credentials have expired', 'aws sso login'],
    ['script', 'bake script 40-config.sh failed: kamailio rejects the baked config', 'rehearse locally'],
  ])('packer failure (%s) is mapped to a sentence with a fix, and leaves no bake directory', async (mode, message, fix) => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    const err = await run({ mode }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain(message);
    expect((err as UserError).fix).toContain(fix);
    expect((err as UserError).details.length).toBeGreaterThan(0);
    // Other test files bake in parallel in the same tmpdir: only this test's own work directory counts.
    expect(await ownBakeDirsLeft()).toEqual([]);
  });

  it('an unknown packer failure is a ProcessError with its last lines', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    const err = await run({ mode: 'crash' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessError);
    expect((err as ProcessError).exitCode).toBe(1);
    expect((err as ProcessError).tail.join('\n')).toContain('something nobody has seen before');
    expect((err as ProcessError).fix).toContain('nothing is left behind');
  });

  it('a missing manifest is reported, not guessed', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    const err = await run({ mode: 'nomanifest' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain('no manifest');
  });

  it('Ctrl-C: packer gets SIGINT, cleans up, and the build ends as an abort with no bake directory left', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    const ac = new AbortController();
    const p = run({ mode: 'hang', signal: ac.signal }).catch((e: unknown) => e);
    // Abort once packer build is running (its first call has been logged and it has printed its stages).
    for (let i = 0; i < 200 && (await fx.calls()).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    const err = await p;
    expect(err).toBeInstanceOf(AbortError);
    expect(existsSync(fx.cleaned)).toBe(true);
    // Other test files bake in parallel in the same tmpdir: only this test's own work directory counts.
    expect(await ownBakeDirsLeft()).toEqual([]);
  });

  it('packer not installed is its own message, before any AWS call', async () => {
    fx = await buildFixture({ regions: ['us-east-1'] });
    const reporter = new RecordingReporter();
    const err = await buildImage(
      { image: 'twilio-relay' },
      {
        root: fx.root,
        reporter,
        signal: new AbortController().signal,
        env: { PATH: '/nonexistent' },
        ec2For: fx.ec2For,
        renderer: 'silent',
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe('packer is not installed: no `packer` on PATH, and a bake runs Packer');
    expect((err as UserError).fix).toContain("install HashiCorp's Packer >= 1.8");
    expect(fx.regions.get('us-east-1')!.fake.calls).toEqual([]);
  });
});
