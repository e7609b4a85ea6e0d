// One roll at a time (effects): a lease tag on the group, taken with a conditional check. Auto Scaling tags have
// no compare-and-set, so the lease is written, left to settle, and read back: only the writer whose token is read
// back holds it. A lease whose expiry passed (a roll killed with -9) may be taken over.
import { randomBytes } from 'node:crypto';
import { userInfo, hostname } from 'node:os';
import { DeleteTagsCommand } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients.js';
import type { Clock } from '../aws/clock.js';
import { aws } from '../aws/errors.js';
import { UserError } from '../core/errors.js';
import { tagGroup } from './apply.js';
import { describeGroup } from './observe.js';
import { retryThrottled } from './retry.js';
import { leaseHeldMessage } from './lease-text.js';
import { formatLease, leaseExpired, parseLease, TAG_LEASE, type Lease } from './tags.js';

const LEASE_TTL_MS = 15 * 60_000;
const SETTLE_MS = 3000;

export function leaseOwner(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return `${user}@${hostname()}:${process.pid}`.replace(/\s+/g, '_');
}

export interface LeaseDeps {
  clients: AwsClients;
  clock: Clock;
  signal: AbortSignal;
  asgName: string;
  image: string;
}

export class RollLease {
  private constructor(
    private readonly d: LeaseDeps,
    public lease: Lease,
  ) {}

  static async take(d: LeaseDeps, owner: string): Promise<RollLease> {
    const read = async () => parseLease((await aws(`reading the lease on ${d.asgName}`, () => describeGroup(d.clients, d.asgName)))?.tags[TAG_LEASE]);
    const held = await read();
    const now = d.clock.now();
    if (held && !leaseExpired(held, now)) {
      const m = leaseHeldMessage(held, d.asgName, d.image);
      throw new UserError(m.message, m.fix);
    }
    const lease: Lease = {
      owner,
      token: randomBytes(6).toString('hex'),
      startedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + LEASE_TTL_MS).toISOString(),
    };
    const l = new RollLease(d, lease);
    await l.write();
    await d.clock.sleep(SETTLE_MS, d.signal);
    const after = await read();
    if (after?.token !== lease.token) {
      const m = after
        ? leaseHeldMessage(after, d.asgName, d.image)
        : { message: `the lease on ${d.asgName} vanished while it was taken`, fix: 'run the same command again' };
      throw new UserError(`${m.message} (it took the lease at the same moment)`, m.fix);
    }
    return l;
  }

  private async write(): Promise<void> {
    await aws(`taking the roll lease on ${this.d.asgName}`, () =>
      retryThrottled({ clock: this.d.clock, signal: this.d.signal }, () => tagGroup(this.d.clients, this.d.asgName, { [TAG_LEASE]: formatLease(this.lease) })),
    );
  }

  /** Pushes the expiry forward once less than two thirds of it is left (once per five minutes). */
  async renew(): Promise<void> {
    const now = this.d.clock.now();
    if (Date.parse(this.lease.expiresAt) - now > (LEASE_TTL_MS * 2) / 3) return;
    this.lease = { ...this.lease, expiresAt: new Date(now + LEASE_TTL_MS).toISOString() };
    await this.write().catch(() => undefined); // a missed renewal is retried next poll; the lease still has ≥ 5 min
  }

  /**
   * Ends the lease if it is still ours: DeleteTags, or (when the role may not delete tags) the lease rewritten as
   * expired, which frees the group just the same. Best effort: an unreleased lease expires by itself.
   */
  async release(): Promise<void> {
    const signal = new AbortController().signal; // releasing must not be stopped by the interrupt that ends the roll
    // Throttling is what a busy account answers most: ride it out (about two minutes) rather than leave the lease.
    const retry = <T>(call: () => Promise<T>) => retryThrottled({ clock: this.d.clock, signal, tries: 8 }, call);
    try {
      const g = await retry(() => describeGroup(this.d.clients, this.d.asgName));
      if (parseLease(g?.tags[TAG_LEASE])?.token !== this.lease.token) return;
      try {
        await retry(() =>
          this.d.clients.autoScaling.send(
            new DeleteTagsCommand({
              Tags: [{ ResourceId: this.d.asgName, ResourceType: 'auto-scaling-group', Key: TAG_LEASE }],
            }),
          ),
        );
      } catch {
        this.lease = { ...this.lease, expiresAt: new Date(this.d.clock.now()).toISOString() };
        await retry(() => tagGroup(this.d.clients, this.d.asgName, { [TAG_LEASE]: formatLease(this.lease) }));
      }
    } catch {
      // Left to expire.
    }
  }
}
