// One compile shared by several images (pure). The compile stage is the slow part of a local bake (apt, then
// Kamailio and RTPProxy from source); images whose module sets differ would each compile. A shared compile builds
// the union once, with the same scripts (20-kamailio builds exactly the modules its manifest lists, so the compile
// stage gets a manifest of the union), and each image's config stage first takes out what its own compile would
// not have installed:
//   - the Kamailio modules it does not load (make install installs one .so per listed module, nothing else per
//     module: the rest of the prefix is the same for any module set whose libraries are the same, which
//     `sameLibraries` below requires);
//   - RTPProxy, when the image has none: the files 30-rtpproxy installed (recorded by the compile, not guessed),
//     its unit, its env file and its system user.
// What this leaves is the root the image's own compile would have made; test/bake/local-share.test.ts pins the
// script, and bench/local-bake.json records the tree comparison that showed it on this machine.
import { UserError } from '../../core/errors.js';

export interface CompileSet {
  modules: string[];
  rtpproxy: boolean;
}

/** The union of the images' compile needs, sorted (the compile key sorts it too). */
export function unionSet(sets: CompileSet[]): CompileSet {
  return { modules: [...new Set(sets.flatMap((s) => s.modules))].sort(), rtpproxy: sets.some((s) => s.rtpproxy) };
}

/**
 * Kamailio's internal libraries a module needs (lib64/kamailio/lib*.so, from each module's Makefile SER_LIBS).
 * Only modules listed here may be taken out of a shared compile: for them it is known that taking the .so out
 * leaves the libraries the image's own compile would install. Modules that bring a library of their own (db_*,
 * presence, …) are not listed, so an image that lacks one does not share.
 */
// Read from Kamailio 5.5.7's src/modules/*/Makefile (SER_LIBS). siputils (always loaded) needs srdb1 too.
const LIBS: Record<string, string[]> = {
  dispatcher: ['srdb1'],
  htable: ['srdb1'],
  rtpproxy: ['srdb1'],
  dialog: ['srdb1'],
  siputils: ['srdb1'],
  jsonrpcs: [],
  nathelper: [],
  pike: [],
  ipops: [],
  tls: [],
  debugger: [],
};

/** Why this image cannot take its root from the shared compile, or undefined when it can. */
export function cannotShare(own: CompileSet, shared: CompileSet): string | undefined {
  const missing = own.modules.filter((m) => !shared.modules.includes(m));
  if (missing.length) return `the shared compile lacks ${missing.join(', ')}`;
  if (own.rtpproxy && !shared.rtpproxy) return 'the shared compile has no RTPProxy';
  const extra = shared.modules.filter((m) => !own.modules.includes(m));
  const unknown = extra.filter((m) => !(m in LIBS));
  if (unknown.length) return `taking ${unknown.join(', ')} out of a shared compile is not known to leave the same libraries`;
  const kept = new Set(own.modules.flatMap((m) => LIBS[m] ?? []));
  const onlyExtra = extra.flatMap((m) => LIBS[m] ?? []).filter((l) => !kept.has(l));
  if (onlyExtra.length)
    return `${extra.join(', ')} bring${extra.length === 1 ? 's' : ''} ${onlyExtra.join(', ')}, which this image's own compile would not install`;
  return undefined;
}

/** The manifest the compile stage's scripts read: the union (20-kamailio refuses modules its manifest lacks). */
export function compileManifest(s: CompileSet): string {
  return `${JSON.stringify({
    modules: s.modules,
    dispatcher: { backend: { type: s.modules.includes('db_postgres') ? 'postgres' : 'file' } },
    tls: { enabled: s.modules.includes('tls') },
    rtpproxy: { enabled: s.rtpproxy },
  })}\n`;
}

export interface FitInputs {
  own: CompileSet;
  shared: CompileSet;
  /** Paths (absolute, inside the root) that 30-rtpproxy installed in the shared compile. */
  rtpproxyFiles: string[];
  /** Kamailio's module directory inside the root (SIPBAKE_PREFIX/lib64/kamailio/modules). */
  moduleDir: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell script, run in the root before 40-config, that fits a shared compile to one image; '' if none needed. */
export function fitScript(i: FitInputs): string {
  const why = cannotShare(i.own, i.shared);
  if (why) throw new UserError(`cannot fit the shared compile to this image: ${why}`, 'bake it with its own compile (no shared set)');
  const lines: string[] = [];
  const extra = i.shared.modules.filter((m) => !i.own.modules.includes(m));
  for (const m of extra) lines.push(`rm -f ${quote(`${i.moduleDir}/${m}.so`)}`);
  if (i.shared.rtpproxy && !i.own.rtpproxy) {
    if (i.rtpproxyFiles.length === 0)
      throw new UserError('the shared compile recorded no RTPProxy files', 'remove the compiled root so that it is compiled again');
    // Deepest first, so that a directory RTPProxy made is empty by the time it is removed.
    for (const f of [...i.rtpproxyFiles].sort().reverse())
      lines.push(`if [ -d ${quote(f)} ] && [ ! -L ${quote(f)} ]; then rmdir ${quote(f)}; else rm -f ${quote(f)}; fi`);
    lines.push('rm -f /etc/systemd/system/rtpproxy.service /etc/sipbake/rtpproxy.env');
    lines.push('if getent passwd rtpproxy >/dev/null; then userdel rtpproxy; fi');
    lines.push('if getent group rtpproxy >/dev/null; then groupdel rtpproxy; fi');
    // shadow-utils' backups (/etc/passwd- …) hold the state before the last user change. In the image's own
    // compile that change is 20-kamailio's `useradd kamailio`, so they are the files without the kamailio lines.
    lines.push('for f in passwd group shadow gshadow; do grep -v \'^kamailio:\' "/etc/$f" >"/etc/$f-" || true; done');
  }
  if (lines.length === 0) return '';
  return ['#!/usr/bin/env bash', '# local bake: fit the shared compile to this image (src/bake/local/share.ts)', 'set -euo pipefail', ...lines, ''].join('\n');
}

/** What 30-rtpproxy added: the paths present after it and not before (both lists relative to the root). */
export function addedPaths(before: string[], after: string[]): string[] {
  const had = new Set(before);
  return after.filter((p) => !had.has(p)).sort();
}

/** A compiled root in the cache and the set it compiled (its `KEY.set.json`, written beside it by the compile). */
export interface CachedCompile {
  key: string;
  set: CompileSet;
}

/**
 * The cached compile an image can take its root from when its own compile is not cached: one whose key is the key
 * this bake would give its set (same base, sources, scripts: keyOf recomputes it, so a stale or foreign record is
 * never trusted) and that fits back to the image (cannotShare). The smallest such set, so the fit takes out least.
 */
export function coveringCompile(own: CompileSet, cached: CachedCompile[], keyOf: (s: CompileSet) => string | undefined): CachedCompile | undefined {
  const size = (s: CompileSet) => s.modules.length + (s.rtpproxy ? 1 : 0);
  return cached
    .filter((c) => cannotShare(own, c.set) === undefined && keyOf(c.set) === c.key)
    .sort((a, b) => size(a.set) - size(b.set) || a.key.localeCompare(b.key))[0];
}
