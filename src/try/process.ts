// A child process we own: spawned from an argv array, in its own process group (Kamailio and SIPp
// fork), with its output kept (a bounded tail, optionally a log file), and a stop() that always ends
// the whole group: SIGTERM, then SIGKILL after a grace period. Every process started here is also
// remembered so that `stopAll()` (and process exit) can end whatever a crashed caller left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { ProcessError } from '../core/errors.js';

export interface StartOptions {
  /** Short name used in messages, e.g. "kamailio" or "sipp uas recorder0". */
  name: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Also append stdout+stderr to this file. */
  logFile?: string;
  /** Lines kept in memory (default 2000). */
  keepLines?: number;
  /** What to tell a person when the program is missing. */
  installHint?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ManagedProcess>();

export class ManagedProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private partial = '';
  private log: WriteStream | undefined;
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(
    readonly argv: string[],
    readonly opts: StartOptions,
  ) {
    const [cmd, ...args] = argv;
    if (!cmd) throw new Error('ManagedProcess: empty argv');
    this.log = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
    this.child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (b: Buffer): void => this.onData(b);
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('error', (e: NodeJS.ErrnoException) => {
        this.lines.push(e.code === 'ENOENT' ? `${cmd}: not installed (${opts.installHint ?? `install ${cmd}`})` : `${cmd}: ${e.message}`);
        this.exit = { code: 127, signal: null };
        live.delete(this);
        resolve(this.exit);
      });
      this.child.once('close', (code, signal) => {
        if (this.partial) this.pushLine(this.partial);
        this.exit = { code, signal };
        live.delete(this);
        this.log?.end();
        resolve(this.exit);
      });
    });
    live.add(this);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The last n lines of output. */
  tail(n = 30): string[] {
    return this.lines.slice(-n);
  }

  text(): string {
    return this.lines.join('\n');
  }

  private onData(b: Buffer): void {
    this.log?.write(b);
    const parts = (this.partial + b.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    for (const l of parts) this.pushLine(l);
  }

  private pushLine(l: string): void {
    this.lines.push(l);
    const keep = this.opts.keepLines ?? 2000;
    if (this.lines.length > keep) this.lines.splice(0, this.lines.length - keep);
    for (const w of [...this.waiters]) {
      const m = l.match(w.re);
      if (m) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(m);
      }
    }
  }

  /** Resolves with the first output line matching `re` (past lines included); rejects on exit or timeout. */
  async waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    for (const l of this.lines) {
      const m = l.match(re);
      if (m) return m;
    }
    let timer: NodeJS.Timeout | undefined;
    const found = new Promise<RegExpMatchArray>((resolve) => this.waiters.push({ re, resolve }));
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.failure(`did not print ${re} within ${timeoutMs} ms`)), timeoutMs);
      void this.exited.then(() => reject(this.failure(`exited before printing ${re}`)));
    });
    try {
      return await Promise.race([found, failed]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A ProcessError describing this process, for callers that give up on it. */
  failure(why: string, fix?: string): ProcessError {
    const e = new ProcessError(
      `${this.opts.name} (${this.argv.join(' ')}) ${why}`,
      this.exit?.code ?? undefined,
      this.exit?.signal ?? undefined,
      this.tail(),
      fix,
    );
    return e;
  }

  /** Waits for the process to end by itself, at most timeoutMs; then stops it. */
  async waitExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const r = await Promise.race([this.exited, t]);
    clearTimeout(timer);
    if (r === 'timeout') {
      await this.stop();
      throw this.failure(`still running after ${timeoutMs} ms; stopped it`);
    }
    return r;
  }

  /** Sends `signal` to the whole process group, then SIGKILL after graceMs. Idempotent. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<Exit> {
    if (this.exit) return this.exit;
    this.signalGroup(signal);
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
    const r = await Promise.race([this.exited, t]);
    clearTimeout(timer);
    if (r !== 'timeout') {
      this.signalGroup('SIGKILL'); // stragglers in the group (forked children)
      return r;
    }
    this.signalGroup('SIGKILL');
    return this.exited;
  }

  signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  }
}

export function startProcess(argv: string[], opts: StartOptions): ManagedProcess {
  return new ManagedProcess(argv, opts);
}

/** Stops every process started through this module that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop('SIGTERM', 2000)));
}

process.once('exit', () => {
  for (const p of live) p.signalGroup('SIGKILL');
});
