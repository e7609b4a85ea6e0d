import { execFile, execFileSync } from 'node:child_process';
import { findUpstream, upstreamPath } from '../try/upstream.js';
import { existsSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { CTL_SOCKET_IN_TREE, shortRunDir } from '../try/run-dir.js';
import { fileURLToPath } from 'node:url';
import { AbortError, UserError } from '../core/errors.js';
import { startProcess, type ManagedProcess } from '../try/process.js';
import { netNames, type Cmd, type NetNames } from './net-plan.js';
import type { RehearseOptions, TimelineEntry } from './types.js';

// The rig: what one rehearsal run owns (work directory, namespaces, processes, servers, timers) and the effects every
// phase shares (run a command, start a process, log an event). closeRig removes all of it: on success, on errors and
// on Ctrl-C.

export interface Live {
  k: number;
  id: string;
  ns: string;
  tree: string;
  procs: ManagedProcess[];
  agent?: ManagedProcess;
  kamailio?: ManagedProcess;
}

export interface Rig {
  o: RehearseOptions;
  log: (line: string) => void;
  t0: number;
  names: NetNames;
  dir: string;
  helper: string;
  timeline: TimelineEntry[];
  procs: ManagedProcess[];
  timers: NodeJS.Timeout[];
  cancels: Array<() => void>;
  /** The region's wire server and the instances' IMDS: closed at cleanup. */
  servers: Array<{ close(): Promise<void> }>;
  nsCreated: string[];
  live: Map<string, Live>;
  /** Set when cleanup starts: nothing new is started after it. */
  closing: boolean;
  /** Rejects when the run is interrupted (Ctrl-C during a long wait ends the wait at once). */
  interrupted: Promise<never>;
  /** Unregisters the forced-exit clean-up (closeRig did the work). */
  unregister: () => void;
}

let pinned: NodeJS.ProcessEnv | undefined;
/** The environment of every command the rig runs: the pinned Kamailio and RTPProxy (what the AMI runs) first on its
 *  PATH when this machine has them built; this process's own PATH is left alone. */
function spawnEnv(): NodeJS.ProcessEnv {
  if (pinned === undefined) {
    const b = findUpstream();
    pinned = b ? { ...process.env, PATH: upstreamPath(b) } : process.env;
  }
  return pinned;
}

export function run(argv: Cmd, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('run: an empty command');
    const c = execFile(file, args, { timeout: 15_000, env: spawnEnv() }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) c.stdin?.end(input);
  });
}

/** The work directory's name: sipbake-rehearse-PID-…, so the next run can tell a dead run's directory (host.ts). */
export const WORK_DIR_PREFIX = 'sipbake-rehearse-';

const here = path.dirname(fileURLToPath(import.meta.url));
/** ns-helper.js next to this module when built; from the sources, the built copy in dist/. */
function helperScript(): string {
  const built = path.join(here, 'ns-helper.js');
  if (existsSync(built)) return built;
  const dist = path.resolve(here, '../../dist/rehearse/ns-helper.js');
  if (existsSync(dist)) return dist;
  throw new UserError('dist/rehearse/ns-helper.js is missing', 'run `npm run build` first');
}

export async function openRig(o: RehearseOptions): Promise<Rig> {
  const interrupted = new Promise<never>((_, reject) => {
    if (o.signal?.aborted) reject(new AbortError('rehearsal interrupted'));
    o.signal?.addEventListener('abort', () => reject(new AbortError('rehearsal interrupted')), { once: true });
  });
  interrupted.catch(() => undefined);
  const rig: Rig = {
    o,
    log: o.log ?? (() => undefined),
    t0: Date.now(),
    names: netNames(process.pid, o.tag ?? ''),
    // Short enough for every instance's Kamailio ctl socket (i20/…) whatever TMPDIR is (src/try/run-dir.ts).
    dir: await shortRunDir(`${WORK_DIR_PREFIX}${process.pid}-`, path.join('i20', CTL_SOCKET_IN_TREE)),
    helper: helperScript(),
    timeline: [],
    procs: [],
    timers: [],
    cancels: [],
    servers: [],
    nsCreated: [],
    live: new Map(),
    closing: false,
    interrupted,
    unregister: () => undefined,
  };
  // A second Ctrl-C exits at once, without `finally`: remove the namespaces (and what runs in them) now.
  if (o.onForcedExit)
    rig.unregister = o.onForcedExit(() => forcedCleanup(rig, (argv) => execFileSync(argv[0] ?? '', argv.slice(1), { timeout: 5000 }).toString()));
  return rig;
}

/** Synchronous: every namespace's processes killed, then the namespace, then the work directory (a forced exit). */
export function forcedCleanup(rig: Pick<Rig, 'nsCreated' | 'procs' | 'dir' | 'o'>, exec: (argv: string[]) => string): void {
  for (const p of rig.procs) if (p.pid !== undefined && p.running) tryKill(p.pid);
  for (const ns of [...rig.nsCreated].reverse()) {
    const pids = attempt(() => exec(['ip', 'netns', 'pids', ns])) ?? '';
    for (const pid of pids.split('\n').filter(Boolean)) tryKill(Number(pid));
    attempt(() => exec(['ip', 'netns', 'del', ns]));
  }
  if (!rig.o.keepDir) attempt(() => rmSync(rig.dir, { recursive: true, force: true }));
}

function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function tryKill(pid: number): void {
  attempt(() => process.kill(pid, 'SIGKILL'));
}

export function event(rig: Rig, id: string, what: string): void {
  const e = { t: Math.round((Date.now() - rig.t0) / 100) / 10, id, what };
  rig.timeline.push(e);
  if (rig.o.onEvent) rig.o.onEvent(e);
  else rig.log(`${e.t.toFixed(1).padStart(6)} s  ${id.padEnd(18)} ${what}`);
}

export function check(rig: Rig): void {
  if (rig.o.signal?.aborted) throw new AbortError('rehearsal interrupted');
}

export function start(rig: Rig, argv: string[], name: string, logFile?: string): ManagedProcess {
  const p = startProcess(argv, { name, cwd: rig.dir, env: spawnEnv(), ...(logFile ? { logFile: path.join(rig.dir, logFile) } : {}) });
  rig.procs.push(p);
  return p;
}

/** Runs commands in order, remembering every namespace it adds (closeRig removes them). */
export async function sh(rig: Rig, cmds: Cmd[]): Promise<void> {
  for (const c of cmds) {
    const [bin, object, verb, ns] = c;
    if (bin === 'ip' && object === 'netns' && verb === 'add' && ns !== undefined) rig.nsCreated.push(ns);
    await run(c);
  }
}

/** Every id the controller acts on was launched (and set in rig.live) first. */
export function liveOf(rig: Rig, id: string): Live {
  const l = rig.live.get(id);
  if (l === undefined) throw new Error(`rehearsal: instance ${id} was never launched`);
  return l;
}

export function ctlSocket(tree: string): string {
  return `unix:${path.join(tree, 'run/kamailio/kamailio_ctl')}`;
}

export async function closeRig(rig: Rig): Promise<void> {
  rig.closing = true;
  // Still registered while cleaning up: a second Ctrl-C now must not leave half of it.
  for (const c of rig.cancels) c();
  for (const t of rig.timers) clearInterval(t);
  await Promise.all(rig.procs.map((p) => p.stop('SIGTERM', 1500).catch(() => undefined)));
  for (const s of rig.servers) await s.close().catch(() => undefined);
  for (const ns of [...rig.nsCreated].reverse()) await run(['ip', 'netns', 'del', ns]).catch(() => undefined);
  if (!rig.o.keepDir) await rm(rig.dir, { recursive: true, force: true }).catch(() => undefined);
  else rig.log(`files kept in ${rig.dir}`);
  rig.unregister();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A sleep that can be cancelled, so a finished race leaves no timer keeping the process alive. */
export function cancellableSleep(ms: number): { done: Promise<void>; cancel: () => void } {
  let t: NodeJS.Timeout | undefined;
  const done = new Promise<void>((r) => (t = setTimeout(r, ms)));
  return { done, cancel: () => clearTimeout(t) };
}
