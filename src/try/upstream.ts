// The pinned Kamailio and RTPProxy as .ci/upstream.sh compiles them, once per machine, with the bake scripts:
//   $SIPBAKE_UPSTREAM_CACHE (default /var/cache/sipbake/upstream)/KEY/{sbin/kamailio, bin/rtpproxy, sipbake-upstream.json}
// Found by their sipbake-upstream.json: the entry whose module set holds every module asked for, newest first.
// SIPBAKE_UPSTREAM=off hides it (Debian's kamailio and the Node stand-in then). Synchronous on purpose: vitest's config reads it to put the binaries first on the live tests' PATH.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const UPSTREAM_CACHE_DEFAULT = '/var/cache/sipbake/upstream';
const MARKER = 'sipbake-upstream.json';

export interface UpstreamBuild {
  dir: string;
  kamailio: { version: string; banner: string; bin: string };
  rtpproxy: { version: string; banner: string; bin: string };
  modules: string[];
  compileSeconds?: number;
}

function upstreamCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.SIPBAKE_UPSTREAM_CACHE || UPSTREAM_CACHE_DEFAULT;
}

function readBuild(dir: string): UpstreamBuild | undefined {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, MARKER), 'utf8')) as {
      kamailio: { version: string; banner: string };
      rtpproxy: { version: string; banner: string };
      modules: string[];
      compileSeconds?: number;
    };
    const kam = path.join(dir, 'sbin/kamailio');
    const rtp = path.join(dir, 'bin/rtpproxy');
    if (!existsSync(kam) || !existsSync(rtp)) return undefined;
    return {
      dir,
      kamailio: { ...m.kamailio, bin: kam },
      rtpproxy: { ...m.rtpproxy, bin: rtp },
      modules: m.modules,
      ...(m.compileSeconds !== undefined ? { compileSeconds: m.compileSeconds } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The newest complete build that carries every module in `modules` (all builds match when none are given). */
export function findUpstream(o: { modules?: readonly string[]; cache?: string } = {}): UpstreamBuild | undefined {
  if (process.env.SIPBAKE_UPSTREAM === 'off') return undefined; // a run that wants Debian's kamailio and the stand-in
  const cache = o.cache ?? upstreamCache();
  let names: string[];
  try {
    names = readdirSync(cache);
  } catch {
    return undefined;
  }
  const wanted = o.modules ?? [];
  const builds = names
    .map((n) => readBuild(path.join(cache, n)))
    .filter((b): b is UpstreamBuild => b !== undefined && wanted.every((m) => b.modules.includes(m)))
    .sort((a, b) => statSync(path.join(b.dir, MARKER)).mtimeMs - statSync(path.join(a.dir, MARKER)).mtimeMs);
  return builds[0];
}

/** PATH with the build's sbin and bin first: `kamailio` and `rtpproxy` resolve to the pinned builds. */
export function upstreamPath(b: UpstreamBuild, pathVar = process.env.PATH ?? ''): string {
  return [path.dirname(b.kamailio.bin), path.dirname(b.rtpproxy.bin), pathVar].filter(Boolean).join(path.delimiter);
}

/** The real RTPProxy to run: the pinned build, else one on PATH; undefined when there is none. */
export function rtpproxyBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const d of (env.PATH ?? '').split(path.delimiter)) {
    const f = path.join(d, 'rtpproxy');
    if (d && existsSync(f)) return f;
  }
  return findUpstream()?.rtpproxy.bin;
}
