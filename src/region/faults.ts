// Fault injection for the AWS fake: throttling storms and named AWS errors, by command and simulated time.

export interface AwsLikeError extends Error {
  $fault: 'client' | 'server';
  $metadata: { httpStatusCode: number; requestId: string; attempts: number };
  Code?: string;
}

/** An error shaped like the SDK v3's service exceptions (name, $fault, $metadata). */
export function awsError(name: string, message: string, status = 400): AwsLikeError {
  const e = new Error(message) as AwsLikeError;
  e.name = name;
  e.Code = name;
  e.$fault = status >= 500 ? 'server' : 'client';
  e.$metadata = { httpStatusCode: status, requestId: 'fake-request', attempts: 1 };
  return e;
}

export interface FaultRule {
  /** Command name (e.g. 'DescribeInstanceRefreshes'), a RegExp over names, or undefined for every command. */
  command?: string | RegExp;
  /** Error name, e.g. 'Throttling', 'IrreversibleInstanceRefreshFault'. */
  error: string;
  message?: string;
  status?: number;
  /** How many calls fail; unlimited when omitted. */
  times?: number;
  /** Simulated window (ms since the fake's epoch) during which the rule applies. */
  fromMs?: number;
  untilMs?: number;
  /** Fail only every Nth matching call (1 = every call). */
  every?: number;
}

export class Faults {
  private rules: (FaultRule & { seen: number; fired: number })[] = [];
  /** Every injected failure, for assertions. */
  readonly fired: { command: string; error: string; atMs: number }[] = [];

  private hooks: { command: string; fn: () => void; left: number }[] = [];

  /**
   * Runs `fn` just before the next `times` calls of `command` are served: AWS changing state between two calls of
   * the caller (e.g. its own alarm rollback starting just before the caller's RollbackInstanceRefresh).
   */
  before(command: string, fn: () => void, times = 1): void {
    this.hooks.push({ command, fn, left: times });
  }

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, seen: 0, fired: 0 });
  }

  /** A throttling storm: every matching call in the window fails with `Throttling` (as after the SDK gave up). */
  throttleStorm(fromMs: number, untilMs: number, command?: string | RegExp, every = 1): void {
    this.add({ command, error: 'ThrottlingException', message: 'Rate exceeded', status: 400, fromMs, untilMs, every });
  }

  clear(): void {
    this.rules = [];
  }

  /** Throws when a rule matches this call. */
  check(command: string, nowMs: number): void {
    for (const h of this.hooks)
      if (h.command === command && h.left > 0) {
        h.left--;
        h.fn();
      }
    for (const r of this.rules) {
      const matches = r.command === undefined || (typeof r.command === 'string' ? r.command === command : r.command.test(command));
      if (!matches) continue;
      if (r.fromMs !== undefined && nowMs < r.fromMs) continue;
      if (r.untilMs !== undefined && nowMs >= r.untilMs) continue;
      if (r.times !== undefined && r.fired >= r.times) continue;
      r.seen++;
      if ((r.seen - 1) % (r.every ?? 1) !== 0) continue;
      r.fired++;
      this.fired.push({ command, error: r.error, atMs: nowMs });
      throw awsError(r.error, r.message ?? `${r.error} (injected by the fake)`, r.status ?? 400);
    }
  }
}
