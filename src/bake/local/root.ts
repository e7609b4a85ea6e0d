// The effects of a local bake on root filesystems: debootstrap a base, copy a root, run one bake script inside a
// root. Every mount lives in a private mount namespace (unshare), so it goes away with the script's process.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ProcessError, UserError } from '../../core/errors.js';
import { REMOTE_DIR } from './plan.js';

/** A directory that is either complete or absent: built under a temporary name, renamed into place. */
export async function buildOnce(dir: string, build: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  try {
    await build(tmp);
    if (existsSync(dir))
      await rm(tmp, { recursive: true, force: true }); // another bake finished it first
    else await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Every path under DIR of the root (DIR included), as absolute paths inside the root; [] when DIR is absent. */
export async function listUnder(rootfs: string, dir: string): Promise<string[]> {
  const at = path.join(rootfs, dir.slice(1));
  if (!existsSync(at)) return [];
  const r = await execa('find', [at, '-xdev'], { stripFinalNewline: true });
  return String(r.stdout)
    .split('\n')
    .filter(Boolean)
    .map((p) => `/${path.relative(rootfs, p)}`);
}

export async function debootstrap(o: {
  dir: string;
  release: string;
  packages: readonly string[];
  mirror: string;
  log: string;
  signal: AbortSignal;
}): Promise<void> {
  const args = ['--variant=minbase', `--include=${o.packages.join(',')}`, o.release, o.dir, o.mirror];
  const r = await execa('debootstrap', args, { all: true, reject: false, cancelSignal: o.signal });
  await appendFile(o.log, `$ debootstrap ${args.join(' ')}\n${r.all ?? ''}\n`);
  if (r.exitCode !== 0)
    throw new ProcessError('debootstrap', r.exitCode, r.signal, tail(r.all), `see ${o.log}; check that ${o.mirror} is reachable (apt-get update works)`);
}

/** cp -a: ownership, modes, links and special files as they are (the root is root's). */
export async function copyRoot(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await mkdir(path.dirname(to), { recursive: true });
  await execa('cp', ['-a', '--reflink=auto', from, to]);
}

export interface InRoot {
  root: string;
  /** The script under REMOTE_DIR/scripts inside the root. */
  script: string;
  env: Record<string, string>;
  /** false: a network namespace of its own with only loopback (every step but the package install). */
  network: boolean;
  /** Host directories bound over directories of the root for this script only. */
  binds?: { host: string; inRoot: string }[];
  log: string;
  signal: AbortSignal;
  onLine?: (line: string) => void;
}

// Runs as root in a private mount namespace: the mounts below vanish with it. /proc is the host's process view,
// not a PID namespace: systemctl knows it is in a chroot by its root differing from PID 1's, and then enables
// units offline and ignores daemon-reload (in a PID namespace of its own it would look for a systemd PID 1).
const WRAPPER = `set -eu
R="$1"; shift
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount --make-rslave "$R/dev"
while [ "$1" != "--" ]; do mkdir -p "$R$2"; mount --bind "$1" "$R$2"; shift 2; done
shift
if [ "\${SIPBAKE_NO_NET:-0}" = 1 ]; then ip link set lo up; fi
exec chroot "$R" "$@"`;

export async function runInRoot(o: InRoot): Promise<void> {
  const binds = (o.binds ?? []).flatMap((b) => [b.host, b.inRoot]);
  const envArgs = Object.entries(o.env).map(([k, v]) => `${k}=${v}`);
  const unshare = ['--mount', '--propagation', 'private', ...(o.network ? [] : ['--net'])];
  const cmd = ['/usr/bin/env', '-i', ...envArgs, 'bash', `${REMOTE_DIR}/scripts/${o.script}`];
  await appendFile(o.log, `\n$ (in ${o.root}${o.network ? '' : ', no network'}) bash ${REMOTE_DIR}/scripts/${o.script}\n`);
  const child = execa('unshare', [...unshare, 'sh', '-c', WRAPPER, 'sh', o.root, ...binds, '--', ...cmd], {
    env: { SIPBAKE_NO_NET: o.network ? '0' : '1' },
    extendEnv: true,
    all: true,
    reject: false,
    cancelSignal: o.signal,
    // Packer's shell provisioner has no stdin either.
    stdin: 'ignore',
  });
  const lines: string[] = [];
  child.all?.on('data', (b: Buffer) => {
    for (const l of b.toString('utf8').split('\n')) {
      if (!l) continue;
      lines.push(l);
      if (lines.length > 400) lines.shift();
      o.onLine?.(l);
    }
  });
  const r = await child;
  await appendFile(o.log, `${r.all ?? ''}\n(exit ${r.exitCode ?? r.signal})\n`);
  if (o.signal.aborted) throw new UserError(`local bake interrupted during ${o.script}`, `run it again; finished stages are cached`);
  if (r.exitCode !== 0) {
    const first = lines.find((l) => / error: /.test(l));
    throw new UserError(
      `${o.script} failed in the local root ${o.root}${first ? `: ${first.replace(/^==> sipbake \[[^\]]*\] error: /, '')}` : ''}`,
      `the whole output is in ${o.log}; the same script fails the same way in a Packer bake`,
      { details: lines.slice(-25) },
    );
  }
}

function tail(s: string | undefined, n = 20): string[] {
  return (s ?? '').split('\n').slice(-n);
}
