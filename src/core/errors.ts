// The few error kinds the CLI knows. One handler (src/cli/main.ts) turns them into exit codes.

/** Something the user can fix: says what is wrong, where, and what to do. Exit 1. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly fix?: string,
    options?: { cause?: unknown; details?: string[]; exitCode?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.details = options?.details ?? [];
    this.exitCode = options?.exitCode ?? 1;
  }
  readonly details: string[];
  readonly exitCode: number;
}

/** The user (or CI) asked us to stop: Ctrl-C, SIGTERM. Exit 130. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  constructor(message = 'aborted') {
    super(message);
  }
}

/** A child process failed. Carries what a person needs to see: exit code, signal and the tail of its output. */
export class ProcessError extends Error {
  override readonly name = 'ProcessError';
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly signal: string | undefined,
    readonly tail: string[],
    readonly fix?: string,
  ) {
    super(`${command} failed${exitCode !== undefined ? ` with exit code ${exitCode}` : ''}${signal ? ` (signal ${signal})` : ''}`);
  }
}

/** The command line itself is wrong (unknown flag, missing argument). Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
