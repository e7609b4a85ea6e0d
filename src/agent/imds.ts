// IMDSv2 client: PUT for a session token, then GET with it. Never falls back to IMDSv1 and never
// reads the body of a response it got without a valid token (a 401 only means "get a new token").
// A slow IMDS is waited for: each retry doubles the per-request timeout (within the budget), so an IMDS that
// answers in 3 s succeeds on the second try instead of never.
import { isIPv4 } from 'node:net';

const IMDS_TOKEN_TTL_HEADER = 'X-aws-ec2-metadata-token-ttl-seconds';
const IMDS_TOKEN_HEADER = 'X-aws-ec2-metadata-token';
export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254';

export interface ImdsOptions {
  endpoint?: string;
  /** Total time one get() may spend retrying (IMDS can be slow while the instance boots). */
  budgetMs?: number;
  /** First per-request timeout; each retry doubles it, within the budget (SIPBAKE_IMDS_REQUEST_TIMEOUT_SECONDS). */
  requestTimeoutMs?: number;
  tokenTtlSeconds?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

class ImdsError extends Error {
  override readonly name = 'ImdsError';
}

/** The path is not in this instance's metadata (404), e.g. no public IPv4 or no lifecycle hook. */
class ImdsNotFound extends ImdsError {}

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Capped exponential backoff: 100 ms, 200 ms, … up to 2 s. */
function backoffMs(attempt: number): number {
  return Math.min(2000, 100 * 2 ** Math.min(attempt, 5));
}

export class Imds {
  private token: { value: string; expiresAt: number } | undefined;
  private readonly endpoint: string;
  private readonly budgetMs: number;
  private readonly requestTimeoutMs: number;
  private readonly ttl: number;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(opts: ImdsOptions = {}) {
    this.endpoint = (opts.endpoint ?? DEFAULT_IMDS_ENDPOINT).replace(/\/+$/, '');
    this.budgetMs = opts.budgetMs ?? 60_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 2_000;
    this.ttl = opts.tokenTtlSeconds ?? 21_600;
    this.fetchFn = opts.fetch ?? fetch;
    this.sleep = opts.sleep ?? sleepReal;
    this.now = opts.now ?? Date.now;
  }

  /** GET latest/meta-data/<path>, trimmed. Retries until the budget is spent; 404 throws ImdsNotFound at once. */
  async get(path: string): Promise<string> {
    const deadline = this.now() + this.budgetMs;
    let last = 'no attempt made';
    for (let attempt = 0; ; attempt++) {
      const timeoutMs = Math.max(1, Math.min(this.requestTimeoutMs * 2 ** Math.min(attempt, 10), deadline - this.now()));
      try {
        const token = await this.sessionToken(timeoutMs);
        const res = await this.request('GET', `/latest/meta-data/${path}`, { [IMDS_TOKEN_HEADER]: token }, timeoutMs);
        if (res.status === 200) return (await res.text()).trim();
        await res.body?.cancel(); // never read an answer we will not use
        if (res.status === 401) {
          this.token = undefined; // expired or rejected: get a new one, ignore this answer
          last = `401 for meta-data/${path}: token rejected`;
        } else if (res.status === 404) {
          throw new ImdsNotFound(`instance metadata has no meta-data/${path} (404)`);
        } else {
          last = `HTTP ${res.status} for meta-data/${path}`;
        }
      } catch (e) {
        if (e instanceof ImdsNotFound) throw e;
        last = e instanceof Error ? e.message : String(e);
      }
      if (this.now() + backoffMs(attempt) >= deadline) break;
      await this.sleep(backoffMs(attempt));
    }
    throw new ImdsError(
      `instance metadata (IMDSv2 at ${this.endpoint}) did not answer meta-data/${path} within ${Math.round(this.budgetMs / 1000)} s: ${last}. ` +
        'Check that the instance allows IMDSv2 with a hop limit of at least 1 (aws ec2 modify-instance-metadata-options --http-tokens required --http-endpoint enabled)',
    );
  }

  /** get() of an IPv4 address item (local-ipv4, public-ipv4): anything else is refused, not retried. */
  async getIpv4(path: string): Promise<string> {
    return strictIpv4(path, await this.get(path));
  }

  /** Like getIpv4(), but a 404 is undefined. */
  async findIpv4(path: string): Promise<string | undefined> {
    const v = await this.find(path);
    return v === undefined ? undefined : strictIpv4(path, v);
  }

  /** Like get(), but a 404 is undefined. */
  async find(path: string): Promise<string | undefined> {
    try {
      return await this.get(path);
    } catch (e) {
      if (e instanceof ImdsNotFound) return undefined;
      throw e;
    }
  }

  private async sessionToken(timeoutMs: number): Promise<string> {
    const t = this.token;
    if (t && t.expiresAt > this.now()) return t.value;
    const res = await this.request('PUT', '/latest/api/token', { [IMDS_TOKEN_TTL_HEADER]: String(this.ttl) }, timeoutMs);
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new ImdsError(`PUT /latest/api/token answered HTTP ${res.status}`);
    }
    const value = (await res.text()).trim();
    if (!value) throw new ImdsError('PUT /latest/api/token answered an empty token');
    // Renew well before the token expires.
    this.token = { value, expiresAt: this.now() + (this.ttl * 1000) / 2 };
    return value;
  }

  private async request(method: 'GET' | 'PUT', p: string, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
    try {
      return await this.fetchFn(`${this.endpoint}${p}`, {
        method,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
      throw new ImdsError(`${method} ${p} failed (${e instanceof Error ? e.message : String(e)}${cause})`);
    }
  }
}

/** A dotted-quad IPv4 exactly (no spaces, ports, CIDR suffixes or lists), or a clear refusal. */
function strictIpv4(path: string, value: string): string {
  if (isIPv4(value)) return value;
  throw new ImdsError(
    `instance metadata meta-data/${path} is ${JSON.stringify(value.slice(0, 80))}, not an IPv4 address: Kamailio cannot listen on or advertise it. ` +
      'Check SIPBAKE_IMDS_ENDPOINT (a proxy or a wrong endpoint answering) and the instance network interface',
  );
}

/** The few metadata items the agent reads. */
export const META = {
  localIpv4: 'local-ipv4',
  publicIpv4: 'public-ipv4',
  region: 'placement/region',
  instanceId: 'instance-id',
  targetLifecycleState: 'autoscaling/target-lifecycle-state',
  /** {"action": "terminate"|"stop"|"hibernate", "time": ISO 8601}: 404 until EC2 sends a Spot interruption notice. */
  spotInstanceAction: 'spot/instance-action',
  mac: 'mac',
  vpcCidr: (mac: string) => `network/interfaces/macs/${mac}/vpc-ipv4-cidr-block`,
} as const;

/**
 * The time of a Spot interruption notice (IMDS spot/instance-action, "Spot Instance interruption notices"),
 * in ms; undefined when there is none (404). A notice that is not that JSON is refused with what it was.
 */
export async function spotInterruptionAt(imds: Pick<Imds, 'find'>): Promise<number | undefined> {
  const text = await imds.find(META.spotInstanceAction);
  if (text === undefined) return undefined;
  let at = Number.NaN;
  try {
    const j = JSON.parse(text) as { action?: unknown; time?: unknown };
    if (typeof j.time === 'string') at = Date.parse(j.time);
  } catch {
    // reported below
  }
  if (!Number.isFinite(at)) throw new ImdsError(`instance metadata spot/instance-action is not {"action", "time"} JSON: ${JSON.stringify(text.slice(0, 120))}`);
  return at;
}
