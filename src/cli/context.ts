import type { Reporter } from '../core/reporter.js';
import type { InterruptHooks } from '../core/interrupt.js';

/** What every command handler gets besides its own options. */
export interface CommandContext {
  reporter: Reporter;
  /** Repository root: where images/, templates/ and scripts/ live. */
  root: string;
  /** Fires on Ctrl-C / SIGTERM (in a terminal and off it: one path, src/cli/interrupts.ts). */
  signal: AbortSignal;
  /**
   * Registers lines printed after the command stopped on Ctrl-C / SIGTERM (e.g. the refresh id and the exact
   * `sipbake status` / `sipbake rollback` commands). Returns the unregister function.
   */
  onInterrupt: InterruptHooks['onInterrupt'];
  /** Registers a synchronous clean-up for a forced exit (second Ctrl-C), e.g. removing a work directory. */
  onForcedExit: InterruptHooks['onForcedExit'];
  /** Environment (injectable for tests). */
  env: NodeJS.ProcessEnv;
  /** Whether stdin and stdout are a terminal (prompts, the listr2 renderer). Injectable for tests. */
  isTTY: boolean;
}

export interface GlobalOptions {
  json: boolean;
  debug: boolean;
}
