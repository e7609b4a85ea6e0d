import { describe, expect, it } from 'vitest';
import { checkDue, initialTarget, observeCheck, registeredHealthy, scaledHealthCheck, type TargetHealth } from '../../src/rehearse/target-health.js';
import { SEED_HEALTH_CHECK } from '../../src/rehearse/region-seed.js';

// Issue 19 item 8: the emulated NLB health-checks every registered target with the target group's thresholds
// (TCP target group defaults: HealthyThresholdCount 5, UnhealthyThresholdCount 2, interval 30 s), scaled.

describe('rehearse: NLB target health', () => {
  const p = scaledHealthCheck(10);

  it("AWS's defaults for a TCP/UDP target group, scaled by the rehearsal's time scale", () => {
    expect(p).toEqual({ intervalMs: 3000, healthyThreshold: 5, unhealthyThreshold: 2 });
  });

  it('a registered target turns unhealthy after 2 consecutive failed checks, and healthy again only after 5 passes', () => {
    let h: TargetHealth = registeredHealthy();
    const turns: string[] = [];
    const feed = (results: boolean[]) => {
      for (const ok of results) {
        const r = observeCheck(h, ok, 0, p);
        h = r.next;
        turns.push(r.turned ?? '-');
      }
    };
    feed([false, true, false, false]);
    expect(turns).toEqual(['-', '-', '-', 'unhealthy']);
    feed([true, true, true, true, false, true, true, true, true, true]);
    expect(turns.slice(4)).toEqual(['-', '-', '-', '-', '-', '-', '-', '-', '-', 'healthy']);
  });

  // Negative control: without observeCheck's `initial` branch, a new target that never answers stayed initial (the
  // gate would have seen no unhealthy target, only a deadline).
  it("a new target (the model's launch) is initial until the seed's thresholds: 2 passes → healthy, 2 failures → unhealthy", () => {
    const q = scaledHealthCheck(10, SEED_HEALTH_CHECK);
    expect(q).toEqual({ intervalMs: 3000, healthyThreshold: 2, unhealthyThreshold: 2 });
    const run = (results: boolean[]) => {
      let h: TargetHealth = initialTarget();
      return results.map((ok) => {
        const r = observeCheck(h, ok, 0, q);
        h = r.next;
        return r.turned ?? h.state;
      });
    };
    expect(run([false, true, true])).toEqual(['initial', 'initial', 'healthy']);
    expect(run([true, false, false])).toEqual(['initial', 'initial', 'unhealthy']);
  });

  it('one check per interval per target', () => {
    const h = observeCheck(registeredHealthy(), true, 1000, p).next;
    expect(checkDue(registeredHealthy(), 0, p)).toBe(true);
    expect(checkDue(h, 3999, p)).toBe(false);
    expect(checkDue(h, 4000, p)).toBe(true);
  });
});
