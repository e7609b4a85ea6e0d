import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTmpDir, renderDefinition, seedDefinition, type TmpDir } from '../support/index.js';

// The rendered units as systemd 252 (Debian 12) reads them: `systemd-analyze verify` reports unknown keys and
// bad values; only the host's missing binaries and targets are expected here. And the boot unit's contract:
// restarts on failure within a start limit, and starts its dependents when a restart succeeds.

let tmp: TmpDir;
const trees: Record<string, string> = {};

beforeAll(async () => {
  tmp = await makeTmpDir('sipbake-units-');
  for (const name of ['twilio-relay', 'recorder-lb'] as const) {
    const dir = path.join(tmp.path, name);
    await execa('mkdir', ['-p', dir]);
    trees[name] = (await renderDefinition(dir, await seedDefinition(name, {}), { privateIp: '127.0.0.1', publicIp: '127.0.0.1' })).tree;
  }
});
afterAll(async () => tmp?.remove());

const hasAnalyze = (await execa('systemd-analyze', ['--version'], { reject: false })).exitCode === 0;

describe('rendered systemd units', () => {
  it.runIf(hasAnalyze).each(['twilio-relay', 'recorder-lb'])('%s: systemd-analyze verify finds nothing but this host', async (name) => {
    const dir = path.join(trees[name]!, 'etc/systemd/system');
    const units = (await readdir(dir)).filter((f) => f.endsWith('.service')).map((f) => path.join(dir, f));
    const r = await execa('systemd-analyze', ['verify', ...units], { reject: false, all: true });
    const unexpected = r.all.split('\n').filter((l) => l.trim() && !/is not executable|sysinit\.target|Failed to create .*\/start|Unit .* not found/.test(l));
    expect(unexpected).toEqual([]);
  });

  it('sipbake-boot restarts on failure within a start limit, and starts kamailio and rtpproxy when it succeeds', async () => {
    const unit = await readFile(path.join(trees['recorder-lb']!, 'etc/systemd/system/sipbake-boot.service'), 'utf8');
    expect(unit).toMatch(/^Type=oneshot$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^StartLimitBurst=\d+$/m);
    expect(unit).toMatch(/^StartLimitIntervalSec=\d+$/m);
    expect(unit).toMatch(/^ExecStartPost=\/bin\/systemctl --no-block start kamailio\.service rtpproxy\.service$/m);
    const deadline = Number(/SIPBAKE_BOOT_DEADLINE_SECONDS=(\d+)/.exec(unit)?.[1]);
    const timeout = Number(/^TimeoutStartSec=(\d+)$/m.exec(unit)?.[1]);
    expect(deadline).toBeLessThan(timeout);
    const kam = await readFile(path.join(trees['recorder-lb']!, 'etc/systemd/system/kamailio.service'), 'utf8');
    expect(kam).toMatch(/^After=.*sipbake-boot\.service/m);
    expect(kam).toMatch(/^Requires=sipbake-boot\.service$/m);
    const relay = await readFile(path.join(trees['twilio-relay']!, 'etc/systemd/system/sipbake-boot.service'), 'utf8');
    expect(relay).toMatch(/^ExecStartPost=\/bin\/systemctl --no-block start kamailio\.service$/m);
  });

  // A broken image's Kamailio never starts; a rollback still terminates its instances, and the drain agent must be
  // running to complete their termination lifecycle action (else each waits out the hook timeout in Terminating:Wait).
  // With BindsTo= (or Requires=/Requisite=/PartOf=) on kamailio.service and After=, systemd never starts the agent
  // while Kamailio is not active, and stops it when Kamailio stops.
  it.each(['twilio-relay', 'recorder-lb'])('%s: sipbake-drain runs whether or not Kamailio started: ordered after it, never bound to it', async (name) => {
    const unit = await readFile(path.join(trees[name]!, 'etc/systemd/system/sipbake-drain.service'), 'utf8');
    const keys = unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l));
    expect(keys.filter((l) => /^(BindsTo|Requires|Requisite|PartOf)=/.test(l))).toEqual([]);
    expect(unit).toMatch(/^After=.*\bsipbake-boot\.service\b.*$/m);
    expect(unit).toMatch(/^After=.*\bkamailio\.service\b.*$/m);
    expect(unit).toMatch(/^Restart=always$/m);
  });
});
