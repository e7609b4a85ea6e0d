// Issue 15: the operator conventions a CLI user expects (version, completion, examples, exit codes,
// confirmation, discovery, credential and proxy handling).
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { commandIndex } from '../../src/cli/commands/index.js';
import { confirm } from '../../src/cli/confirm.js';
import { clientConfig, packerProxyEnv } from '../../src/aws/clients.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { AMI_TAG as TAG } from '../../src/contract/tags.js';
import { buildFixture, type BuildFixture } from '../bake/build-support.js';
import { repoRoot } from '../bake/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cli(argv: string[], io: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const reporter = new RecordingReporter(argv.includes('--json'));
  const code = await main(argv, {
    reporter,
    signal: new AbortController().signal,
    env: io.env ?? process.env,
    ...(io.cwd ? { cwd: io.cwd } : {}),
  });
  return { code, reporter, text: reporter.text() };
}

describe('conventions', () => {
  it('--version and -V print the package version and exit 0', async () => {
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      expect(r.code).toBe(0);
      expect(r.text.trim()).toBe(pkg.version);
    }
  });

  it('every command shows examples in its --help', async () => {
    for (const c of commandIndex) {
      const r = await cli([c.name, '--help']);
      expect(r.code, c.name).toBe(0);
      expect(r.text, c.name).toMatch(/Examples:\n\s+sipbake /);
    }
  });

  it("sipbake completion prints a shell script; completions list commands and a command's options", async () => {
    const script = await cli(['completion']);
    expect(script.code).toBe(0);
    expect(script.text).toContain('###-begin-sipbake-completions-###');
    const commands = await cli(['--get-yargs-completions', 'sipbake', '']);
    for (const c of ['validate', 'build', 'roll', 'rollback', 'completion']) expect(commands.text.split('\n')).toContain(c);
    const options = await cli(['--get-yargs-completions', 'sipbake', 'build', '--']);
    expect(options.text.split('\n')).toEqual(expect.arrayContaining(['--plan', '--detailed-exitcode', '--force']));
  });
});

describe('build --plan --detailed-exitcode', () => {
  async function fixture(): Promise<{ fx: BuildFixture; fake: FakeAws; env: NodeJS.ProcessEnv }> {
    const fx = await buildFixture({ regions: ['us-east-1'] });
    const fake = new FakeAws();
    const restore = installFakeAws(fake);
    cleanups.push(() => fx.cleanup(), restore);
    return { fx, fake, env: { ...fx.env(), AWS_ACCESS_KEY_ID: 'FAKE', AWS_SECRET_ACCESS_KEY: 'FAKE' } };
  }

  it('exits 3 when a bake would run and 0 when an AMI of this content exists; 2 without --plan', async () => {
    const { fx, fake, env } = await fixture();
    const changes = await cli(['build', 'twilio-relay', '--plan', '--detailed-exitcode', '--json', '--root', fx.root], {
      env,
    });
    expect(changes.code).toBe(3);
    const doc = changes.reporter.results[0] as { contentHash: string; bake: boolean };
    expect(doc.bake).toBe(true);
    fake.addImage({ Tags: { [TAG.image]: 'twilio-relay', [TAG.contentHash]: doc.contentHash } });
    const none = await cli(['build', 'twilio-relay', '--plan', '--detailed-exitcode', '--root', fx.root], { env });
    expect(none.code).toBe(0);
    const plain = await cli(['build', 'twilio-relay', '--plan', '--root', fx.root], { env });
    expect(plain.code).toBe(0);
    const usage = await cli(['build', 'twilio-relay', '--detailed-exitcode', '--root', fx.root], { env });
    expect(usage.code).toBe(2);
    expect(usage.text).toContain('--detailed-exitcode goes with --plan');
  });
});

describe('repository discovery', () => {
  /** A user's repository: images/ only (no scripts/, no templates/), and a nested working directory. */
  async function userRepo(): Promise<{ root: string; sub: string }> {
    const root = await mkdtemp(path.join(tmpdir(), 'sipbake-repo-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    await mkdir(path.join(root, 'images'));
    await cp(path.join(repoRoot, 'images/twilio-relay.yaml'), path.join(root, 'images/edge.yaml'));
    await writeFile(path.join(root, 'images/edge.yaml'), (await readFile(path.join(root, 'images/edge.yaml'), 'utf8')).replace(/^name: .*$/m, 'name: edge'));
    const sub = path.join(root, 'infra', 'notes');
    await mkdir(sub, { recursive: true });
    return { root, sub };
  }

  it('from a subdirectory, validate checks the repository above (as git finds .git) and says which one', async () => {
    const { root, sub } = await userRepo();
    const r = await cli(['validate', '--json'], { cwd: sub });
    expect(r.code, r.text).toBe(0);
    const doc = r.reporter.results[0] as { images: { file: string }[] };
    expect(doc.images.map((i) => path.basename(i.file))).toEqual(['edge.yaml']);
    expect(r.reporter.lines).toContainEqual({
      level: 'note',
      message: `using the repository at ${root} (images/ found above ${sub})`,
    });
  });

  it('in the repository itself nothing is said; outside any, the sample images are named as such', async () => {
    const { root } = await userRepo();
    const here = await cli(['validate'], { cwd: root });
    expect(here.reporter.lines.filter((l) => l.level === 'note')).toEqual([]);
    const nowhere = await mkdtemp(path.join(tmpdir(), 'sipbake-nowhere-'));
    cleanups.push(() => rm(nowhere, { recursive: true, force: true }));
    const out = await cli(['validate'], { cwd: nowhere });
    expect(out.reporter.lines.find((l) => l.level === 'note')?.message).toMatch(/no images\/ in .* or above: using sipbake's sample images/);
  });

  it('a repository without scripts/ renders and checks; build and packer say how to get the scripts (not an internal error)', async () => {
    const { root, sub } = await userRepo();
    const out = path.join(root, 'tree');
    const render = await cli(['render', 'edge', '--out', out], { cwd: sub });
    expect(render.code, render.text).toBe(0);
    const build = await cli(['build', 'edge', '--plan'], { cwd: sub });
    expect(build.code).toBe(1);
    expect(build.text).not.toContain('internal error');
    expect(build.text).toContain(`${root} has no scripts/`);
    expect(build.text).toMatch(/fix: copy sipbake's provisioning scripts .*cp -r \S+\/scripts \S+\/scripts/);
    const packer = await cli(['packer'], { cwd: sub });
    expect(packer.code, packer.text).toBe(1);
    expect(packer.text).toContain(`${root} has no scripts/`);
    expect(packer.text).toMatch(/fix: copy sipbake's provisioning scripts .*cp -r \S+\/scripts \S+\/scripts/);
  });
});

describe('credentials', () => {
  it("an expired SSO session keeps the SDK's own advice (aws sso login), not just --profile", async () => {
    // A real SDK credential chain: an SSO profile whose cached token has expired (the file layout is the
    // SDK's: ~/.aws/sso/cache/<sha1 of the start URL>.json, read by @aws-sdk/credential-provider-sso).
    const home = await mkdtemp(path.join(tmpdir(), 'sipbake-home-'));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    const startUrl = 'https://example.awsapps.com/start';
    await mkdir(path.join(home, '.aws/sso/cache'), { recursive: true });
    await writeFile(
      path.join(home, '.aws/config'),
      `[profile ops]\nsso_start_url = ${startUrl}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Ops\nregion = us-east-1\n`,
    );
    const cache = createHash('sha1').update(startUrl).digest('hex');
    await writeFile(
      path.join(home, `.aws/sso/cache/${cache}.json`),
      JSON.stringify({ startUrl, region: 'us-east-1', accessToken: 'expired', expiresAt: '2020-01-01T00:00:00Z' }),
    );
    const fx = await buildFixture({ regions: ['us-east-1'] });
    cleanups.push(() => fx.cleanup());
    const saved = {
      HOME: process.env.HOME,
      AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE,
      AWS_SHARED_CREDENTIALS_FILE: process.env.AWS_SHARED_CREDENTIALS_FILE,
    };
    process.env.HOME = home;
    process.env.AWS_CONFIG_FILE = path.join(home, '.aws/config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(home, '.aws/credentials');
    cleanups.push(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) Reflect.deleteProperty(process.env, k);
        else process.env[k] = v;
      }
    });
    const dropped = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];
    const env = Object.fromEntries(Object.entries(fx.env()).filter(([k]) => !dropped.includes(k)));
    const r = await cli(['build', 'twilio-relay', '--plan', '--profile', 'ops', '--root', fx.root], { env });
    expect(r.code, r.text).toBe(1);
    expect(r.text).toMatch(/the AWS SSO session has expired or is invalid/);
    expect(r.text).toContain('To refresh this SSO session run aws sso login with the corresponding profile.');
    expect(r.text).toMatch(/fix: run `aws sso login --profile NAME`/);
    expect(r.text).not.toContain('internal error');
  });
});

describe('proxy', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it('SDK clients send through HTTPS_PROXY, and go direct for NO_PROXY hosts', async () => {
    const connects: string[] = [];
    server = createServer();
    // A CONNECT proxy that records the target and refuses it: nothing leaves the machine.
    server.on('connect', (req, socket) => {
      connects.push(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const saved = {
      HTTPS_PROXY: process.env.HTTPS_PROXY,
      NO_PROXY: process.env.NO_PROXY,
      https_proxy: process.env.https_proxy,
      no_proxy: process.env.no_proxy,
    };
    cleanups.push(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) Reflect.deleteProperty(process.env, k);
        else process.env[k] = v;
      }
    });
    delete process.env.https_proxy;
    delete process.env.no_proxy;
    process.env.HTTPS_PROXY = `http://127.0.0.1:${port}`;
    process.env.NO_PROXY = '127.0.0.2';
    const call = async (endpoint: string): Promise<unknown> => {
      const c = new EC2Client({
        ...clientConfig({ region: 'us-east-1', maxAttempts: 1 }),
        endpoint,
        credentials: { accessKeyId: 'FAKE', secretAccessKey: 'FAKE' },
      });
      try {
        return await c.send(new DescribeImagesCommand({})).catch((e: unknown) => e);
      } finally {
        c.destroy();
      }
    };
    // Through the proxy: it sees CONNECT for the endpoint (a loopback name stands in for AWS).
    await call('https://127.0.0.1:9');
    expect(connects).toEqual(['127.0.0.1:9']);
    // NO_PROXY: straight to the (closed) port, the proxy sees nothing more.
    await call('https://127.0.0.2:9');
    expect(connects).toEqual(['127.0.0.1:9']);
    // Without a proxy variable the SDK's own handler is left alone.
    delete process.env.HTTPS_PROXY;
    expect(clientConfig({ region: 'us-east-1' }).requestHandler).toBeUndefined();
  });

  it("Packer's environment gets the proxy in both spellings", () => {
    expect(packerProxyEnv({ https_proxy: 'http://proxy:3128', NO_PROXY: '.internal' })).toEqual({
      HTTPS_PROXY: 'http://proxy:3128',
      https_proxy: 'http://proxy:3128',
      NO_PROXY: '.internal',
      no_proxy: '.internal',
    });
  });
});

describe('confirm()', () => {
  const base = { env: {} as NodeJS.ProcessEnv };
  it('goes ahead with --yes without asking', async () => {
    expect(await confirm('Roll twilio-relay?', { ...base, yes: true, isTTY: false })).toBe(true);
  });

  it('refuses off a terminal, and with CI=true, without --yes (exit 2, says to add --yes)', async () => {
    const off = await confirm('Roll twilio-relay?', {
      ...base,
      yes: false,
      isTTY: false,
      retry: 'sipbake roll twilio-relay --yes',
    }).catch((e: unknown) => e);
    expect(off).toMatchObject({ exitCode: 2, fix: 'add --yes: sipbake roll twilio-relay --yes' });
    expect(String((off as Error).message)).toContain('this is not a terminal');
    const ci = await confirm('Roll twilio-relay?', { env: { CI: 'true' }, yes: false, isTTY: true }).catch((e: unknown) => e);
    expect(ci).toMatchObject({ exitCode: 2 });
    expect(String((ci as Error).message)).toContain('CI is set');
  });

  it('in a terminal, asks and takes y/yes as consent, anything else as no', async () => {
    for (const [answer, expected] of [
      ['y', true],
      ['yes', true],
      ['', false],
      ['n', false],
    ] as const) {
      const input = new PassThrough();
      const output = new PassThrough();
      let shown = '';
      output.on('data', (d: Buffer) => (shown += d.toString()));
      const p = confirm('Roll twilio-relay onto ami-1?', { ...base, yes: false, isTTY: true, input, output });
      input.write(`${answer}\n`);
      expect(await p).toBe(expected);
      expect(shown).toContain('Roll twilio-relay onto ami-1? [y/N]');
    }
  });
});

describe('docs/commands.md', () => {
  it('shows JSON through npm only with -s (npm prints its banner on stdout otherwise)', async () => {
    const readme = await readFile(path.join(repoRoot, 'docs/commands.md'), 'utf8');
    const viaNpm = readme.split('\n').filter((l) => /npm run (?:-s )?image:build/.test(l) && l.includes('--json'));
    expect(viaNpm.length).toBeGreaterThan(0);
    for (const l of viaNpm) expect(l).toContain('npm run -s image:build');
  });
});
