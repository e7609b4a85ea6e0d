// A baked root booted under systemd-nspawn in a network namespace (src/boot/net.ts). The host has no systemd PID 1
// and no system D-Bus, hence --register=no --keep-unit; and no machinectl: commands run in the guest through
// nsenter into its init's namespaces. The console (systemd's status lines, cut to 80 columns) is kept for the
// record; the shutdown order is read from the guest's journal (journalDir).
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';

export interface Machine {
  name: string;
  /** PID of the guest's systemd (PID 1 inside). */
  leader: number;
  /** Console output so far. */
  console(): string;
  /** Runs argv in the guest as root (its namespaces and root), with a plain PATH. */
  exec(argv: string[], o?: { timeoutMs?: number }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Waits for nspawn to exit (after a poweroff), at most timeoutMs; then halts it (SIGTERM, then SIGKILL). */
  waitExit(timeoutMs: number): Promise<{ exitCode: number | undefined; halted: boolean }>;
  /** Halts the guest (SIGTERM to nspawn: a clean shutdown), then kills it if it does not go within timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
}

const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function children(pid: number): Promise<number[]> {
  const out: number[] = [];
  const dir = `/proc/${pid}/task`;
  for (const t of await readdir(dir).catch(() => [] as string[])) {
    const c = await readFile(`${dir}/${t}/children`, 'utf8').catch(() => '');
    out.push(...c.split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

/** The guest's systemd: the first descendant of nspawn named systemd. */
async function findLeader(pid: number): Promise<number | undefined> {
  const queue = await children(pid);
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    const comm = (await readFile(`/proc/${p}/comm`, 'utf8').catch(() => '')).trim();
    if (comm === 'systemd') return p;
    queue.push(...(await children(p)));
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BootOptions {
  root: string;
  name: string;
  netnsPath: string;
  /** A host directory that becomes the guest's /var/log/journal (read with journalctl -D after shutdown). */
  journalDir?: string;
  /** Host files bound read-only over guest paths (unit drop-ins, a broken config). */
  bindRo?: { host: string; guest: string }[];
  timeoutMs?: number;
}

/** systemd-nspawn's arguments for a boot of o.root in o.netnsPath (after the program name). */
export function nspawnArgs(o: BootOptions): string[] {
  return [
    ...['-D', o.root, '--boot', '--register=no', '--keep-unit', `--network-namespace-path=${o.netnsPath}`, '-M', o.name],
    // The baked root stays as baked: what the guest writes (machine id, boot files, journal) goes to a tmpfs.
    '--volatile=overlay',
    ...(o.bindRo ?? []).map((b) => `--bind-ro=${b.host}:${b.guest}`),
    // The guest's journal on the host (persistent: the directory exists), readable after the guest is gone.
    ...(o.journalDir ? [`--bind=${o.journalDir}:/var/log/journal`] : []),
    '--console=read-only',
    '-q',
    // To the guest's systemd: its start and stop lines on the console, which is how the shutdown order is read.
    '--',
    '--show-status=yes',
  ];
}

// Found, and listening: systemctl in the guest talks to PID 1 on /run/systemd/private (no D-Bus needed).
const listening = (p: number) => existsSync(`/proc/${p}/root/run/systemd/private`);

/** The guest's systemd under nspawn's pid once it listens; undefined if nspawn exits or the deadline passes. */
export async function guestLeader(pid: number, exited: () => boolean, deadline: number): Promise<number | undefined> {
  let leader: number | undefined;
  while (!(leader && listening(leader)) && !exited() && Date.now() < deadline) {
    leader ??= await findLeader(pid);
    await sleep(100);
  }
  return leader && listening(leader) ? leader : undefined;
}

/** argv run in the guest (its namespaces and root) as root, with a plain PATH. */
export const inGuest = (leader: number, argv: string[]): ['nsenter', ...string[]] => [
  'nsenter',
  '-t',
  String(leader),
  '-a',
  '-r',
  '-w',
  '--',
  '/usr/bin/env',
  '-i',
  `PATH=${GUEST_PATH}`,
  'LANG=C.UTF-8',
  ...argv,
];

export async function bootMachine(o: BootOptions): Promise<Machine> {
  if (!existsSync(o.netnsPath)) throw new Error(`network namespace ${o.netnsPath} does not exist`);
  const child: ResultPromise = execa('systemd-nspawn', nspawnArgs(o), { reject: false, all: true, stdin: 'ignore', env: { SYSTEMD_LOG_COLOR: '0' } });
  let consoleText = '';
  child.all?.on('data', (b: Buffer) => {
    consoleText += b.toString('utf8');
    if (consoleText.length > 2_000_000) consoleText = consoleText.slice(-1_000_000);
  });
  let exited: { exitCode: number | undefined } | undefined;
  void child.then((r) => (exited = { exitCode: r.exitCode }));
  const pid = child.pid;
  if (pid === undefined) throw new Error('systemd-nspawn did not start (is systemd-container installed?)');
  const leader = await guestLeader(pid, () => exited !== undefined, Date.now() + (o.timeoutMs ?? 30_000));
  const halt = async (timeoutMs: number) => {
    if (exited) return;
    child.kill('SIGTERM');
    const until = Date.now() + timeoutMs;
    while (!exited && Date.now() < until) await sleep(200);
    if (!exited) child.kill('SIGKILL');
    await child;
  };
  if (!leader) {
    await halt(5000);
    throw new Error(`systemd-nspawn ${o.root} did not start the guest's systemd:\n${consoleText.split('\n').slice(-30).join('\n')}`);
  }
  const l = leader;
  return {
    name: o.name,
    leader: l,
    console: () => consoleText,
    exec: async (argv, x) => {
      const [bin, ...args] = inGuest(l, argv);
      const r = await execa(bin, args, {
        reject: false,
        timeout: x?.timeoutMs ?? 60_000,
      });
      return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
    waitExit: async (timeoutMs) => {
      const until = Date.now() + timeoutMs;
      while (!exited && Date.now() < until) await sleep(200);
      if (exited) return { exitCode: exited.exitCode, halted: false };
      await halt(10_000);
      return { exitCode: undefined, halted: true };
    },
    stop: (timeoutMs = 30_000) => halt(timeoutMs),
  };
}
