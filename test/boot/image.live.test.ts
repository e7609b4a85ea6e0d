// The image as a machine: each seed baked locally (sipbake build --local: debootstrap'd Debian 12, the same
// scripts Packer runs, the pinned 5.5.7/3.2.0 sources from ../shared/upstream; cached in /var/cache/sipbake), then
// booted under systemd-nspawn in a namespace where IMDSv2 answers at 169.254.169.254. One bake per image: the
// compile is cached by sources and module set, a second bake of the same content does nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RecordingReporter } from '../../src/core/reporter.js';
import { buildImage } from '../../src/bake/index.js';
import { defaultSources, type LocalBuildResult } from '../../src/bake/local/index.js';
import { rehearse } from '../../src/rehearse/run.js';
import { sippFiles } from '../../src/try/sipp.js';
import type { ManagedProcess } from '../../src/try/process.js';
import { buildFixture } from '../bake/build-support.js';
import { BOOT_IMAGES, type BootImage } from './images.js';
import { bakeBootImage, bootImage, HOOK, tcpOpen, type Booted } from './machine.js';
import { call, farEnd } from './sipp.js';

const LONG = 45 * 60_000;
// A user's clone has no ../shared/upstream (the pinned archives): the local bake cannot run there, and says so.
// Found as the local bake finds it (beside the clone, or beside the main checkout of a git worktree).
const SOURCES = path.join(await defaultSources(path.resolve(import.meta.dirname, '../..')), 'SHA256SUMS');
const HAVE_SOURCES = existsSync(SOURCES);
if (!HAVE_SOURCES) console.log(`skipping the booted-image tests: no pinned source archives at ${SOURCES} (CI has them beside the clone)`);
const SEEDS = ['twilio-relay', 'recorder-lb'] as const;
let defs: string;
const baked = new Map<string, { r: LocalBuildResult; file: string }>();
const figures: Record<string, unknown> = {};
const open: { close(): Promise<void> }[] = [];

async function until<T>(what: string, ms: number, f: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function boot(b: BootImage, binds: { host: string; guest: string }[] = []): Promise<Booted> {
  const x = await bootImage(b, baked.get(b.seed)!.r.rootfs, binds);
  open.push(x);
  return x;
}

const units = (b: BootImage) => ['sipbake-boot', ...(b.rtpproxy ? ['rtpproxy'] : []), 'kamailio', 'sipbake-drain'];

beforeAll(async () => {
  if (!HAVE_SOURCES) return;
  defs = await mkdtemp(path.join(tmpdir(), 'sipbake-boot-defs-'));
  for (const seed of SEEDS) baked.set(seed, await bakeBootImage(BOOT_IMAGES[seed], defs));
}, LONG);

afterAll(async () => {
  for (const x of open.splice(0)) await x.close();
  if (defs) await rm(defs, { recursive: true, force: true });
  console.log(`boot figures (load ${(await readFile('/proc/loadavg', 'utf8')).trim()}): ${JSON.stringify(figures)}`);
}, 120_000);

describe.skipIf(!HAVE_SOURCES)('sipbake build --local', () => {
  it.each(SEEDS)(
    '%s: the root the AMI would hold, under the content hash the AMI dedup computes',
    async (seed) => {
      const { r, file } = baked.get(seed)!;
      figures[`${seed}.bake`] = { action: r.action, cached: r.cached, seconds: r.seconds };
      const root = r.rootfs;
      // The AMI path (sipbake build --plan against the EC2 fake) on a repository holding the same definition.
      const text = await readFile(file, 'utf8');
      const fx = await buildFixture({ regions: ['us-east-1'], pinsAsShipped: true, edit: (name, yaml) => (name === seed ? text : yaml) });
      try {
        const plan = await buildImage(
          { image: seed, plan: true },
          { root: fx.root, reporter: new RecordingReporter(), signal: new AbortController().signal, env: fx.env(), ec2For: fx.ec2For, renderer: 'silent' },
        );
        expect(r.contentHash).toBe(plan.contentHash);
      } finally {
        await fx.cleanup();
      }
      // Built from the pinned sources with exactly the image's modules.
      const record = JSON.parse(await readFile(path.join(r.out, 'sipbake-local.json'), 'utf8')) as { modules: string[] };
      const mods = (await readdir(path.join(root, 'usr/local/lib64/kamailio/modules'))).map((f) => f.replace(/\.so$/, '')).sort();
      expect(mods).toEqual([...record.modules].sort());
      expect(existsSync(path.join(root, 'usr/local/sbin/kamailio'))).toBe(true);
      expect(existsSync(path.join(root, 'usr/local/bin/rtpproxy'))).toBe(BOOT_IMAGES[seed].rtpproxy);
      const passwd = await readFile(path.join(root, 'etc/passwd'), 'utf8');
      expect(passwd).toMatch(/^kamailio:/m);
      // twilio-relay takes its root from the compile it shares with recorder-lb (src/bake/local/share.ts): what
      // its own compile would not have made is gone again.
      if (BOOT_IMAGES[seed].rtpproxy) expect(passwd).toMatch(/^rtpproxy:/m);
      else expect(passwd).not.toMatch(/^rtpproxy:/m);
      expect(existsSync(path.join(root, 'etc/systemd/system/rtpproxy.service'))).toBe(BOOT_IMAGES[seed].rtpproxy);
      const wants = await readdir(path.join(root, 'etc/systemd/system/multi-user.target.wants'));
      for (const u of units(BOOT_IMAGES[seed])) expect(wants).toContain(`${u}.service`);
      // Cleaned as the AMI is: no uploads, no build directory, no machine id; the cloud parts left out.
      expect(existsSync(path.join(root, 'tmp/sipbake'))).toBe(false);
      expect(existsSync(path.join(root, 'var/tmp/sipbake-build'))).toBe(false);
      expect(await readFile(path.join(root, 'etc/machine-id'), 'utf8')).toBe('');
      expect(existsSync(path.join(root, 'var/lib/dpkg/info/amazon-ssm-agent.list'))).toBe(false);
    },
    LONG,
  );

  it(
    'a second bake of the same content does nothing; a config change re-lays only the config',
    async () => {
      const b = BOOT_IMAGES['twilio-relay'];
      const again = await bakeBootImage(b, defs);
      expect(again.r.action).toBe('skipped');
      const relaid = await bakeBootImage(b, defs, { force: true });
      expect(relaid.r.action).toBe('built');
      expect(relaid.r.cached).toEqual({ base: true, compile: true });
      expect(relaid.r.contentHash).toBe(baked.get('twilio-relay')!.r.contentHash);
      figures['twilio-relay.relay-config'] = relaid.r.seconds;
    },
    LONG,
  );
});

describe.skipIf(!HAVE_SOURCES)('the baked root booted under systemd-nspawn', () => {
  it.each(SEEDS)(
    '%s: sipbake-boot ran, every unit active under its own user, a call passes, sipbake-status reports it',
    async (seed) => {
      const b = BOOT_IMAGES[seed];
      const x = await boot(b);
      figures[`${seed}.bootSeconds`] = x.bootSeconds;
      const failed = (await x.sh('systemctl --failed --no-legend')).stdout;
      expect({ state: x.state, failed }).toEqual({ state: 'running', failed: '' });
      const bootUnit = (await x.sh('systemctl show -p ActiveState -p Result sipbake-boot')).stdout;
      expect(bootUnit).toContain('ActiveState=active');
      expect(bootUnit).toContain('Result=success');
      for (const u of units(b)) expect(`${u}: ${(await x.sh(`systemctl is-active ${u}`)).stdout.trim()}`).toBe(`${u}: active`);
      for (const daemon of ['kamailio', ...(b.rtpproxy ? ['rtpproxy'] : [])]) {
        const users = new Set(
          (await x.sh(`ps -o user= -C ${daemon}`)).stdout
            .split('\n')
            .map((s) => s.trim())
            .filter(Boolean),
        );
        expect([...users]).toEqual([daemon]);
      }
      expect(await until('health port open', 60_000, () => tcpOpen(b.net.guestIp, b.healthPort))).toBe(true);

      const far = await farEnd(b, defs);
      try {
        const c = await call(b);
        expect((await c.sipp.waitExit(90_000)).code).toBe(0);
        await rm(c.dir, { recursive: true, force: true });
      } finally {
        await far.stop();
      }
      const status = await x.sh('node /usr/local/lib/sipbake/agent.mjs status');
      expect(status.exitCode).toBe(0);
      expect(status.stdout).toContain(`sipbake-status: ${seed}`);
      expect(status.stdout).toMatch(/Last boot +ok at .*private 10\.213\./);
      expect(status.stdout).toMatch(/Drain +not draining/);
      await x.close();
    },
    10 * 60_000,
  );

  it.each(SEEDS)(
    '%s: Terminated during a call: the agent drains (call completes), completes the hook; poweroff stops the units in order',
    async (seed) => {
      const b = BOOT_IMAGES[seed];
      const x = await boot(b);
      expect(x.state).toBe('running');
      await until('health port open', 60_000, () => tcpOpen(b.net.guestIp, b.healthPort));
      const far = await farEnd(b, defs);
      let caller: ManagedProcess | undefined;
      try {
        const c = await call(b, { holdMs: 12_000 });
        caller = c.sipp;
        let ended = false;
        void c.sipp.exited.then(() => (ended = true));
        // The call is up once the caller has sent its ACK.
        const log = sippFiles({ dir: c.dir, name: c.sipp.opts.name.replace(/^sipp /, '') }).messages;
        await until('call established', 30_000, async () => existsSync(log) && /^ACK /m.test(await readFile(log, 'utf8')));
        x.endpoints.terminate();
        // Draining: the health port closes while the call is still up.
        await until('health port closed', 30_000, async () => !(await tcpOpen(b.net.guestIp, b.healthPort)));
        expect(ended).toBe(false);
        expect((await c.sipp.waitExit(90_000)).code).toBe(0);
        const done = await until('CompleteLifecycleAction', 60_000, async () => x.endpoints.calls.find((k) => k.action === 'CompleteLifecycleAction' && k.ok));
        expect(done).toBeTruthy();
        await rm(c.dir, { recursive: true, force: true });
      } finally {
        await caller?.stop();
        await far.stop();
      }
      const drained = (await x.sh(`journalctl -b --no-pager -u sipbake-drain`)).stdout;
      expect(drained).toContain(HOOK);
      await x.sh('systemctl poweroff');
      expect(await x.machine.waitExit(120_000)).toEqual({ exitCode: 0, halted: false });
      const lines = await x.journal();
      const at = (unit: string) => lines.findIndex((l) => l.includes(`Stopped ${unit}`));
      // The reverse of the start order: rtpproxy.service starts before kamailio.service (Before=), so stops after it.
      const order = ['sipbake-drain', 'kamailio', ...(b.rtpproxy ? ['rtpproxy'] : []), 'sipbake-boot'].map(
        (u) => [`${u}.service`, at(`${u}.service`)] as const,
      );
      const stops = lines.filter((l) => / Stopp(ed|ing) /.test(l)).join('\n');
      for (const [u, i] of order) expect(`${u} stopped: ${i >= 0}\n${stops}`).toBe(`${u} stopped: true\n${stops}`);
      expect(order.map(([u]) => u)).toEqual([...order].sort((p, q) => p[1] - q[1]).map(([u]) => u));
      await x.close();
    },
    10 * 60_000,
  );

  it.each(SEEDS)(
    '%s with a config Kamailio rejects: kamailio.service in systemctl --failed, the health port refuses',
    async (seed) => {
      const b = BOOT_IMAGES[seed];
      const root = baked.get(seed)!.r.rootfs;
      const broken = path.join(defs, `${seed}.kamailio.cfg`);
      await writeFile(broken, `${await readFile(path.join(root, 'etc/kamailio/kamailio.cfg'), 'utf8')}\nthis is not a Kamailio statement (\n`);
      const x = await boot(b, [{ host: broken, guest: '/etc/kamailio/kamailio.cfg' }]);
      await until('kamailio.service failed', 120_000, async () => (await x.sh('systemctl is-failed kamailio.service')).stdout.trim() === 'failed');
      expect((await x.sh('systemctl --failed --no-legend --plain')).stdout).toMatch(/^kamailio\.service +\S+ +failed/m);
      expect((await x.sh('systemctl is-active sipbake-boot')).stdout.trim()).toBe('active');
      expect(await tcpOpen(b.net.guestIp, b.healthPort)).toBe(false);
      await x.close();
    },
    10 * 60_000,
  );
});

// sipbake rehearse --baked (issue 21, what to build 3): each instance the rehearsal's local bake, booted under
// systemd-nspawn in its namespace, rolled by `sipbake roll`'s engine. Last in this file, after the seeds' bakes:
// its two bakes take their root from the compile those cached (reuseCompiled), so CI compiles once.
const REHEARSE_TOOLS = ['systemd-nspawn', 'debootstrap', 'ip', 'nft', 'conntrack', 'kamailio', 'sipp'];
const missingTools = REHEARSE_TOOLS.filter((t) => {
  try {
    execFileSync('sh', ['-c', `command -v ${t}`]);
    return false;
  } catch {
    return true;
  }
});
const rehearseSkip = !HAVE_SOURCES
  ? `no pinned source archives at ${SOURCES}`
  : process.getuid?.() !== 0
    ? 'not root'
    : missingTools.length
      ? `missing ${missingTools.join(', ')} (sudo bash .ci/local-bake.sh; .ci/setup)`
      : undefined;
if (rehearseSkip) console.log(`skipping rehearse --baked: ${rehearseSkip}`);

describe.skipIf(rehearseSkip !== undefined)('sipbake rehearse twilio-relay --baked', () => {
  it(
    "2 booted instances rolled by sipbake roll's engine: 0 calls lost, every instance's boot time reported, no compile",
    async () => {
      const root = path.resolve(import.meta.dirname, '../..');
      if (!existsSync(path.join(root, 'dist/rehearse/ns-helper.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
      const lines: string[] = [];
      const s = await rehearse({
        root,
        image: 'twilio-relay',
        instances: 2,
        calls: 6,
        callSeconds: 30,
        scale: 10,
        deregistrationDelaySeconds: 30,
        hookTimeoutSeconds: 120,
        baked: true,
        tag: 'bt',
        log: (l) => lines.push(l),
      });
      const ctx = JSON.stringify({ calls: s.calls, perInstance: s.perInstance, bakes: s.bakes, verdict: s.verdict, tail: lines.slice(-20) }, null, 1);
      expect(s.engine, ctx).toBe('sipbake roll');
      expect(s.baked, ctx).toBe(true);
      expect(s.outcome, ctx).toBe('succeeded');
      expect(s.calls.completed, ctx).toBe(6);
      expect(s.calls.dropped + s.calls.refused + s.calls.unanswered + s.calls.unplaced, ctx).toBe(0);
      expect(s.verdict.ok, ctx).toBe(true);
      // Every instance, old and new, booted as an image and says how long that took.
      expect(
        s.perInstance.filter((i) => i.image === 'new'),
        ctx,
      ).toHaveLength(2);
      for (const i of s.perInstance) expect(i.bootSeconds, `${i.id}\n${ctx}`).toBeGreaterThan(0);
      // The old and the new image are two local bakes, neither of which compiled.
      expect(
        s.bakes?.map((b) => b.which),
        ctx,
      ).toEqual(['old', 'new']);
      for (const b of s.bakes ?? []) expect(b.compileCached, ctx).toBe(true);
      figures['rehearse --baked'] = {
        bootSeconds: s.perInstance.map((i) => i.bootSeconds),
        bakes: s.bakes?.map((b) => b.seconds.total),
        wallSeconds: s.times.wallSeconds,
      };
    },
    20 * 60_000,
  );
});
