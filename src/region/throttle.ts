// Request throttling, on by default, as AWS documents it for EC2 ("Request throttling for the Amazon EC2 API",
// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): a token bucket per API action and
// account/Region; each request takes one token; the bucket refills at a fixed rate up to its capacity; an empty
// bucket answers `RequestLimitExceeded` (HTTP 503). Non-mutating actions (Describe*): 100 tokens, 20 per second;
// mutating actions: 50 tokens, 5 per second. Auto Scaling throttles its API the same way and answers `Throttling`
// "Rate exceeded" ("Troubleshoot Amazon EC2 Auto Scaling: Throttling" / API reference "Common errors"); it does
// not publish its bucket sizes, so the model uses EC2's. Time is the region's simulated clock.
import { awsError } from './faults.js';

interface Bucket {
  tokens: number;
  atMs: number;
}

interface Budget {
  capacity: number;
  perSecond: number;
}

const NON_MUTATING: Budget = { capacity: 100, perSecond: 20 };
const MUTATING: Budget = { capacity: 50, perSecond: 5 };

const budgetOf = (command: string): Budget => (/^(Describe|Get|List)/.test(command) ? NON_MUTATING : MUTATING);

/** The throttled answer of each service family that AWS documents a request-rate limit for. */
const THROTTLED: Record<string, () => Error> = {
  ec2: () => awsError('RequestLimitExceeded', 'Request limit exceeded.', 503),
  autoscaling: () => awsError('Throttling', 'Rate exceeded', 400),
};

export class Throttle {
  private buckets = new Map<string, Bucket>();
  /** Every throttled call, for assertions and the simulation's counts. */
  readonly throttled: { service: string; command: string; atMs: number }[] = [];

  constructor(private readonly enabled: boolean) {}

  /** Takes one token for this call or throws the service's throttling error. */
  take(service: string, command: string, nowMs: number): void {
    const answer = THROTTLED[service];
    if (!this.enabled || !answer) return;
    const budget = budgetOf(command);
    const key = `${service}:${command}`;
    const b = this.buckets.get(key) ?? { tokens: budget.capacity, atMs: nowMs };
    b.tokens = Math.min(budget.capacity, b.tokens + ((nowMs - b.atMs) / 1000) * budget.perSecond);
    b.atMs = nowMs;
    this.buckets.set(key, b);
    if (b.tokens < 1) {
      this.throttled.push({ service, command, atMs: nowMs });
      throw answer();
    }
    b.tokens -= 1;
  }
}
