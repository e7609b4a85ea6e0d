// What a long command leaves for the person who pressed Ctrl-C (or the CI job that was cancelled):
// recovery lines ("the refresh goes on in AWS: sipbake status …"), printed by the one interrupt path in
// src/cli/main.ts after the command has stopped. Leaf module: commands and core code register through it
// without importing src/cli.

/** Returns the lines to print if this run is interrupted now (empty when there is nothing to say). */
export type RecoveryLines = () => readonly string[];

export interface InterruptHooks {
  /** Registers recovery lines; call the returned function when they no longer apply. */
  onInterrupt(lines: RecoveryLines): () => void;
  /**
   * Registers a synchronous last-resort clean-up (remove a work directory) for a forced exit (a second Ctrl-C),
   * when no `finally` runs. Returns the unregister function.
   */
  onForcedExit(cleanup: () => void): () => void;
}

export class InterruptRegistry implements InterruptHooks {
  private readonly providers = new Set<RecoveryLines>();
  private readonly cleanups = new Set<() => void>();
  onForcedExit(cleanup: () => void): () => void {
    const entry = (): void => cleanup();
    this.cleanups.add(entry);
    return () => {
      this.cleanups.delete(entry);
    };
  }
  /** Runs every forced-exit clean-up; one that throws does not stop the others. */
  runForcedExit(): void {
    for (const c of this.cleanups) {
      try {
        c();
      } catch {
        /* keep going */
      }
    }
  }
  onInterrupt(lines: RecoveryLines): () => void {
    // A wrapper, so the same function registered twice is two entries and each unregisters its own.
    const entry: RecoveryLines = () => lines();
    this.providers.add(entry);
    return () => {
      this.providers.delete(entry);
    };
  }
  /** Every registered line, in registration order. A provider that throws is skipped: this runs while stopping. */
  lines(): string[] {
    const out: string[] = [];
    for (const p of this.providers) {
      try {
        out.push(...p());
      } catch {
        /* keep the others */
      }
    }
    return out;
  }
}
