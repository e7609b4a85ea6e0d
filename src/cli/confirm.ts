// The one confirmation for commands that change production (roll, rollback). In a terminal it asks after the
// plan was shown; off a terminal, or with CI=true, there is no one to ask: --yes is then required.
import { createInterface } from 'node:readline/promises';
import { AbortError, UserError } from '../core/errors.js';
import { EXIT } from './exit-codes.js';

export interface ConfirmOptions {
  /** --yes was given: do not ask. */
  yes: boolean;
  /** Whether stdin and stdout are a terminal (CommandContext.isTTY). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** The command line to suggest with --yes, e.g. "sipbake roll twilio-relay --yes". */
  retry?: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  signal?: AbortSignal;
}

/** Exit code when a confirmation is needed but cannot be asked: a command line to fix (like a usage error). */
const CONFIRMATION_REQUIRED_EXIT = EXIT.usage;

const truthy = (v: string | undefined): boolean => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

/** Someone can be asked: a terminal, and not CI. */
export function canAsk(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && !truthy(env.CI);
}

/**
 * Resolves true to go ahead (--yes, or the person typed y/yes), false when the person declined. Throws a
 * UserError (exit 2) when no one can be asked: not a terminal, or CI=true, without --yes.
 */
export async function confirm(question: string, o: ConfirmOptions): Promise<boolean> {
  if (o.yes) return true;
  if (!canAsk(o.isTTY, o.env)) {
    throw new UserError(
      `${question.replace(/\?$/, '')}: this needs a confirmation, and ${o.isTTY ? 'CI is set' : 'this is not a terminal'} so no one can be asked`,
      o.retry ? `add --yes: ${o.retry}` : 'add --yes to go ahead without a prompt',
      {
        exitCode: CONFIRMATION_REQUIRED_EXIT,
      },
    );
  }
  const rl = createInterface({ input: o.input ?? process.stdin, output: o.output ?? process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `, o.signal ? { signal: o.signal } : {});
    return /^y(es)?$/i.test(answer.trim());
  } catch (e) {
    if (o.signal?.aborted) throw new AbortError('interrupted at the confirmation; nothing was changed');
    throw e;
  } finally {
    rl.close();
  }
}
