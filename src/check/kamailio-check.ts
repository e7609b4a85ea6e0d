import { execa } from 'execa';
import { ProcessError, UserError } from '../core/errors.js';
import { kamailioCheckArgs } from '../contract/kamailio-args.js';

export interface CheckOutcome {
  ok: boolean;
  /** Kamailio's own error lines (ERROR/CRITICAL/parse errors), in order. */
  errors: string[];
  output: string;
}

/** Kamailio's messages that say why a config was rejected. */
export function kamailioErrorLines(output: string): string[] {
  return output
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => /\b(ERROR|CRITICAL|BUG|ALERT)\b|parse error|error in config/i.test(l));
}

/** Runs the real `kamailio -c` on a config; effects only. */
export async function kamailioCheck(cfg: string, opts: { kamailio?: string; signal?: AbortSignal } = {}): Promise<CheckOutcome> {
  const bin = opts.kamailio ?? 'kamailio';
  try {
    const r = await execa(bin, kamailioCheckArgs(cfg), {
      reject: false,
      all: true,
      timeout: 60_000,
      ...(opts.signal ? { cancelSignal: opts.signal } : {}),
    });
    // Ctrl-C reaches kamailio -c too (same process group): its exit then says nothing about the config.
    opts.signal?.throwIfAborted();
    if (r.failed && r.exitCode === undefined) {
      throw new ProcessError(`${bin} -c`, undefined, r.signal ?? undefined, (r.all ?? '').split('\n').slice(-10));
    }
    const output = r.all ?? '';
    return { ok: r.exitCode === 0, errors: kamailioErrorLines(output), output };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError(
        `${bin} is not installed`,
        'install it: apt-get install kamailio kamailio-extra-modules kamailio-postgres-modules kamailio-tls-modules kamailio-utils-modules',
      );
    }
    throw e;
  }
}
