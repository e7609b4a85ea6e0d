// Running Packer: the one effect in src/bake/. Spawned from an argv array through execa, in its own process
// group, so a Ctrl-C in the terminal reaches sipbake only and Packer gets exactly one SIGINT from us (a second
// one would make Packer abandon its clean-up). Packer then terminates its build instance and temporary
// resources before it exits; we wait for that, and say what (if anything) was left in AWS.
import { execa } from 'execa';
import { createWriteStream, type WriteStream } from 'node:fs';
import { AbortError, ProcessError, UserError } from '../core/errors.js';
import type { InterruptHooks } from '../core/interrupt.js';
import { mapFailure } from './failures.js';
import { parseLine, uiText, type PackerLine } from './machine-readable.js';
import { leftoverLines, trackResources } from './packer-leftovers.js';
import { INSTALL_PACKER } from './packer-check.js';

interface PackerRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onLine?: (line: PackerLine) => void;
  /** How long Packer may take to clean up after Ctrl-C before it is killed. */
  cleanupGraceMs?: number;
  /** Packer's own output, every line as it printed it, is appended here (kept beside the manifest). */
  logFile?: string;
  /** Where the "what was left in AWS" lines go when the run is interrupted (src/cli/main.ts prints them). */
  onInterrupt?: InterruptHooks['onInterrupt'];
  /** For the clean-up commands printed after an interrupt. */
  region?: string;
}

export interface PackerRunner {
  run(args: string[], o: PackerRunOptions): Promise<{ output: string[] }>;
}

const TAIL = 20;

function openLog(file: string | undefined): WriteStream | undefined {
  return file ? createWriteStream(file, { flags: 'a' }) : undefined;
}

export const execaPacker: PackerRunner = {
  async run(args, o) {
    const output: string[] = [];
    const log = openLog(o.logFile);
    log?.write(`# packer ${args.join(' ')} (${new Date().toISOString()})\n`);
    // Until Packer has exited, an interrupt (even a forced second Ctrl-C) reports what it has created so far.
    let report: string[] | undefined;
    const unregister = o.onInterrupt?.(() => report ?? leftoverLines(trackResources(output), { finished: false, ...(o.region ? { region: o.region } : {}) }));
    const child = execa('packer', args, {
      cwd: o.cwd,
      env: o.env,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      detached: true,
      cancelSignal: o.signal,
      killSignal: 'SIGINT',
      forceKillAfterDelay: o.cleanupGraceMs ?? 15 * 60_000,
      lines: true,
      buffer: { stdout: false, stderr: true },
    });
    child.stdout?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: Buffer | string) => log?.write(chunk));
    let rest = '';
    child.stdout?.on('data', (chunk: string) => {
      log?.write(chunk);
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const raw of parts) handle(raw);
    });
    function handle(raw: string): void {
      if (!raw) return;
      const l = parseLine(raw);
      output.push(l ? (uiText(l) ?? raw) : raw);
      if (l) o.onLine?.(l);
    }
    const r = await child;
    if (rest) handle(rest);
    await new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));
    const stderr = Array.isArray(r.stderr) ? r.stderr : String(r.stderr ?? '').split('\n');
    output.push(...stderr.filter(Boolean));
    const name = `packer ${args[0] ?? ''}`.trim();
    if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String((r as { originalMessage?: string }).originalMessage ?? ''))) {
      unregister?.();
      throw new UserError('packer is not installed (no `packer` on PATH)', INSTALL_PACKER);
    }
    if (o.signal.aborted || r.isCanceled) {
      const finished = !r.isForcefullyTerminated;
      report = [
        ...leftoverLines(trackResources(output), { finished, ...(o.region ? { region: o.region } : {}) }),
        ...(o.logFile ? [`Packer's log: ${o.logFile}`] : []),
      ];
      throw new AbortError(
        finished ? `interrupted; ${name} was stopped and ran its clean-up` : `interrupted; ${name} did not finish its clean-up in time and was killed`,
      );
    }
    unregister?.();
    if (r.failed) {
      const text = output.join('\n');
      const tail = text.split('\n').filter(Boolean).slice(-TAIL);
      const known = mapFailure(text);
      const logFix = o.logFile ? `; Packer's whole output is in ${o.logFile}` : '';
      if (known) throw new UserError(known.message, `${known.fix}${logFix}`, { details: tail });
      throw new ProcessError(
        name,
        r.exitCode,
        r.signal ?? undefined,
        tail,
        `read the lines above${logFix}; nothing is left behind (Packer ran with -on-error=cleanup)`,
      );
    }
    return { output };
  },
};
