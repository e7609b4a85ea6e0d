// `build` and `build --plan` refuse a Packer that cannot bake (older than 1.8, or without the amazon plugin)
// before any AWS call, with what, where and how to install one. The fake `packer` on PATH answers the queries.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { checkPacker } from '../../src/bake/packer-check.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { buildFixture, type BuildFixture } from './build-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(packer: { version?: string; plugins?: string }) {
  const fx: BuildFixture = await buildFixture({ regions: ['us-east-1'] });
  cleanups.push(() => fx.cleanup());
  const fake = new FakeAws({ iam: { role: 'build', root: fx.root } });
  cleanups.push(installFakeAws(fake));
  const queries = path.join(fx.root, 'packer-queries.jsonl');
  const env: NodeJS.ProcessEnv = {
    ...fx.env(),
    AWS_ACCESS_KEY_ID: 'FAKE',
    AWS_SECRET_ACCESS_KEY: 'FAKE',
    FAKE_PACKER_QUERIES: queries,
    ...(packer.version ? { FAKE_PACKER_VERSION: packer.version } : {}),
    ...(packer.plugins !== undefined ? { FAKE_PACKER_PLUGINS: packer.plugins } : {}),
  };
  const cli = async (argv: string[]) => {
    const reporter = new RecordingReporter(false);
    const code = await main([...argv, '--root', fx.root], { reporter, env, signal: new AbortController().signal });
    return { code, text: reporter.text() };
  };
  const asked = async () =>
    existsSync(queries)
      ? (await readFile(queries, 'utf8'))
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { argv: string[] }).argv.join(' '))
      : [];
  return { fx, fake, cli, asked, bin: path.join(fx.bin, 'packer') };
}

describe('build: the Packer check', () => {
  it.each([[['--plan']], [[]]])("Debian's Packer 1.6.6 is refused before any AWS call (build %j), naming the binary and how to install one", async (extra) => {
    const s = await setUp({ version: '1.6.6' });
    const r = await s.cli(['build', 'twilio-relay', ...extra]);
    expect(r.code, r.text).toBe(1);
    expect(r.text).toContain(`${s.bin} is Packer 1.6.6, which cannot bake: the template needs Packer >= 1.8.0`);
    expect(r.text).toContain("Debian's packer package is 1.6.6");
    expect(r.text).toMatch(/fix: install HashiCorp's Packer >= 1\.8 .*apt\.releases\.hashicorp\.com.*releases\.hashicorp\.com\/packer/);
    expect(r.text).not.toContain('internal error');
    expect(s.fake.calls).toEqual([]);
    expect(await s.fx.calls()).toEqual([]);
  });

  it('a Packer without the amazon plugin is refused before any AWS call, with how to install the plugin', async () => {
    const s = await setUp({ plugins: '' });
    const r = await s.cli(['build', 'twilio-relay', '--plan']);
    expect(r.code, r.text).toBe(1);
    expect(r.text).toContain(`Packer 1.11.2 (${s.bin}) has no amazon plugin installed: a bake needs github.com/hashicorp/amazon`);
    expect(r.text).toMatch(/fix: run `packer plugins install github\.com\/hashicorp\/amazon`, or `packer init \.`/);
    expect(s.fake.calls).toEqual([]);
    expect(await s.asked()).toEqual(['version', 'plugins installed']);
  });

  it('an amazon plugin older than the template needs is named as such', async () => {
    const s = await setUp({ plugins: '1.1.0' });
    const r = await s.cli(['build', 'twilio-relay', '--plan']);
    expect(r.code, r.text).toBe(1);
    expect(r.text).toContain('has no amazon plugin installed (found 1.1.0; the template needs >= 1.2.0)');
    expect(s.fake.calls).toEqual([]);
  });

  it('Packer >= 1.8 with the plugin passes: the plan goes on to AWS and says which Packer it found', async () => {
    const s = await setUp({ version: '1.8.0', plugins: '1.1.0,1.3.3' });
    const r = await s.cli(['build', 'twilio-relay', '--plan']);
    expect(r.code, r.text).toBe(0);
    expect(r.text).toContain('plan: would run packer init and packer build');
    expect(await s.asked()).toEqual(['version', 'plugins installed']);
    expect(s.fake.calls.length).toBeGreaterThan(0);
  });

  it('no packer on PATH: says so and how to install one', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'sipbake-nopacker-'));
    cleanups.push(() => rm(empty, { recursive: true, force: true }));
    const err = await checkPacker({ PATH: empty }, new AbortController().signal).catch((e: unknown) => e as Error & { fix?: string });
    expect(err).toMatchObject({ name: 'UserError', message: 'packer is not installed: no `packer` on PATH, and a bake runs Packer' });
    expect((err as { fix?: string }).fix).toMatch(/apt repository .* or the release zip/);
  });
});
