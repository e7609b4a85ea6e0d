// Time as an interface, so polls run on a simulated clock in tests and benchmarks.
import { setTimeout as delay } from 'node:timers/promises';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(ms, undefined, signal ? { signal } : undefined);
    } catch (e) {
      // Surface the signal's own reason (the CLI's AbortError), not node's generic one.
      if (signal?.aborted) throw signal.reason;
      throw e;
    }
  },
};
