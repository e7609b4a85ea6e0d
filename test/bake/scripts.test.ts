import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gitRepo, pinsFile, runScript, scriptsDir, tarball, writeStandInProject, writeTree } from './helpers.js';
import { imageVariant, prepareRehearsal, type Rehearsal } from './rehearse.js';

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
    return runScript('10-sources.sh', {
      SIPBAKE_ROOT: path.join(dir, 'root'),
      SIPBAKE_TREE: path.join(dir, 'tree'),
      SIPBAKE_PINS: file,
      SIPBAKE_WORK: work,
    });
  }

  it('fetches a tarball pin and a git pin when both verify', async () => {
    const work = path.join(dir, 'work-ok');
    const r = await run(
      {
        KAMAILIO: { source: 'tarball', url: `file://${tgz}`, sha256: sha },
        RTPPROXY: { source: 'git', url: repo, tag: 'v1.0', commit },
      },
      work,
    );
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain(`verified sha256 ${sha}`);
    expect(r.output).toContain(`verified commit ${commit}`);
    expect(existsSync(path.join(work, 'src/kamailio/Makefile'))).toBe(true);
    expect(existsSync(path.join(work, 'src/rtpproxy/configure'))).toBe(true);
    // Idempotent: a second run reuses what it verified.
    const again = await run(
      {
        KAMAILIO: { source: 'tarball', url: `file://${tgz}`, sha256: sha },
        RTPPROXY: { source: 'git', url: repo, tag: 'v1.0', commit },
      },
      work,
    );
    expect(again.exitCode, again.output).toBe(0);
    expect(again.output).toContain('reusing');
  });

  it('aborts on a wrong sha256 with the expected value, the actual value and the URL', async () => {
    const wrong = 'f'.repeat(64);
    const work = path.join(dir, 'work-badsha');
    const r = await run(
      {
        KAMAILIO: { source: 'tarball', url: `file://${tgz}`, sha256: wrong },
        RTPPROXY: { source: 'git', url: repo, tag: 'v1.0', commit },
      },
      work,
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toContain(`expected sha256: ${wrong}`);
    expect(r.output).toContain(`actual sha256:   ${sha}`);
    expect(r.output).toContain(`url:             file://${tgz}`);
    expect(existsSync(path.join(work, 'src/kamailio'))).toBe(false);
  });

  it('aborts when the tag points at a commit other than the pinned one', async () => {
    const other = '0123456789abcdef0123456789abcdef01234567';
    const work = path.join(dir, 'work-badcommit');
    const r = await run(
      {
        KAMAILIO: { source: 'tarball', url: `file://${tgz}`, sha256: sha },
        RTPPROXY: { source: 'git', url: repo, tag: 'v1.0', commit: other },
      },
      work,
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toContain(`expected commit: ${other}`);
    expect(r.output).toContain(`actual commit:   ${commit}`);
    expect(r.output).toContain(`url:             ${repo}`);
    expect(existsSync(path.join(work, 'src/rtpproxy'))).toBe(false);
  });

  it('refuses an empty checksum and says how to compute one', async () => {
    const r = await run(
      {
        KAMAILIO: { source: 'tarball', url: `file://${tgz}`, sha256: '' },
        RTPPROXY: { source: 'git', url: repo, tag: 'v1.0', commit },
      },
      path.join(dir, 'w3'),
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toContain('npx sipbake pin kamailio VERSION --tarball');
  });
});

describe('90-cleanup.sh on a local root', () => {
  const secrets: [string, string, string][] = [
    ['a private key', 'etc/kamailio/tls.key', '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n'],
    ['an AWS access key id', 'etc/profile.d/aws.sh', 'export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n'],
    ['an AWS secret in a credentials file', 'root/.aws/credentials', `[default]\naws_secret_access_key = ${'a'.repeat(40)}\n`],
    ['a database URL with a password', 'etc/kamailio/db.cfg', '#!define DBURL "postgres://kamailio:hunter2@db.example.com/kamailio"\n'],
  ];

  async function rootWith(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(path.join(tmpdir(), 'sipbake-cleanup-'));
    for (const [f, text] of Object.entries({
      'etc/ssh/ssh_host_ed25519_key': 'host key',
      'root/.bash_history': 'ls',
      'home/admin/.ssh/authorized_keys': 'ssh-ed25519 AAAA packer',
      'var/log/syslog': 'lots',
      'etc/machine-id': '0123456789abcdef0123456789abcdef\n',
      'usr/local/lib/sipbake/agent.mjs': 'const u = `postgres://${encodeURIComponent(u)}:${encodeURIComponent(p)}@${h}`; x.aws_secret_access_key;',
      ...files,
    })) {
      await mkdir(path.dirname(path.join(root, f)), { recursive: true });
      await writeFile(path.join(root, f), text);
    }
    return root;
  }

  it('removes host keys, authorized keys, history, logs and the machine id, and finds no secret in clean code', async () => {
    const root = await rootWith({});
    try {
      const r = await runScript('90-cleanup.sh', {
        SIPBAKE_ROOT: root,
        SIPBAKE_WORK: path.join(root, 'work'),
        SIPBAKE_TREE: path.join(root, 'tree'),
      });
      expect(r.exitCode, r.output).toBe(0);
      expect(r.output).toContain('no secret-looking values found');
      expect(existsSync(path.join(root, 'etc/ssh/ssh_host_ed25519_key'))).toBe(false);
      expect(existsSync(path.join(root, 'home/admin/.ssh/authorized_keys'))).toBe(false);
      expect(existsSync(path.join(root, 'root/.bash_history'))).toBe(false);
      expect(await readFile(path.join(root, 'var/log/syslog'), 'utf8')).toBe('');
      expect(await readFile(path.join(root, 'etc/machine-id'), 'utf8')).toBe('');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it.each(secrets)('fails the bake when %s remains, naming the file', async (_what, file, text) => {
    const root = await rootWith({ [file]: text });
    try {
      const r = await runScript('90-cleanup.sh', {
        SIPBAKE_ROOT: root,
        SIPBAKE_WORK: path.join(root, 'work'),
        SIPBAKE_TREE: path.join(root, 'tree'),
      });
      expect(r.exitCode).not.toBe(0);
      expect(r.output).toContain('secret-looking values remain');
      expect(r.output).toContain(path.join(root, file));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

// 40-config.sh with Debian's Kamailio standing in for the built one (SIPBAKE_PREFIX=/usr: /usr/sbin/kamailio
// and /usr/sbin/kamcmd), on trees rendered from the seeds the way the bake renders them.
describe('40-config.sh boots the baked config, not only kamailio -c', () => {
  let dir: string;
  let tmp: string;
  const rehearsals: Rehearsal[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sipbake-start-'));
    tmp = path.join(dir, 'tmp');
    await mkdir(tmp);
    // Odd ports: the check binds a random 127/8 address, and these keep it clear of wildcard listeners too.
    await imageVariant(
      dir,
      'twilio-relay',
      'relay-tls',
      (y) =>
        y.replace(/^listen:\n {2}udp: 5060\n {2}tcp: 5060$/m, 'listen:\n  udp: 5276\n  tcp: 5276\n  tls: 5277') +
        // The certificate arrives at boot from its secret, so it is not in the image at bake time.
        '\ntls:\n  enabled: true\n  certificateSecret: { source: ssm, name: /sipbake/t/cert }\n  privateKeySecret: { source: ssm, name: /sipbake/t/key }\n',
    );
    await imageVariant(dir, 'recorder-lb', 'lb', (y) => y.replace(/^listen:\n {2}udp: 5080\n {2}tcp: 5080$/m, 'listen:\n  udp: 5278\n  tcp: 5278'));
  });
  afterAll(async () => {
    await Promise.all(rehearsals.map((r) => r.cleanup()));
    await rm(dir, { recursive: true, force: true });
  });

  async function bake(image: string, edit?: (cfg: string) => string) {
    const r = await prepareRehearsal({ imageRoot: dir, image, pins: {} });
    rehearsals.push(r);
    const cfg = path.join(r.tree, 'etc/kamailio/kamailio.cfg');
    if (edit) await writeFile(cfg, edit(await readFile(cfg, 'utf8')));
    const res = await runScript('40-config.sh', { ...r.env, SIPBAKE_PREFIX: '/usr', TMPDIR: tmp });
    // Nothing it started outlives it: no process runs from its temporary directory (Kamailio's workers included).
    const ps = await execa('ps', ['-eo', 'pid,args']);
    expect(ps.stdout.split('\n').filter((l) => l.includes(`${tmp}/sipbake-start.`))).toEqual([]);
    return res;
  }

  it('starts the TLS relay with a throwaway certificate and stops it again', async () => {
    const r = await bake('relay-tls');
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain('kamailio accepts the baked config');
    expect(r.output).toContain('starting with a throwaway self-signed certificate');
    expect(r.output).toMatch(/kamailio starts with the baked config \(ctl socket answered on 127\.\d+\.\d+\.\d+; stopped again\)/);
    // With the unit's memory sizes (twilio-relay.yaml: 512/16), not a number of the script's own.
    expect(r.output).toMatch(/starting \S+ \(-m 512 -M 16\) on 127\./);
    expect(await readdir(tmp)).toEqual([]);
  });

  it("fails the bake on a tls_method that passes -c but not mod_init, with Kamailio's own error and a fix", async () => {
    const r = await bake('relay-tls', (cfg) => {
      expect(cfg).toMatch(/^modparam\("tls", "tls_method", "TLSv1\.2\+"\)$/m);
      return cfg.replace(/^modparam\("tls", "tls_method", .*$/m, 'modparam("tls", "tls_method", "TLSv1.3")');
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toContain('kamailio accepts the baked config');
    expect(r.output).toContain('kamailio accepts the baked config with -c but exited during start-up');
    expect(r.output).toMatch(/first error: ERROR: tls .*mod_init\(\).*tls_method/i);
    expect(r.output).toContain("--- last lines of kamailio's log ---");
    expect(r.output).toContain('fix: the module named in the log (mod_init) rejects an option');
    expect(await readdir(tmp)).toEqual([]);
  });

  it('starts the postgres-backed recorder-lb without its database, and says what it could not check', async () => {
    const r = await bake('lb');
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain("warning: dispatcher's PostgreSQL backend is not reachable at bake time");
    expect(r.output).toContain('kamailio starts with the baked config');
    expect(await readdir(tmp)).toEqual([]);
  });

  it('fails on a module that does not initialise in the postgres image too (dialog flag out of range)', async () => {
    const r = await bake('lb', (cfg) => cfg.replace(/^(modparam\("dialog", "default_timeout".*)$/m, '$1\nmodparam("dialog", "dlg_flag", 99)'));
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toContain('first error: ERROR: dialog');
    expect(r.output).toContain('invalid dlg flag 99');
  });
});
