import type { Reporter } from '../core/reporter.js';

/** What every command handler gets besides its own options. */
export interface CommandContext {
  reporter: Reporter;
  /** Repository root: where images/, templates/ and scripts/ live. */
  root: string;
  /** Fires on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /** Environment (injectable for tests). */
  env: NodeJS.ProcessEnv;
}

export interface GlobalOptions {
  json: boolean;
  debug: boolean;
}
