import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { findUpstream } from '../try/upstream.js';
import { run, WORK_DIR_PREFIX } from './rig.js';

// The machine a rehearsal runs on: what it needs (preflight) and what an earlier, killed rehearsal left behind.

/** Refuses clearly when the rehearsal cannot run here. */
export async function preflight(): Promise<void> {
  if (process.platform !== 'linux') throw new UserError('sipbake rehearse needs Linux (network namespaces, nftables)', 'run it on a Linux machine or VM');
  if (process.getuid?.() !== 0) throw new UserError('sipbake rehearse must run as root: it creates network namespaces and nftables rules', 'run it with sudo');
  const missing: string[] = [];
  for (const [bin, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
    ['conntrack', 'conntrack'],
    ['kamailio', 'kamailio'],
    ['kamcmd', 'kamailio'],
    ['sipp', 'sip-tester'],
  ] as const) {
    const ok = await run(['sh', '-c', `command -v ${bin}`]).then(
      () => true,
      () => false,
    );
    if (!ok) missing.push(`${bin} (apt-get install ${pkg})`);
  }
  if (missing.length) throw new UserError(`sipbake rehearse needs ${missing.join(', ')}`, 'install the missing packages and run it again');
}

/**
 * Says which Kamailio the rehearsal runs: the pinned build (what the AMI runs, compiled by .ci/setup; rig.ts
 * spawnEnv puts it first on each spawn's PATH) when this machine has it, Debian's otherwise.
 */
export function usePinnedBinaries(log: (l: string) => void): void {
  const b = findUpstream();
  if (!b) {
    log(
      "note: the pinned Kamailio 5.5.7 is not built on this machine, so this rehearsal runs Debian's kamailio (sudo bash .ci/setup with ../shared beside the repository builds it)",
    );
    return;
  }
  // Each spawn gets it on its PATH (rig.ts spawnEnv); this process's PATH stays as it was.
  log(`kamailio ${b.kamailio.version} (pinned build, ${b.kamailio.bin})`);
}

/** Namespaces left by a rehearsal whose process died without cleaning up (SIGKILL): their processes, then them. */
export async function removeStale(log: (l: string) => void): Promise<void> {
  const list = await run(['ip', 'netns', 'list']).catch(() => '');
  for (const ns of list.split('\n').map((l) => l.split(' ')[0] ?? '')) {
    const pid = Number(/^sbr(\d+)[a-z]*-/.exec(ns)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    for (const p of (await run(['ip', 'netns', 'pids', ns]).catch(() => '')).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await run(['ip', 'netns', 'del', ns]).catch(() => '');
    log(`removed namespace ${ns} left by an earlier rehearsal (process ${pid} is gone)`);
  }
}

/** nspawn's per-machine directory; a machine whose nspawn was killed leaves its own behind. */
const NSPAWN_PROPAGATE = '/run/systemd/nspawn/propagate';

/**
 * Pure: the --baked machines (`-M sipbake-NS`, NS a rehearsal namespace, baked-instance.ts) of rehearsals whose
 * process is gone, among machine names (nspawn's -M, or its propagate directory's names).
 */
export function staleMachines(names: readonly string[], alive: (pid: number) => boolean, self = process.pid): string[] {
  return names.filter((n) => {
    const pid = Number(/^sipbake-sbr(\d+)[a-z]*-/.exec(n)?.[1]);
    return pid > 0 && pid !== self && !alive(pid);
  });
}

/** Pure: the machine name of a systemd-nspawn command line (NUL-separated, as /proc/PID/cmdline), if any. */
export function nspawnMachine(cmdline: string): string | undefined {
  const argv = cmdline.split('\0');
  if (!/(^|\/)systemd-nspawn$/.test(argv[0] ?? '')) return undefined;
  const i = argv.findIndex((a) => a === '-M' || a === '--machine');
  const eq = argv.find((a) => a.startsWith('--machine='));
  return i >= 0 ? argv[i + 1] : eq?.slice('--machine='.length);
}

/**
 * --baked machines a killed rehearsal left: a systemd-nspawn still running (removeStale ends its guest through its
 * namespace; this catches one whose namespace is already gone: two SIGTERMs, a halt then nspawn's immediate exit),
 * and the propagate directory a killed nspawn leaves in /run.
 */
export async function removeStaleMachines(
  log: (l: string) => void,
  o: { isAlive?: (pid: number) => boolean; proc?: string; propagate?: string; kill?: (pid: number, sig: NodeJS.Signals) => void; pauseMs?: number } = {},
): Promise<string[]> {
  const isAlive = o.isAlive ?? alive;
  const proc = o.proc ?? '/proc';
  const propagate = o.propagate ?? NSPAWN_PROPAGATE;
  const found: string[] = [];
  for (const p of await readdir(proc).catch(() => [] as string[])) {
    if (!/^\d+$/.test(p)) continue;
    const name = nspawnMachine(await readFile(path.join(proc, p, 'cmdline'), 'utf8').catch(() => ''));
    if (name === undefined || staleMachines([name], isAlive).length === 0) continue;
    for (const sig of ['SIGTERM', 'SIGTERM'] as const) {
      try {
        (o.kill ?? process.kill)(Number(p), sig);
      } catch {
        /* gone */
      }
      await new Promise((r) => setTimeout(r, o.pauseMs ?? 1000));
    }
    found.push(name);
    log(`stopped machine ${name} (systemd-nspawn ${p}) left by an earlier rehearsal`);
  }
  for (const d of staleMachines(await readdir(propagate).catch(() => []), isAlive)) {
    await rm(path.join(propagate, d), { recursive: true, force: true });
    log(`removed ${path.join(propagate, d)} left by an earlier rehearsal's machine`);
    found.push(d);
  }
  return [...new Set(found)];
}

/** Pure: the work directories (names in the temporary directory) of rehearsals whose process is gone. */
export function staleWorkDirs(names: readonly string[], alive: (pid: number) => boolean, self = process.pid): string[] {
  return names.filter((n) => {
    const pid = Number(new RegExp(`^${WORK_DIR_PREFIX}(\\d+)-`).exec(n)?.[1]);
    return pid > 0 && pid !== self && !alive(pid);
  });
}

/** Work directories left by a rehearsal whose process died without cleaning up (SIGKILL). */
export async function removeStaleDirs(tmp: string, log: (l: string) => void, isAlive: (pid: number) => boolean = alive): Promise<string[]> {
  const stale = staleWorkDirs(await readdir(tmp).catch(() => []), isAlive);
  for (const d of stale) {
    await rm(path.join(tmp, d), { recursive: true, force: true });
    log(`removed work directory ${path.join(tmp, d)} left by an earlier rehearsal (its process is gone)`);
  }
  return stale;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
