import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gitRepo, pinsFile, runScript, scriptsDir, tarball, writeStandInProject, writeTree } from './helpers.js';

const scripts = (await readdir(scriptsDir)).filter((f) => f.endsWith('.sh'));
const libs = (await readdir(path.join(scriptsDir, 'lib'))).map((f) => `lib/${f}`);

describe('scripts/', () => {
  it.each([...scripts, ...libs, 'pins.env'])('%s is shellcheck-clean', async (f) => {
    const r = await execa('shellcheck', ['-x', f], { cwd: scriptsDir, reject: false, all: true });
    expect(r.all).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it.each(scripts)('%s is bash with set -euo pipefail', async (f) => {
    const text = await readFile(path.join(scriptsDir, f), 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain('\nset -euo pipefail\n');
  });

  it('pins.env pins Kamailio 5.5.7 and RTPProxy v3.2.0 by commit, and has no checksum nobody computed', async () => {
    const pins = await readFile(path.join(scriptsDir, 'pins.env'), 'utf8');
    expect(pins).toContain('KAMAILIO_GIT_COMMIT=43eb13442166e1293b2188aa410173de9f9837fb');
    expect(pins).toContain('RTPPROXY_GIT_COMMIT=b26b09b32481e4cb6350075a73784bc1a2503ca0');
    expect(pins).toMatch(/^KAMAILIO_TARBALL_SHA256=$/m);
    expect(pins).toMatch(/^SSM_AGENT_X86_64_SHA256=$/m);
  });
});

describe('10-sources.sh verifies every pin before anything is built', () => {
  let dir: string;
  let tgz: string;
  let sha: string;
  let repo: string;
  let commit: string;
  const manifest = { name: 't', modules: ['tm'], rtpproxy: { enabled: true } };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sipbake-pins-'));
    await writeTree(path.join(dir, 'tree'), manifest);
    await writeStandInProject(path.join(dir, 'src/kamailio-1.0'), 'kamailio');
    tgz = path.join(dir, 'kamailio-1.0.tar.gz');
    sha = await tarball(path.join(dir, 'src/kamailio-1.0'), tgz);
    repo = path.join(dir, 'src/rtpproxy');
    await writeStandInProject(repo);
    commit = await gitRepo(repo, 'v1.0');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  async function run(pins: Parameters<typeof pinsFile>[0], work: string) {
    const file = path.join(dir, `${path.basename(work)}.env`);
    await writeFile(file, pinsFile(pins));
    return runScript('10-sources.sh', { SIPBAKE_ROOT: path.join(dir, 'root'), SIPBAKE_TREE: path.join(dir, 'tree'), SIPBAKE_PINS: file, SIPBAKE_WORK: work });
  }

  it('fetches a tarball pin and a git pin when both verify', async () => {
    const work = path.join(dir, 'work-ok');
    const r = await run(
      { KAMAILIO: { source: 'tarball', url: `file://${tgz}`, sha256: sha }, RTPPROXY: { source: 'git', url: repo, tag: 'v1.0', commit } },
      work,
    );
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain(`verified sha256 ${sha}`);
    expect(r.output).toContain(`verified commit ${commit}`);
    expect(existsSync(path.join(work, 'src/kamailio/Makefile'))).toBe(true);
    expect(existsSync(path.join(work, 'src/rtpproxy/configure'))).toBe(true);
    // Idempotent: a second run reuses what it verified.
    const again = await run(
      { KAMAILIO: { source: 'tarball', url: `file://${tgz}`, sha256: sha }, RTPPROXY: { source: 'git', url: repo, tag: 'v1.0', commit } },
      work,
    );
    expect(again.exitCode, again.output).toBe(0);
    expect(again.output).toContain('reusing');
  });

  it('aborts on a wrong sha256 with the expected value, the actual value and the URL', async () => {
    const wrong = 'f'.repeat(64);
    const work = path.join(dir, 'work-badsha');
    const r = await run({ KAMAILIO: { source: 'tarball', url: `file://${tgz}`, sha256: wrong }, RTPPROXY: { source: 'git', url: repo, tag: 'v1.0', commit } }, work);
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toContain(`expected sha256: ${wrong}`);
    expect(r.output).toContain(`actual sha256:   ${sha}`);
    expect(r.output).toContain(`url:             file://${tgz}`);
    expect(existsSync(path.join(work, 'src/kamailio'))).toBe(false);
  });

  it('aborts when the tag points at a commit other than the pinned one', async () => {
    const other = '0123456789abcdef0123456789abcdef01234567';
    const work = path.join(dir, 'work-badcommit');
    const r = await run({ KAMAILIO: { source: 'tarball', url: `file://${tgz}`, sha256: sha }, RTPPROXY: { source: 'git', url: repo, tag: 'v1.0', commit: other } }, work);
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toContain(`expected commit: ${other}`);
    expect(r.output).toContain(`actual commit:   ${commit}`);
    expect(r.output).toContain(`url:             ${repo}`);
    expect(existsSync(path.join(work, 'src/rtpproxy'))).toBe(false);
  });

  it('refuses an empty checksum and says how to compute one', async () => {
    const r = await run({ KAMAILIO: { source: 'tarball', url: `file://${tgz}`, sha256: '' }, RTPPROXY: { source: 'git', url: repo, tag: 'v1.0', commit } }, path.join(dir, 'w3'));
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toContain('npx sipbake pin kamailio VERSION --tarball');
  });
});
