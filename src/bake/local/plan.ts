// The local bake, planned (pure): which cached roots it needs, under which keys, and what runs in them.
// A local bake is the AMI bake without AWS: the same numbered scripts, run as root inside a Debian 12 root
// (chroot) instead of on a build instance. It runs in two stages:
//   compile  00-base, 10-sources, 20-kamailio, 30-rtpproxy on a copy of the debootstrap'd base; cached by the
//            base, the pinned sources, the module set and those scripts (the slow part: apt and the compiles);
//   config   40-config, 90-cleanup on a copy of the compiled root, with this render's tree (seconds).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import type { Pins } from '../pins.js';
import type { ContentParts } from '../hash.js';

export const DEBIAN_RELEASE = 'bookworm';
/** What the Debian 12 AMI has that minbase lacks and the scripts or the boot need; 00-base.sh installs the rest. */
export const BASE_PACKAGES = ['systemd', 'systemd-sysv', 'dbus'] as const;
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** Where Packer uploads things on the build instance (src/bake/template.ts REMOTE_DIR); the same inside the root. */
export const REMOTE_DIR = '/tmp/sipbake';
/** The scripts' default SIPBAKE_WORK (scripts/lib/common.sh). */
const WORK_DIR = '/var/tmp/sipbake-build';

export const COMPILE_SCRIPTS = ['00-base.sh', '10-sources.sh', '20-kamailio.sh', '30-rtpproxy.sh'];
export const CONFIG_SCRIPTS = ['40-config.sh', '90-cleanup.sh'];

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

export interface StandIn {
  /** KAMAILIO or RTPPROXY, as in pins.env. */
  name: 'KAMAILIO' | 'RTPPROXY';
  version: string;
  file: string;
  sha256: string;
}

/**
 * The pinned sources as tarball pins from a local directory of upstream archives (`NAME-VERSION.tar.*` listed in
 * SHA256SUMS): the machines that bake locally cannot reach the pinned git URLs. Matched by the pinned version.
 */
export function standIns(pins: Pins, sums: string, dir: string, rtpproxy: boolean): StandIn[] {
  const listed = new Map<string, string>();
  for (const line of sums.split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(\S+)$/.exec(line.trim());
    if (m?.[1] && m[2]) listed.set(m[2], m[1]);
  }
  const wanted: StandIn['name'][] = rtpproxy ? ['KAMAILIO', 'RTPPROXY'] : ['KAMAILIO'];
  return wanted.map((name) => {
    const version = pins[`${name}_VERSION`];
    if (!version) throw new UserError(`scripts/pins.env has no ${name}_VERSION`, 'restore scripts/pins.env (npx sipbake pin)');
    const prefix = `${name.toLowerCase()}-${version}.tar.`;
    const file = [...listed.keys()].find((f) => f.startsWith(prefix));
    const sum = file ? listed.get(file) : undefined;
    if (!file || !sum)
      throw new UserError(
        `${path.join(dir, 'SHA256SUMS')} lists no ${prefix}* for the pinned ${name.toLowerCase()} ${version}`,
        `put the ${name.toLowerCase()} ${version} source archive and its sha256 line there, or point --sources at a directory that has them`,
      );
    return { name, version, file, sha256: sum };
  });
}

/** The pins file the scripts read inside the root: every stand-in a tarball pin with a file:// URL. */
export function standInPinsFile(s: StandIn[]): string {
  const lines = ['# local bake: the pinned sources as tarball pins from a local directory (sipbake build --local)'];
  for (const x of s) {
    lines.push(
      `${x.name}_VERSION=${x.version}`,
      `${x.name}_SOURCE=tarball`,
      `${x.name}_TARBALL_URL=file://${REMOTE_DIR}/upstream/${x.file}`,
      `${x.name}_TARBALL_SHA256=${x.sha256}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The Debian mirror the host's apt uses (deb822 or one-line sources), else Debian's own. */
export function mirrorFrom(sources: string[], release = DEBIAN_RELEASE): string {
  for (const text of sources) {
    for (const para of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(\S+)/m.exec(para)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(para)?.[1]?.split(/\s+/) ?? [];
      if (uris && suites.includes(release) && /\/debian\/?$/.test(uris)) return uris.replace(/\/$/, '');
      for (const line of para.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
        if (m?.[1] && m[2] === release && /\/debian\/?$/.test(m[1])) return m[1].replace(/\/$/, '');
      }
    }
  }
  return DEFAULT_MIRROR;
}

/** The debootstrap'd base: by release and package list (the mirror serves the same packages). */
export function baseKey(release = DEBIAN_RELEASE, packages: readonly string[] = BASE_PACKAGES): string {
  return `${release}-minbase-${sha(`${release}\n${[...packages].sort().join(',')}`).slice(0, 16)}`;
}

export interface CompileInputs {
  base: string;
  standIns: StandIn[];
  modules: string[];
  /** sha256 of the compile scripts and scripts/lib (what they run). */
  scripts: string;
}

/** The compiled root: base, sources, module set and the scripts that built it. */
export function compileKey(i: CompileInputs): string {
  const pins = i.standIns.map((s) => `${s.name}=${s.sha256}`).join(' ');
  return sha([i.base, pins, [...i.modules].sort().join(' '), i.scripts].join('\n')).slice(0, 24);
}

/** Environment of the scripts inside the root: on the instance's paths (SIPBAKE_ROOT empty), as Packer runs them. */
export function scriptEnv(jobs: number): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    SIPBAKE_TREE: `${REMOTE_DIR}/tree`,
    SIPBAKE_PINS: `${REMOTE_DIR}/pins.local.env`,
    SIPBAKE_BOOT_PLACEHOLDER: `${REMOTE_DIR}/boot-placeholder.cfg`,
    SIPBAKE_WORK: WORK_DIR,
    SIPBAKE_JOBS: String(jobs),
    // systemctl in the root enables units offline and ignores daemon-reload, as in any chroot (its own chroot
    // detection reads /proc/1/root, which a sandboxed host may not let it read).
    SYSTEMD_OFFLINE: '1',
    // The cloud parts (the SSM agent from AWS's bucket) are skipped: nothing here may reach AWS.
    SIPBAKE_LOCAL_BAKE: '1',
  };
}

/** Left in the compiled root for 90-cleanup.sh (it purges exactly these); the sources and objects are not kept. */
export const KEEP_FROM_WORK = 'build-deps.txt';
export const WORK_IN_ROOT = WORK_DIR;

export interface LocalBakeRecord {
  image: string;
  contentHash: string;
  parts: ContentParts;
  compileKey: string;
  base: string;
  sources: { name: string; version: string; file: string; sha256: string }[];
  modules: string[];
  /** When the compile stage was shared: what it compiled (src/bake/local/share.ts). */
  compiled?: { modules: string[]; rtpproxy: boolean };
  bakedAt: string;
}
/** Beside the root (not in it): what it is, for a second bake of the same content and for `--baked` rehearsals. */
export const RECORD_FILE = 'sipbake-local.json';
