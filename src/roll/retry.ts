// Retries what AWS documents as retryable (throttling) on the roll's clock, with capped exponential backoff.
// The SDK's adaptive retry already ran inside each call; this is the outer layer for writes that must land.
import type { Clock } from '../aws/clock.js';
import { isThrottle } from '../aws/errors.js';

export interface RetryOptions {
  clock: Clock;
  signal: AbortSignal;
  tries?: number;
  firstDelayMs?: number;
}

export async function retryThrottled<T>(o: RetryOptions, call: () => Promise<T>): Promise<T> {
  const tries = o.tries ?? 5;
  let wait = o.firstDelayMs ?? 2000;
  for (let n = 1; ; n++) {
    try {
      return await call();
    } catch (e) {
      // isThrottle reads the SDK error under any sentence aws() made of it.
      if (!isThrottle(e) || n >= tries) throw e;
      await o.clock.sleep(wait, o.signal);
      wait = Math.min(wait * 2, 30_000);
    }
  }
}
