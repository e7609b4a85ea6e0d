// The region model on the wire for a child process (the bundled drain agent): a thin face over serveRegion()
// (src/region/wire/, README.md there), kept for the agent tests. `endpoint` is the shared endpoint that serves
// Auto Scaling, EC2, ELBv2 and CloudWatch on one port (point both SIPBAKE_AUTOSCALING_ENDPOINT and
// SIPBAKE_EC2_ENDPOINT at it). The region's clock follows real time (a child process sleeps for real), so hook
// timeouts and heartbeats behave as in AWS. Requests without a SigV4 Authorization header are refused.
import { FakeAws } from './aws/fake-aws.js';
import { serveRegion } from '../../src/region/wire/server.js';

interface AsgCall {
  action: string;
  params: Record<string, string>;
  atMs: number;
  ok: boolean;
}

export interface AutoScalingHttpFake {
  endpoint: string;
  /** The fake behind it (replace it per test with use()). */
  readonly fake: FakeAws;
  /** Every request that reached the endpoint, in order. */
  readonly calls: AsgCall[];
  /** Serves another fake from now on; clears `calls` and restarts the real-time clock link. */
  use(fake: FakeAws): void;
  close(): Promise<void>;
}

export async function startAutoScalingHttpFake(fake: FakeAws = new FakeAws()): Promise<AutoScalingHttpFake> {
  const server = await serveRegion(fake);
  let current = fake;
  return {
    endpoint: server.endpoints.any,
    get fake() {
      return current;
    },
    get calls() {
      return server.requests.map((r) => ({ action: r.action, params: r.params, atMs: r.atMs, ok: r.ok }));
    },
    use(f) {
      current = f;
      server.use(f);
    },
    close: () => server.close(),
  };
}
