import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { setPins } from '../../src/bake/pin-command.js';
import { gitRepo, repoRoot } from './helpers.js';

const BODY = Buffer.from('pretend kamailio-5.5.7_src.tar.gz bytes\n'.repeat(1000));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let server: http.Server;
let base: string;
let root: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url?.endsWith('.tar.gz') || req.url?.endsWith('.deb')) {
      res.writeHead(200).end(req.url.includes('arm64') ? Buffer.concat([BODY, Buffer.from('arm')]) : BODY);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  root = await mkdtemp(path.join(tmpdir(), 'sipbake-pin-'));
  await mkdir(path.join(root, 'images'));
  await cp(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'), { recursive: true });
});
afterAll(async () => {
  server.close();
  await rm(root, { recursive: true, force: true });
});

async function cli(...argv: string[]) {
  const reporter = new RecordingReporter(argv.includes('--json'));
  const code = await main([...argv, '--root', root], { reporter, signal: new AbortController().signal });
  return { code, reporter, pins: await readFile(path.join(root, 'scripts/pins.env'), 'utf8') };
}

describe('sipbake pin', () => {
  it('--tarball downloads the tarball and records the sha256 it computed', async () => {
    const { code, pins } = await cli('pin', 'kamailio', '5.5.7', '--tarball', '--url', `${base}/kamailio-5.5.7_src.tar.gz`);
    expect(code).toBe(0);
    expect(pins).toContain(`KAMAILIO_TARBALL_SHA256=${sha(BODY)}`);
    expect(pins).toContain(`KAMAILIO_TARBALL_URL=${base}/kamailio-5.5.7_src.tar.gz`);
    expect(pins).toMatch(/^KAMAILIO_SOURCE=tarball$/m);
    // Untouched: the other pins and the comments.
    expect(pins).toContain('RTPPROXY_GIT_COMMIT=b26b09b32481e4cb6350075a73784bc1a2503ca0');
    expect(pins).toContain('# Kamailio: tag 5.5.7');
  });

  it('a git pin records the commit the tag points at (annotated tags peeled)', async () => {
    const repo = path.join(root, 'upstream');
    await mkdir(repo);
    await writeFile(path.join(repo, 'README'), 'rtpproxy');
    const commit = await gitRepo(repo, 'v3.2.1');
    const { code, pins } = await cli('pin', 'rtpproxy', '3.2.1', '--url', repo);
    expect(code).toBe(0);
    expect(pins).toContain(`RTPPROXY_GIT_COMMIT=${commit}`);
    expect(pins).toMatch(/^RTPPROXY_GIT_TAG=v3.2.1$/m);
  });

  it('ssm-agent records both architectures', async () => {
    const { code, pins } = await cli('pin', 'ssm-agent', '3.3.0.0', '--url', `${base}/{arch}/amazon-ssm-agent.deb`, '--json');
    expect(code).toBe(0);
    expect(pins).toContain(`SSM_AGENT_X86_64_SHA256=${sha(BODY)}`);
    expect(pins).toContain(`SSM_AGENT_ARM64_SHA256=${sha(Buffer.concat([BODY, Buffer.from('arm')]))}`);
    expect(pins).toContain(`SSM_AGENT_X86_64_URL=${base}/debian_amd64/amazon-ssm-agent.deb`);
  });

  it('a version that does not exist upstream is a user error, and pins.env is unchanged', async () => {
    const before = await readFile(path.join(root, 'scripts/pins.env'), 'utf8');
    const { code, reporter, pins } = await cli('pin', 'kamailio', '9.9.9', '--tarball', '--url', `${base}/nope`);
    expect(code).toBe(1);
    expect(reporter.text()).toContain('HTTP 404');
    expect(pins).toBe(before);
  });

  it('setPins replaces existing keys and appends new ones', () => {
    expect(setPins('# c\nA=1\nB=2\n', { B: '3', C: '4' })).toBe('# c\nA=1\nB=3\nC=4\n');
  });
});
