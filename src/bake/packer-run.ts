// Running Packer: the one effect in src/bake/. Spawned from an argv array through execa; Ctrl-C is passed
// on as SIGINT so Packer terminates its build instance and temporary resources before it exits.
import { execa } from 'execa';
import { AbortError, ProcessError, UserError } from '../core/errors.js';
import { mapFailure } from './failures.js';
import { parseLine, uiText, type PackerLine } from './machine-readable.js';

export interface PackerRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onLine?: (line: PackerLine) => void;
  /** How long Packer may take to clean up after Ctrl-C before it is killed. */
  cleanupGraceMs?: number;
}

export interface PackerRunner {
  run(args: string[], o: PackerRunOptions): Promise<{ output: string[] }>;
}

const TAIL = 20;

export const NOT_INSTALLED_FIX =
  'install Packer >= 1.8 (https://developer.hashicorp.com/packer/install) and make sure `packer` is on PATH; Debian\'s packer 1.6.6 can only check the template';

export const execaPacker: PackerRunner = {
  async run(args, o) {
    const output: string[] = [];
    const child = execa('packer', args, {
      cwd: o.cwd,
      env: o.env,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      cancelSignal: o.signal,
      killSignal: 'SIGINT',
      forceKillAfterDelay: o.cleanupGraceMs ?? 15 * 60_000,
      lines: true,
      buffer: { stdout: false, stderr: true },
    });
    child.stdout?.setEncoding('utf8');
    let rest = '';
    child.stdout?.on('data', (chunk: string) => {
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
    const stderr = Array.isArray(r.stderr) ? (r.stderr as string[]) : String(r.stderr ?? '').split('\n');
    output.push(...stderr.filter(Boolean));
    const name = `packer ${args[0] ?? ''}`.trim();
    if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String((r as { originalMessage?: string }).originalMessage ?? ''))) {
      throw new UserError('packer is not installed (no `packer` on PATH)', NOT_INSTALLED_FIX);
    }
    if (o.signal.aborted || r.isCanceled) throw new AbortError(`interrupted; ${name} was stopped and cleaned up its build instance`);
    if (r.failed) {
      const text = output.join('\n');
      const tail = text.split('\n').filter(Boolean).slice(-TAIL);
      const known = mapFailure(text);
      if (known) throw new UserError(known.message, known.fix, { details: tail });
      throw new ProcessError(name, r.exitCode, r.signal ?? undefined, tail, 'read the lines above; nothing is left behind (Packer ran with -on-error=cleanup)');
    }
    return { output };
  },
};
