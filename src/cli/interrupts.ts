// The one interrupt path. SIGINT (Ctrl-C in a terminal, or a CI cancel) and SIGTERM abort the command's
// AbortSignal; the command stops its children and cleans up in its own `finally`; main() then prints the
// recovery lines commands registered. A persistent `process.on` listener is essential: listr2's renderer
// hides the cursor through restore-cursor → signal-exit, and signal-exit re-raises the signal (killing the
// process before any cleanup) when it finds itself the only listener — which is what a `process.once`
// listener that already fired looks like. A second signal forces the exit.
import { writeSync } from 'node:fs';
import { AbortError } from '../core/errors.js';
import type { Reporter } from '../core/reporter.js';
import type { InterruptRegistry } from '../core/interrupt.js';

export interface InterruptPath {
  signal: AbortSignal;
  dispose(): void;
}

/**
 * listr2's terminal renderer holds back writes to process.stdout/stderr while it draws (ProcessOutput hijack),
 * and a forced exit would lose them: the last words go straight to file descriptor 2.
 */
const writeNow = (line: string): void => {
  try {
    writeSync(2, `${line}\n`);
  } catch {
    /* stderr closed: nothing to tell */
  }
};

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
    writeNow('\nerror: quitting without waiting for the clean-up');
    for (const l of registry.lines()) writeNow(`error:   ${l}`);
    registry.runForcedExit();
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
