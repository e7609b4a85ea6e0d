// `sipbake build IMAGE --local`: the AMI's root filesystem baked on this machine, no AWS. Load (definition,
// render, content hash, pins, stand-in sources) → plan (keys, plan.ts) → apply (cached base, cached compile,
// the config re-laid on a copy). The content hash is the AMI dedup's, so a local bake and an AMI of the same
// content carry the same hash.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import type { Reporter } from '../../core/reporter.js';
import { loadImageOrThrow } from '../../definition/load.js';
import { renderDefinition } from '../../render/index.js';
import { templateFor } from '../generate.js';
import { combineParts, contentParts, partsTag, type PartName } from '../hash.js';
import { parsePins } from '../pins.js';
import { placeholderBootInclude } from '../placeholder.js';
import {
  BASE_PACKAGES,
  COMPILE_SCRIPTS,
  CONFIG_SCRIPTS,
  DEBIAN_RELEASE,
  KEEP_FROM_WORK,
  RECORD_FILE,
  REMOTE_DIR,
  WORK_IN_ROOT,
  baseKey,
  compileKey,
  mirrorFrom,
  scriptEnv,
  standInPinsFile,
  standIns,
  type LocalBakeRecord,
  type StandIn,
} from './plan.js';
import { buildOnce, copyRoot, debootstrap, listUnder, runInRoot } from './root.js';
import { addedPaths, cannotShare, compileManifest, coveringCompile, fitScript, unionSet, type CachedCompile, type CompileSet } from './share.js';
import { modulesFor } from '../../render/view.js';

export const DEFAULT_CACHE = '/var/cache/sipbake';
/** What a bake directory holds; anything else means --out points at someone else's directory. */
const OURS = new Set(['root', 'bake.log', RECORD_FILE]);

/** Pure: the names in a bake's directory that a local bake did not write. systemd-nspawn's lock of the root it
 *  boots (`.#root.lck`, beside the root) counts as ours: a killed nspawn leaves it behind, and the next boot takes it. */
export function foreignFiles(names: readonly string[]): string[] {
  return names.filter((f) => !OURS.has(f) && !f.startsWith('root.tmp-') && f !== '.#root.lck');
}

export interface LocalBuildOptions {
  image: string;
  /** The bake's directory: the root in DIR/root, its record in DIR/sipbake-local.json. */
  out?: string;
  /** Upstream archives + SHA256SUMS (default: ../shared/upstream beside the repository). */
  sources?: string;
  force?: boolean;
  jobs?: number;
  /**
   * Other images (names or files) that share this bake's compile stage: it compiles the union of their module
   * sets once, and each image's config stage takes out what its own compile would not have installed (share.ts).
   */
  shareCompileWith?: string[];
  /**
   * When this image's own compile is not cached, take the root from a cached compile that covers its set (a
   * shared compile made for other images, fitted back as share.ts does) instead of compiling. `rehearse --baked`
   * sets it, so that it reuses the boot test's compile rather than compiling again.
   */
  reuseCompiled?: boolean;
}

export interface LocalBuildDeps {
  root: string;
  reporter: Reporter;
  signal: AbortSignal;
  /** Default /var/cache/sipbake (SIPBAKE_CACHE_DIR overrides it in the CLI). */
  cacheDir?: string;
}

export interface LocalBuildResult {
  image: string;
  contentHash: string;
  parts: Record<PartName, string>;
  action: 'built' | 'skipped';
  out: string;
  rootfs: string;
  log: string;
  cached: { base: boolean; compile: boolean };
  seconds: { base: number; compile: number; config: number; total: number };
}

interface Loaded {
  record: Omit<LocalBakeRecord, 'bakedAt'>;
  own: CompileSet;
  /** What the compile stage builds: the image's own set, or the union it shares. */
  compiled: CompileSet;
  tree: string;
  /** The tree the compile stage's scripts read: this image's, with the shared set's manifest when it shares. */
  compileTree: string;
  placeholder: string;
  rtpproxy: boolean;
  standIns: StandIn[];
  sourcesDir: string;
  mirror: string;
}

async function readAll(files: string[]): Promise<string[]> {
  return Promise.all(files.filter((f) => existsSync(f)).map((f) => readFile(f, 'utf8')));
}

async function aptSources(): Promise<string[]> {
  const d = '/etc/apt/sources.list.d';
  const extra = existsSync(d) ? (await readdir(d)).map((f) => path.join(d, f)) : [];
  return readAll(['/etc/apt/sources.list', ...extra]);
}

/** sha256 of what the compile stage runs: its scripts and scripts/lib. */
async function compileScriptsHash(scriptsDir: string): Promise<string> {
  const lib = (await readdir(path.join(scriptsDir, 'lib'))).sort().map((f) => `lib/${f}`);
  const h = createHash('sha256');
  for (const f of [...COMPILE_SCRIPTS, ...lib])
    h.update(`${f}\0`)
      .update(await readFile(path.join(scriptsDir, f)))
      .update('\0');
  return h.digest('hex');
}

async function load(o: LocalBuildOptions, d: LocalBuildDeps, work: string): Promise<Loaded> {
  const { image } = await loadImageOrThrow(d.root, o.image);
  const tree = path.join(work, 'tree');
  const r = await renderDefinition(d.root, image, { out: tree });
  const template = await templateFor(d.root);
  const scriptsDir = path.join(d.root, 'scripts');
  const parts = await contentParts({ image, treeDir: tree, scriptsDir, template: template.template, plugins: template.plugins });
  const placeholder = path.join(work, 'boot-placeholder.cfg');
  await writeFile(placeholder, placeholderBootInclude(image));
  const sourcesDir = o.sources ? path.resolve(o.sources) : await defaultSources(d.root);
  const sums = path.join(sourcesDir, 'SHA256SUMS');
  if (!existsSync(sums))
    throw new UserError(
      `no SHA256SUMS in ${sourcesDir}: a local bake compiles the pinned sources from archives there`,
      'pass --sources DIR (a directory of NAME-VERSION.tar.* archives with a SHA256SUMS)',
    );
  const rtpproxy = image.media.rtpproxy.enabled;
  const modules = r.plan.modules;
  const own: CompileSet = { modules, rtpproxy };
  const pins = parsePins(await readFile(path.join(scriptsDir, 'pins.env'), 'utf8'));
  const sumsText = await readFile(sums, 'utf8');
  const base = baseKey();
  const scripts = await compileScriptsHash(scriptsDir);
  const keyOf = (set: CompileSet): string => compileKey({ base, standIns: standIns(pins, sumsText, sourcesDir, set.rtpproxy), modules: set.modules, scripts });
  const compiled = o.shareCompileWith?.length ? await sharedSet(d, own, o.shareCompileWith) : o.reuseCompiled ? await cachedCover(d, own, keyOf) : own;
  const s = standIns(pins, sumsText, sourcesDir, compiled.rtpproxy);
  return {
    record: {
      image: image.name,
      contentHash: combineParts(parts),
      parts,
      base,
      compileKey: keyOf(compiled),
      sources: s,
      modules,
      ...(compiled === own ? {} : { compiled }),
    },
    own,
    compiled,
    tree,
    compileTree: compiled === own ? tree : await compileTreeFor(tree, compiled, path.join(work, 'compile-tree')),
    placeholder,
    rtpproxy,
    standIns: s,
    sourcesDir,
    mirror: mirrorFrom(await aptSources()),
  };
}

/**
 * The shared compile's tree: the manifest lists the union (20-kamailio builds exactly what it lists) and, when the
 * image has no RTPProxy, stand-in unit and env files for 30-rtpproxy to install (the fit takes them out again).
 */
async function compileTreeFor(tree: string, s: CompileSet, dir: string): Promise<string> {
  await cp(tree, dir, { recursive: true });
  await writeFile(path.join(dir, 'etc/sipbake/image.json'), compileManifest(s));
  for (const [f, text] of [
    ['etc/systemd/system/rtpproxy.service', '[Service]\nExecStart=/bin/true\n'],
    ['etc/sipbake/rtpproxy.env', ''],
  ] as const)
    if (s.rtpproxy && !existsSync(path.join(dir, f))) await writeFile(path.join(dir, f), text);
  return dir;
}

/** The union with the other images' sets, or the image's own set when the union cannot be fitted back to it. */
async function sharedSet(d: LocalBuildDeps, own: CompileSet, others: string[]): Promise<CompileSet> {
  if (others.length === 0) return own;
  const sets = [own];
  for (const o of others) {
    const { image } = await loadImageOrThrow(d.root, o);
    sets.push({ modules: modulesFor(image), rtpproxy: image.media.rtpproxy.enabled });
  }
  const union = unionSet(sets);
  const why = cannotShare(own, union);
  if (why) {
    d.reporter.line(`not sharing the compile with ${others.join(', ')}: ${why}`, 'warn');
    return own;
  }
  const same = union.rtpproxy === own.rtpproxy && union.modules.join(' ') === [...own.modules].sort().join(' ');
  return same ? own : union;
}

const compiledRoot = (cache: string, key: string): string => path.join(cache, 'local-bake', 'compiled', key);
/** Beside each compiled root: the set it compiled, so that a later bake can tell whether it covers its own. */
const setFileOf = (compileDir: string): string => `${compileDir}.set.json`;

/**
 * The image's own set when its compile is cached or no cached compile covers it; else the covering compile's set
 * (share.ts coveringCompile: its key recomputed from this bake's base, sources and scripts).
 */
async function cachedCover(d: LocalBuildDeps, own: CompileSet, keyOf: (s: CompileSet) => string): Promise<CompileSet> {
  const cache = d.cacheDir ?? DEFAULT_CACHE;
  if (existsSync(compiledRoot(cache, keyOf(own)))) return own;
  const dir = compiledRoot(cache, '');
  const cached: CachedCompile[] = [];
  for (const f of existsSync(dir) ? await readdir(dir) : []) {
    const key = f.endsWith('.set.json') ? f.slice(0, -'.set.json'.length) : '';
    if (!key || !existsSync(path.join(dir, key))) continue;
    const set = JSON.parse(await readFile(path.join(dir, f), 'utf8').catch(() => 'null')) as CompileSet | null;
    if (set && Array.isArray(set.modules) && typeof set.rtpproxy === 'boolean') cached.push({ key, set });
  }
  const safeKey = (s: CompileSet): string | undefined => {
    try {
      return keyOf(s);
    } catch {
      return undefined; // its sources are not all in this bake's SHA256SUMS: not the same compile
    }
  };
  const c = coveringCompile(own, cached, safeKey);
  if (!c) return own;
  d.reporter.line(`reusing the cached compile ${c.key} (${c.set.modules.length} modules${c.set.rtpproxy ? ' + RTPProxy' : ''}): it covers this image's set`);
  return c.set;
}

/** ../shared/upstream beside the repository; from a git worktree, beside its main checkout too. */
export async function defaultSources(root: string): Promise<string> {
  const common = await execa('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: root, reject: false });
  const roots = [root, ...(common.exitCode === 0 ? [path.dirname(String(common.stdout).trim())] : [])];
  const found = roots.map((r) => path.resolve(r, '../shared/upstream')).find((d) => existsSync(path.join(d, 'SHA256SUMS')));
  return found ?? path.resolve(root, '../shared/upstream');
}

/** What Packer uploads to /tmp/sipbake, laid into the root: tree, scripts, placeholder, and the stand-in pins. */
async function layUploads(rootfs: string, l: Loaded, repo: string, tree = l.tree): Promise<void> {
  const at = path.join(rootfs, REMOTE_DIR.slice(1));
  await rm(at, { recursive: true, force: true });
  await mkdir(path.join(at, 'upstream'), { recursive: true });
  await cp(tree, path.join(at, 'tree'), { recursive: true });
  await cp(path.join(repo, 'scripts'), path.join(at, 'scripts'), { recursive: true });
  await copyFile(l.placeholder, path.join(at, 'boot-placeholder.cfg'));
  await writeFile(path.join(at, 'pins.local.env'), standInPinsFile(l.standIns));
  for (const s of l.standIns) await copyFile(path.join(l.sourcesDir, s.file), path.join(at, 'upstream', s.file));
}

const since = (t: number): number => Math.round((performance.now() - t) / 100) / 10;

/** What a local bake needs of this machine, checked before any work. */
async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new UserError('sipbake build --local must run as root: it debootstraps a Debian root and runs the bake scripts in it (chroot)', 'run it with sudo');
  const missing: string[] = [];
  for (const tool of ['debootstrap', 'unshare', 'chroot'])
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) missing.push(tool);
  if (missing.length)
    throw new UserError(`sipbake build --local needs ${missing.join(', ')} on this machine`, 'apt-get install debootstrap util-linux coreutils');
}

export async function buildLocal(o: LocalBuildOptions, d: LocalBuildDeps): Promise<LocalBuildResult> {
  await preflight();
  const t0 = performance.now();
  const cache = d.cacheDir ?? DEFAULT_CACHE;
  const work = await mkdtemp(path.join(tmpdir(), 'sipbake-local-'));
  try {
    const l = await load(o, d, work);
    const { record } = l;
    d.reporter.line(`content ${record.contentHash} (${partsTag(record.parts)})`);
    const out = path.resolve(o.out ?? path.join(cache, 'local', record.image));
    const rootfs = path.join(out, 'root');
    const log = path.join(out, 'bake.log');
    const previous = await readRecord(out);
    const foreign = existsSync(out) ? foreignFiles(await readdir(out)) : [];
    if (foreign.length > 0)
      throw new UserError(
        `${out} holds files a local bake does not write (${foreign.slice(0, 3).join(', ')}); refusing to replace its root`,
        'pass --out with a new or empty directory',
      );
    const same = previous?.contentHash === record.contentHash && previous.compileKey === record.compileKey && existsSync(rootfs);
    if (same && !o.force) {
      d.reporter.line(`${out} already holds a local bake of this content; nothing to do (--force bakes again)`, 'success');
      return {
        image: record.image,
        contentHash: record.contentHash,
        parts: record.parts,
        action: 'skipped',
        out,
        rootfs,
        log,
        cached: { base: true, compile: true },
        seconds: { base: 0, compile: 0, config: 0, total: since(t0) },
      };
    }
    await mkdir(out, { recursive: true });
    await writeFile(log, `sipbake build ${record.image} --local: content ${record.contentHash}\n`);
    const run = (
      root: string,
      scripts: string[],
      log: string,
      network: (s: string) => boolean,
      binds: (s: string) => { host: string; inRoot: string }[] = () => [],
    ) =>
      scripts.reduce(async (prev, script) => {
        await prev;
        d.reporter.line(`${script} in ${root}`);
        await runInRoot({ root, script, env: scriptEnv(o.jobs ?? 2), network: network(script), binds: binds(script), log, signal: d.signal });
      }, Promise.resolve());

    const baseDir = path.join(cache, 'rootfs', record.base);
    const tBase = performance.now();
    const baseCached = existsSync(baseDir);
    if (!baseCached) {
      d.reporter.line(`debootstrap ${DEBIAN_RELEASE} (minbase + ${BASE_PACKAGES.join(', ')}) from ${l.mirror} into ${baseDir}`);
      await buildOnce(baseDir, (tmp) => debootstrap({ dir: tmp, release: DEBIAN_RELEASE, packages: BASE_PACKAGES, mirror: l.mirror, log, signal: d.signal }));
    } else d.reporter.line(`base ${baseDir} (cached)`);
    const baseSeconds = since(tBase);

    const compileDir = compiledRoot(cache, record.compileKey);
    // The compile stage's output stays beside its root: later bakes reuse the root and may need to read how it was made.
    const compileLog = `${compileDir}.log`;
    const tCompile = performance.now();
    const compileCached = existsSync(compileDir);
    if (!compileCached) {
      const archives = path.join(cache, 'apt-archives');
      await mkdir(path.join(archives, 'partial'), { recursive: true });
      await buildOnce(compileDir, async (tmp) => {
        await copyRoot(baseDir, tmp);
        await layUploads(tmp, l, d.root, l.compileTree);
        // Only the package install reaches the network (Debian's mirror); its .debs are kept for the next base.
        const shares = l.compiled === l.own ? '' : `, shared: ${l.compiled.modules.join(' ')}${l.compiled.rtpproxy ? ' + RTPProxy' : ''}`;
        await writeFile(compileLog, `compile stage ${record.compileKey} (for ${record.image}, content ${record.contentHash}${shares})\n`);
        const [kamailio, rtpproxy] = [COMPILE_SCRIPTS.slice(0, -1), COMPILE_SCRIPTS.slice(-1)];
        const aptBind = (s: string) => (s === '00-base.sh' ? [{ host: archives, inRoot: '/var/cache/apt/archives' }] : []);
        await run(tmp, kamailio, compileLog, (s) => s === '00-base.sh', aptBind);
        // What 30-rtpproxy installs under the prefix, kept beside the root: an image without RTPProxy that shares
        // this compile takes exactly these out again.
        const before = await listUnder(tmp, PREFIX);
        await run(tmp, rtpproxy, compileLog, () => false);
        await writeFile(rtpproxyFilesOf(compileDir), `${JSON.stringify(addedPaths(before, await listUnder(tmp, PREFIX)), null, 1)}\n`);
        await trimWork(tmp);
      });
      d.reporter.line(`compiled root ${compileDir} (its log: ${compileLog})`);
    } else d.reporter.line(`compiled root ${compileDir} (cached: same base, sources, modules and scripts; its log: ${compileLog})`);
    // Written after the compile, or added to a compile made before these records existed.
    if (!existsSync(setFileOf(compileDir)))
      await writeFile(setFileOf(compileDir), `${JSON.stringify({ modules: [...l.compiled.modules].sort(), rtpproxy: l.compiled.rtpproxy })}\n`);
    const compileSeconds = since(tCompile);

    const tConfig = performance.now();
    const fresh = `${rootfs}.tmp-${process.pid}`;
    try {
      await copyRoot(compileDir, fresh);
      await layUploads(fresh, l, d.root);
      const fit =
        l.compiled === l.own
          ? ''
          : fitScript({ own: l.own, shared: l.compiled, rtpproxyFiles: await rtpproxyFiles(compileDir), moduleDir: `${PREFIX}/lib64/kamailio/modules` });
      if (fit) await writeFile(path.join(fresh, REMOTE_DIR.slice(1), 'scripts', FIT_SCRIPT), fit);
      await run(fresh, [...(fit ? [FIT_SCRIPT] : []), ...CONFIG_SCRIPTS], log, () => false);
      await rm(rootfs, { recursive: true, force: true });
      await rename(fresh, rootfs);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
    await writeFile(path.join(out, RECORD_FILE), `${JSON.stringify({ ...record, bakedAt: new Date().toISOString() }, null, 2)}\n`);
    const seconds = { base: baseSeconds, compile: compileSeconds, config: since(tConfig), total: since(t0) };
    d.reporter.line(`local bake of ${record.image} in ${rootfs} (${seconds.total}s; log ${log})`, 'success');
    return {
      image: record.image,
      contentHash: record.contentHash,
      parts: record.parts,
      action: 'built',
      out,
      rootfs,
      log,
      cached: { base: baseCached, compile: compileCached },
      seconds,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The scripts' SIPBAKE_PREFIX inside the root (scripts/lib/common.sh). */
const PREFIX = '/usr/local';
const FIT_SCRIPT = 'local-fit.sh';
const rtpproxyFilesOf = (compileDir: string): string => `${compileDir}.rtpproxy-files.json`;

async function rtpproxyFiles(compileDir: string): Promise<string[]> {
  const f = rtpproxyFilesOf(compileDir);
  if (!existsSync(f))
    throw new UserError(
      `the compiled root ${compileDir} has no record of RTPProxy's files (${f}), so it cannot be fitted to an image without RTPProxy`,
      `remove ${compileDir} so that the next bake compiles it again`,
    );
  return JSON.parse(await readFile(f, 'utf8')) as string[];
}

/** The compiled root keeps only the build-dependency list from the work directory (90-cleanup.sh reads it). */
async function trimWork(rootfs: string): Promise<void> {
  const dir = path.join(rootfs, WORK_IN_ROOT.slice(1));
  const keep = path.join(dir, KEEP_FROM_WORK);
  const saved = existsSync(keep) ? await readFile(keep) : undefined;
  await rm(dir, { recursive: true, force: true });
  if (saved !== undefined) {
    await mkdir(dir, { recursive: true });
    await writeFile(keep, saved);
  }
}

async function readRecord(out: string): Promise<LocalBakeRecord | undefined> {
  try {
    return JSON.parse(await readFile(path.join(out, RECORD_FILE), 'utf8')) as LocalBakeRecord;
  } catch {
    return undefined;
  }
}
