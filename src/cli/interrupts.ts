// The one interrupt path. SIGINT (Ctrl-C in a terminal, or a CI cancel) and SIGTERM abort the command's
// AbortSignal; the command stops its children and cleans up in its own `finally`; main() then prints the
// recovery lines commands registered. A persistent `process.on` listener is essential: listr2's renderer
// hides the cursor through restore-cursor → signal-exit, and signal-exit re-raises the signal (killing the
// process before any cleanup) when it finds itself the only listener — which is what a `process.once`
// listener that already fired looks like. A second signal forces the exit.
import { AbortError } from '../core/errors.js';
import type { Reporter } from '../core/reporter.js';
import type { InterruptRegistry } from '../core/interrupt.js';

export interface InterruptPath {
  signal: AbortSignal;
  dispose(): void;
}

export function listenForInterrupts(reporter: Reporter, registry: InterruptRegistry, exit: (code: number) => void = (c) => process.exit(c)): InterruptPath {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      reporter.line(`${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping and cleaning up (press Ctrl-C again to quit at once)`, 'warn');
      controller.abort(new AbortError(`interrupted (${sig})`));
      return;
    }
    reporter.line('quitting without waiting for the clean-up', 'error');
    for (const l of registry.lines()) reporter.line(`  ${l}`, 'error');
    exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
