// Bounded retries for boot: capped exponential backoff with jitter, until a deadline. Errors marked
// permanent (a missing parameter, a bad password) are thrown at once: waiting cannot fix them.

class PermanentError extends Error {}

export interface RetryOptions {
  /** Epoch ms after which no new attempt starts. */
  deadline: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called before each wait with the attempt number and the error (no secret is ever in it). */
  onRetry?: (attempt: number, e: unknown, waitMs: number) => void;
  isPermanent?: (e: unknown) => boolean;
  random?: () => number;
}

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Pure: the wait before attempt n+1: 250 ms, 500 ms, 1 s … capped at 8 s, with ±25 % jitter. */
function retryDelayMs(attempt: number, random = Math.random): number {
  const base = Math.min(8000, 250 * 2 ** Math.min(attempt, 5));
  return Math.round(base * (0.75 + random() * 0.5));
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? sleepReal;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (e instanceof PermanentError || o.isPermanent?.(e)) throw e;
      const wait = retryDelayMs(attempt, o.random);
      if (now() + wait >= o.deadline) throw e;
      o.onRetry?.(attempt + 1, e, wait);
      await sleep(wait);
    }
  }
}
