// Asking before a roll changes AWS: in a terminal, the plan and a y/N question (the one confirm() of
// src/cli/confirm.ts); off a terminal (or CI=true) no prompt at all, so --yes is required there.
import { UsageError } from '../core/errors.js';
import { formatPlan } from '../roll/format.js';
import type { RollPlan } from '../roll/plan.js';
import { canAsk, confirm } from './confirm.js';

export function canPrompt(env: NodeJS.ProcessEnv, stdin: { isTTY?: boolean } = process.stdin, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return canAsk(Boolean(stdin.isTTY && stdout.isTTY), env);
}

export function yesRequired(kind: 'roll' | 'rollback', image: string): UsageError {
  return new UsageError(
    `${kind} ${image} changes the Auto Scaling group and there is no terminal to confirm in (not a TTY, or CI is set): pass --yes to go ahead, or --plan to see what it would do`,
  );
}

/** Shows the plan, then asks; only y/yes goes ahead. */
export function terminalConfirm(kind: 'roll' | 'rollback', input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout) {
  return async (plan: RollPlan): Promise<boolean> => {
    output.write(`${formatPlan(plan).join('\n')}\n\n`);
    const what = plan.mode === 'undo' ? `roll back refresh ${plan.undo?.refreshId} on ${plan.asgName}` : `${kind} ${plan.asgName} onto ${plan.to.ami}`;
    return confirm(`${what.charAt(0).toUpperCase()}${what.slice(1)}?`, {
      yes: false,
      isTTY: true,
      env: {},
      input,
      output,
    });
  };
}

/** --detailed-exitcode on a plan: 0 nothing would change, 3 something would, 1 refused (2 stays usage errors). */
export function planExitCode(plan: RollPlan, detailed: boolean): number {
  if (plan.mode === 'refuse') return 1;
  return detailed && plan.mode !== 'noop' ? 3 : 0;
}
