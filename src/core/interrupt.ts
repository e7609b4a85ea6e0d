// What a long command leaves for the person who pressed Ctrl-C (or the CI job that was cancelled):
// recovery lines ("the refresh goes on in AWS: sipbake status …"), printed by the one interrupt path in
// src/cli/main.ts after the command has stopped. Leaf module: commands and core code register through it
// without importing src/cli.

/** Returns the lines to print if this run is interrupted now (empty when there is nothing to say). */
export type RecoveryLines = () => readonly string[];

export interface InterruptHooks {
  /** Registers recovery lines; call the returned function when they no longer apply. */
  onInterrupt(lines: RecoveryLines): () => void;
}

export class InterruptRegistry implements InterruptHooks {
  private readonly providers = new Set<RecoveryLines>();
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
