// `sipbake rehearse --baked`: each instance is the locally baked root (sipbake build --local) booted under
// systemd-nspawn in the instance's namespace, instead of the image's processes started from a rendered tree. The
// same shape as the process launcher (fleet.ts launch): the same namespace, the same IMDS / Auto Scaling / EC2
// endpoints forwarded to 127.0.0.1:1338-1340 by the namespace's helper (the guest shares the namespace, so its
// loopback is the helper's), and the same entry in rig.live. The old and the new AMI are two local bakes: the new
// one from its own definition (--to), or the same definition re-laid (the bake's 40/90 steps on the cached compile).
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildLocal, DEFAULT_CACHE } from '../bake/local/index.js';
import { guestLeader, inGuest, nspawnArgs } from '../boot/machine.js';
import { BOOT_INCLUDE_PATH } from '../contract/boot-include.js';
import { readBootResult } from '../contract/boot-result.js';
import { UserError } from '../core/errors.js';
import { RecordingReporter } from '../core/reporter.js';
import { AGENT_ENDPOINTS, agentForwards } from './agent-endpoints.js';
import { breakConfig } from './break-config.js';
import { agentEnv, parseBootInclude } from './boot.js';
import { serveInstanceImds } from './instance-imds.js';
import type { Fleet } from './fleet.js';
import type { RehearsalImage } from './image.js';
import { instanceCommands } from './net-plan.js';
import { event, sh, start, type Rig } from './rig.js';
import type { BreakKind, LocalBakeFigures } from './types.js';

/** Each image's baked root (set by bakeImages). */
const roots = new WeakMap<RehearsalImage, string>();
/** Per rig: each instance's boot time, nspawn start to `systemctl is-system-running` = running. */
const bootTimes = new WeakMap<Rig, Map<string, number>>();

export const bootSecondsOf = (rig: Rig): Map<string, number> => bootTimes.get(rig) ?? new Map<string, number>();
/** Per rig: the two local bakes, for the summary. */
const bakeFigures = new WeakMap<Rig, LocalBakeFigures[]>();
export const bakesOf = (rig: Rig): LocalBakeFigures[] | undefined => bakeFigures.get(rig);

/** Bakes the old and the new image locally (cached: a second rehearsal only checks the content hash). */
export async function bakeImages(rig: Rig, imgs: { old: RehearsalImage; new: RehearsalImage }): Promise<void> {
  const cacheDir = process.env.SIPBAKE_CACHE_DIR ?? DEFAULT_CACHE;
  for (const [which, img] of [
    ['old', imgs.old],
    ['new', imgs.new],
  ] as const) {
    const t = performance.now();
    const r = await buildLocal(
      // reuseCompiled: the compile the boot test (or any bake) cached when it covers this image: never a second compile.
      { image: img.definitionFile, out: path.join(cacheDir, 'local', 'rehearse', `${img.name}-${which}`), reuseCompiled: true },
      { root: rig.o.root, reporter: new RecordingReporter(), signal: rig.o.signal ?? new AbortController().signal, cacheDir },
    );
    roots.set(img, r.rootfs);
    const figures = bakeFigures.get(rig) ?? [];
    figures.push({ which, image: img.name, contentHash: r.contentHash, action: r.action, compileCached: r.cached.compile, seconds: r.seconds });
    bakeFigures.set(rig, figures);
    event(
      rig,
      'bake',
      `${which} image ${img.name}: local bake ${r.action} (content ${r.contentHash.slice(0, 12)}) in ${Math.round((performance.now() - t) / 100) / 10} s: ${r.rootfs}`,
    );
  }
}

/**
 * The guest's agent units (sipbake-boot, sipbake-drain) get the process launcher's agent environment (agentEnv,
 * less SIPBAKE_ROOT: the guest's root is /) and the AWS endpoints fleet.ts gives the drain agent (AGENT_ENDPOINTS).
 */
export function endpointsDropIn(): string {
  const env = [
    ...agentEnv('/')
      .slice(1)
      .filter((e) => !e.startsWith('SIPBAKE_ROOT=')),
    ...AGENT_ENDPOINTS,
  ];
  return `[Service]\n${env.map((e) => `Environment=${e}`).join('\n')}\n`;
}

/** --break on a booted image: a broken config bound over the baked one, or Kamailio held back (slow boot). */
async function breakBinds(dir: string, root: string, brk: BreakKind | undefined): Promise<{ host: string; guest: string }[]> {
  if (brk === 'slow-boot') {
    const f = path.join(dir, 'slow-boot.conf');
    await writeFile(f, '[Service]\nExecStartPre=/bin/sleep 8\n');
    return [{ host: f, guest: '/etc/systemd/system/kamailio.service.d/slow-boot.conf' }];
  }
  if (brk !== 'start' && brk !== '503') return [];
  const cfg = await readFile(path.join(root, 'etc/kamailio/kamailio.cfg'), 'utf8');
  const f = path.join(dir, 'kamailio.cfg');
  await writeFile(f, breakConfig(cfg, brk));
  return [{ host: f, guest: '/etc/kamailio/kamailio.cfg' }];
}

/** One instance of img, booted from its baked root: namespace, IMDS, the guest's systemd and its units. */
export async function launch(rig: Rig, f: Fleet, k: number, id: string, img: RehearsalImage, brk?: BreakKind): Promise<void> {
  const root = roots.get(img);
  if (!root) throw new Error(`rehearse --baked: image ${img.name} was not baked (bakeImages first)`);
  const ns = rig.names.instance(k);
  await sh(rig, instanceCommands(rig.names, k));
  const dir = path.join(rig.dir, `i${k}`);
  await mkdir(dir, { recursive: true });
  const imdsSock = await serveInstanceImds(rig, f, k, id, img);
  const h = start(rig, ['ip', 'netns', 'exec', ns, process.execPath, rig.helper, ...agentForwards(f, imdsSock)], `helper ${ns}`);
  await h.waitForLine(/^ready$/, 10_000);
  const dropIn = path.join(dir, 'rehearsal-endpoints.conf');
  await writeFile(dropIn, endpointsDropIn());
  const bindRo = [
    ...['sipbake-boot', 'sipbake-drain'].map((u) => ({ host: dropIn, guest: `/etc/systemd/system/${u}.service.d/rehearsal-endpoints.conf` })),
    ...(await breakBinds(dir, root, brk)),
  ];
  if (brk) event(rig, id, `--break ${brk} on the booted image`);
  const t0 = performance.now();
  const machine = start(
    rig,
    ['systemd-nspawn', ...nspawnArgs({ root, name: `sipbake-${ns}`, netnsPath: `/run/netns/${ns}`, bindRo })],
    `machine ${id}`,
    `machine-${k}.log`,
  );
  if (machine.pid === undefined) throw new UserError(`systemd-nspawn did not start for ${id}`, 'apt-get install systemd-container');
  const leader = await guestLeader(machine.pid, () => !machine.running, Date.now() + 60_000);
  if (leader === undefined)
    throw new UserError(`instance ${id}: the baked root ${root} did not boot under systemd-nspawn`, `see ${path.join(rig.dir, `machine-${k}.log`)}`);
  const [bin, ...args] = inGuest(leader, ['systemctl', 'is-system-running', '--wait']);
  // running, or degraded when a unit failed (a broken config): the NLB's health check tells the roll which.
  const state = String((await execa(bin, args, { reject: false, timeout: 180_000 })).stdout).trim();
  const seconds = Math.round((performance.now() - t0) / 100) / 10;
  const times = bootTimes.get(rig) ?? new Map<string, number>();
  bootTimes.set(rig, times.set(id, seconds));
  event(rig, id, `booted ${img.name} (baked root) in ${seconds} s: ${state}`);
  // The guest's root as the host sees it: the ctl socket (dialogs held), the boot include and the agent's record.
  const tree = `/proc/${leader}/root`;
  const include = path.join(tree, BOOT_INCLUDE_PATH);
  if (existsSync(include)) {
    const result = await readBootResult(tree);
    f.boots.set(id, { ...parseBootInclude(await readFile(include, 'utf8')), files: (result?.files ?? []).map((x) => x.replace(/^\//, '')) });
  }
  // Kamailio and the drain agent are units of the guest's systemd, not processes of the rehearsal: the machine is
  // the one process (SIGTERM halts it cleanly, as a terminated instance shuts down).
  rig.live.set(id, { k, id, ns, tree, procs: [h, machine] });
  // The guest's sipbake-drain has started by now (is-system-running waits for the boot's start jobs).
  const v = f.cs.instances.find((i) => i.id === id);
  if (v !== undefined) v.agentStartedAt = Date.now();
}
