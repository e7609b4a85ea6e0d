// The bake rehearsal: the real scripts against a local root, with Debian's Kamailio source as the stand-in
// for the pinned upstream source (tarball pin by file:// URL, and a git pin from a local repository made from it).
// RTPProxy's source cannot be fetched here: its script is rehearsed with a small stand-in autotools project.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readKamailioUnit } from '../../src/contract/kamailio-args.js';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { gitRepo, tarball, writeStandInProject } from './helpers.js';
import { DEBIAN_KAMAILIO, debianKamailioTarball } from './debian-source.js';
import { BAKE_SCRIPTS, imageVariant, prepareRehearsal, runBake, transcript, type Rehearsal } from './rehearse.js';

const SIP_PORT = 5270;
const LONG = 900_000;

let scratch: string;
let tgz: string;
let gitUrl: string;
let gitCommit: string;
let standIn: { url: string; sha256: string };
let imageRoot: string;
const rehearsals: Rehearsal[] = [];

beforeAll(async () => {
  tgz = await debianKamailioTarball();
  scratch = await mkdtemp(path.join(tmpdir(), 'sipbake-rehearsal-src-'));
  // A git repository made from the tarball, tagged like upstream.
  gitUrl = path.join(scratch, 'kamailio.git-src');
  await mkdir(gitUrl);
  await execa('tar', ['-xzf', tgz, '-C', gitUrl, '--strip-components=1']);
  gitCommit = await gitRepo(gitUrl, DEBIAN_KAMAILIO.version);
  // RTPProxy stand-in: configure + make + make install, as a tarball pin.
  await writeStandInProject(path.join(scratch, 'rtpproxy-3.2.0'));
  const t = path.join(scratch, 'rtpproxy-3.2.0.tar.gz');
  standIn = { url: `file://${t}`, sha256: await tarball(path.join(scratch, 'rtpproxy-3.2.0'), t) };
  // Seed 000 with loopback allowed (its default allows only Twilio's ranges) on a test port.
  imageRoot = path.join(scratch, 'repo');
  await imageVariant(imageRoot, 'twilio-relay', 'rehearsal-relay', (y) =>
    y
      .replace(/^listen:\n {2}udp: 5060\n {2}tcp: 5060$/m, `listen:\n  udp: ${SIP_PORT}\n  tcp: ${SIP_PORT}`)
      .replace(/^ {2}# allowedSources.*$/m, '  allowedSources: [127.0.0.0/8]'),
  );
  await imageVariant(imageRoot, 'recorder-lb', 'rehearsal-lb');
}, LONG);

afterAll(async () => {
  await Promise.all(rehearsals.map((r) => r.cleanup()));
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function rehearsal(image: string, pins: Parameters<typeof prepareRehearsal>[0]['pins']): Promise<Rehearsal> {
  const r = await prepareRehearsal({ imageRoot, image, pins });
  rehearsals.push(r);
  return r;
}

const tarPin = (sha256: string) => ({
  source: 'tarball' as const,
  url: `file://${tgz}`,
  sha256,
  version: DEBIAN_KAMAILIO.version,
});

async function modulesIn(root: string): Promise<string[]> {
  return (await readdir(path.join(root, 'usr/local/lib64/kamailio/modules')))
    .filter((f) => f.endsWith('.so'))
    .map((f) => f.slice(0, -3))
    .sort();
}

describe('a pin that does not verify aborts before anything is compiled', () => {
  it(
    'wrong sha256 on the tarball pin',
    async () => {
      const r = await rehearsal('rehearsal-relay', { KAMAILIO: tarPin('0'.repeat(64)) });
      const res = await runBake(r);
      expect(res.ok).toBe(false);
      expect(res.results.at(-1)!.script).toBe('10-sources.sh');
      expect(res.results.at(-1)!.output).toContain(`actual sha256:   ${DEBIAN_KAMAILIO.sha256}`);
      expect(res.results.at(-1)!.output).toContain(`url:             file://${tgz}`);
      expect(existsSync(path.join(r.work, 'src/kamailio'))).toBe(false);
      expect(existsSync(path.join(r.root, 'usr/local/sbin/kamailio'))).toBe(false);
    },
    LONG,
  );

  it(
    'a tag whose commit differs from the pin',
    async () => {
      const pinned = 'a'.repeat(40);
      const r = await rehearsal('rehearsal-relay', {
        KAMAILIO: { source: 'git', url: gitUrl, tag: DEBIAN_KAMAILIO.version, commit: pinned },
      });
      const res = await runBake(r);
      expect(res.ok).toBe(false);
      expect(res.results.at(-1)!.script).toBe('10-sources.sh');
      expect(res.results.at(-1)!.output).toContain(`expected commit: ${pinned}`);
      expect(res.results.at(-1)!.output).toContain(`actual commit:   ${gitCommit}`);
      expect(existsSync(path.join(r.root, 'usr/local/sbin/kamailio'))).toBe(false);
    },
    LONG,
  );
});

describe('seed 000 relay from the tarball pin: compile, -c, start-up check, boot against IMDSv2, answer OPTIONS', () => {
  let r: Rehearsal;
  let imds: ImdsFake | undefined;
  let kamailio: ResultPromise | undefined;

  afterAll(async () => {
    kamailio?.kill('SIGTERM');
    await kamailio?.catch(() => undefined);
    await imds?.close();
  });

  it(
    'bakes with exactly the image modules and passes kamailio -c on the baked config',
    async () => {
      r = await rehearsal('rehearsal-relay', { KAMAILIO: tarPin(DEBIAN_KAMAILIO.sha256) });
      const res = await runBake(r);
      expect(res.ok, transcript(res)).toBe(true);
      const bin = path.join(r.root, 'usr/local/sbin/kamailio');
      expect(existsSync(bin)).toBe(true);
      expect(await modulesIn(r.root)).toEqual([...r.modules].sort());
      expect(res.results.find((x) => x.script === '40-config.sh')!.output).toContain('kamailio accepts the baked config');
      // The baked binary also booted the config on loopback until its ctl socket (kamcmd) answered.
      expect(res.results.find((x) => x.script === '40-config.sh')!.output).toContain('kamailio starts with the baked config');
      expect(res.results.find((x) => x.script === '30-rtpproxy.sh')!.output).toContain('does not use RTPProxy');
      // The placeholder include is gone; nothing per-instance is baked.
      expect(existsSync(path.join(r.root, 'etc/kamailio/sipbake-boot.cfg'))).toBe(false);
      // Enabled: the wants/ symlink points at /etc/systemd/system/... inside the image, so lstat, not stat.
      expect((await lstat(path.join(r.root, 'etc/systemd/system/multi-user.target.wants/kamailio.service'))).isSymbolicLink()).toBe(true);
      expect(res.results.at(-1)!.output).toContain('no secret-looking values found');
    },
    LONG,
  );

  it(
    'the baked binary rejects a broken config (so -c really checks)',
    async () => {
      const bad = path.join(r.dir, 'broken.cfg');
      await writeFile(bad, `${await readFile(path.join(r.root, 'etc/kamailio/kamailio.cfg'), 'utf8')}\nroute[BROKEN] { no_such_function(); }\n`);
      const res = await execa(path.join(r.root, 'usr/local/sbin/kamailio'), ['-c', '-f', bad], {
        reject: false,
        all: true,
      });
      expect(res.exitCode).not.toBe(0);
    },
    LONG,
  );

  it(
    'a config that passes -c but whose module does not initialise fails the bake (40-config.sh again, on an edited tree)',
    async () => {
      const cfg = path.join(r.tree, 'etc/kamailio/kamailio.cfg');
      const good = await readFile(cfg, 'utf8');
      // dialog's mod_init refuses a flag above 31; -c never calls mod_init.
      await writeFile(cfg, good.replace(/^(modparam\("dialog", "default_timeout".*)$/m, '$1\nmodparam("dialog", "dlg_flag", 99)'));
      try {
        const res = await runBake(r, ['40-config.sh']);
        expect(res.ok).toBe(false);
        const out = res.results[0]!.output;
        expect(out).toContain('kamailio accepts the baked config');
        expect(out).toContain('kamailio accepts the baked config with -c but exited during start-up');
        expect(out).toContain('invalid dlg flag 99');
      } finally {
        await writeFile(cfg, good);
      }
      expect((await runBake(r, ['40-config.sh'])).ok).toBe(true);
    },
    LONG,
  );

  it(
    'after the boot agent runs against the IMDSv2 fake, kamailio starts and answers an OPTIONS from SIPp',
    async () => {
      imds = await startImdsFake({ localIpv4: '127.0.0.1', publicIpv4: '203.0.113.9' });
      const agent = path.join(r.root, 'usr/local/lib/sipbake/agent.mjs');
      const boot = await execa('node', [agent, 'boot'], {
        env: { ...process.env, SIPBAKE_ROOT: r.root, SIPBAKE_IMDS_ENDPOINT: imds.endpoint },
        reject: false,
        all: true,
      });
      expect(boot.exitCode, boot.all).toBe(0);
      expect(await readFile(path.join(r.root, 'etc/kamailio/sipbake-boot.cfg'), 'utf8')).toContain('#!define SIPBAKE_PRIVATE_IP 127.0.0.1');
      await mkdir(path.join(r.root, 'run/kamailio'), { recursive: true });

      // The baked unit's ExecStart= (the image's memory sizes), with the baked binary and the root's config.
      const [bin = 'kamailio', ...args] = await readKamailioUnit(r.root, path.join(r.root, 'usr/local/sbin/kamailio'));
      kamailio = execa(bin, args, { reject: false, all: true });
      const scenario = path.join(r.dir, 'options.xml');
      await writeFile(scenario, OPTIONS_SCENARIO);
      let sipp: Awaited<ReturnType<typeof execa>> | undefined;
      for (let attempt = 0; attempt < 20; attempt++) {
        sipp = await execa(
          'sipp',
          ['-sf', scenario, '-m', '1', '-i', '127.0.0.1', '-p', String(SIP_PORT + 1), '-timeout', '3', '-timeout_error', '-nostdin', `127.0.0.1:${SIP_PORT}`],
          {
            reject: false,
            all: true,
            cwd: r.dir,
          },
        );
        if (sipp.exitCode === 0) break;
        await new Promise((res) => setTimeout(res, 500));
      }
      expect(sipp!.exitCode, String(sipp!.all).slice(-2000)).toBe(0);
    },
    LONG,
  );
});

describe('seed 004 (postgres, RTPProxy) from the git pin, RTPProxy from a stand-in tarball', () => {
  it(
    'builds exactly its modules, installs the RTPProxy stand-in and its unit, and passes -c',
    async () => {
      const r = await rehearsal('rehearsal-lb', {
        KAMAILIO: {
          source: 'git',
          url: gitUrl,
          tag: DEBIAN_KAMAILIO.version,
          commit: gitCommit,
          version: DEBIAN_KAMAILIO.version,
        },
        RTPPROXY: { source: 'tarball', url: standIn.url, sha256: standIn.sha256, version: '3.2.0' },
      });
      const res = await runBake(
        r,
        BAKE_SCRIPTS.filter((s) => s !== '90-cleanup.sh'),
      );
      expect(res.ok, transcript(res)).toBe(true);
      expect(res.results.find((x) => x.script === '10-sources.sh')!.output).toContain(`verified commit ${gitCommit}`);
      const mods = await modulesIn(r.root);
      expect(mods).toEqual([...r.modules].sort());
      expect(mods).toContain('db_postgres');
      expect(mods).not.toContain('tls');
      expect(existsSync(path.join(r.root, 'usr/local/bin/rtpproxy'))).toBe(true);
      expect(existsSync(path.join(r.root, 'etc/systemd/system/rtpproxy.service'))).toBe(true);
      const config = res.results.find((x) => x.script === '40-config.sh')!.output;
      expect(config).toContain('kamailio accepts the baked config');
      // Started without its database (not reachable from a build instance), and the bake says so.
      expect(config).toContain("warning: dispatcher's PostgreSQL backend is not reachable at bake time");
      expect(config).toContain('kamailio starts with the baked config');
      // The scripts are idempotent: a second run over the same root succeeds without rebuilding.
      const again = await runBake(r, ['10-sources.sh', '20-kamailio.sh', '30-rtpproxy.sh', '40-config.sh', '90-cleanup.sh']);
      expect(again.ok, transcript(again)).toBe(true);
      expect(again.results.find((x) => x.script === '20-kamailio.sh')!.output).toContain('already built');
      expect(again.results.find((x) => x.script === '30-rtpproxy.sh')!.output).toContain('already built');
      expect(again.results.at(-1)!.output).toContain('no secret-looking values found');
    },
    LONG,
  );
});

const OPTIONS_SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="options">
  <send retrans="500">
    <![CDATA[
OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:sipp@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <recv response="200"/>
</scenario>
`;
