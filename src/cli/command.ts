import type { Argv } from 'yargs';
import type { CommandContext, GlobalOptions } from './context.js';

/** One CLI command: yargs wiring stays thin; `run` turns options into a call of core code. */
export interface SipbakeCommand<O = Record<string, unknown>> {
  command: string;
  describe: string;
  builder: (y: Argv<GlobalOptions>) => Argv<O>;
  /** Returns the exit code (0 when omitted). */
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- handlers that never set a code just return.
  run: (opts: O & GlobalOptions, ctx: CommandContext) => Promise<number | void>;
}

export function defineCommand<O>(c: SipbakeCommand<O>): SipbakeCommand<O> {
  return c;
}
