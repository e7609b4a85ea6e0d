import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holderArgs, holderPlan } from '../../src/rehearse/load.js';
import { BUCKETS, nlbRuleset, rebalance } from '../../src/rehearse/net-plan.js';
import { planRehearsal } from '../../src/rehearse/plan.js';
import { HOLDER_POOL, holderSources, nlbBucket } from '../../src/rehearse/sources.js';

// Issue 19, what to build 4, item 1: every old instance holds calls when it is picked. The load aims one holder caller
// at each old instance: a source address whose NLB hash bucket the instance keeps until it leaves.
// Negative controls (each made these fail): nlbBucket reading the address big-endian (the kernel values);
// rebalance() without the holders' pinned buckets (an empty map: fails at 12-15 instances, seeds 1076036964 and
// 189928205 printed by fast-check);
// HOLDER_POOL of 198.51.100.100-199 (the pool misses buckets); holderPlan's period = hold.minMs (always one up).

describe('sources: which caller source reaches which NLB target', () => {
  it("computes the kernel's bucket: nft `jhash ip saddr mod 60 seed 0x0` as read back from conntrack marks on this machine", () => {
    // Measured with `ct mark set jhash ip saddr mod 60 seed 0x0` in a namespace, one UDP packet per source.
    const kernel = { '198.51.100.11': 56, '198.51.100.12': 39, '198.51.100.13': 37, '198.51.100.14': 50, '198.51.100.15': 23, '198.51.100.16': 18 };
    for (const [ip, bucket] of Object.entries(kernel)) expect(nlbBucket(ip, 0), ip).toBe(bucket);
  });

  it("the NLB's ruleset hashes with the seed the sources are computed with, and the holder pool hits every bucket", () => {
    expect(nlbRuleset({ udpIdleSeconds: 12, stickiness: true, listenPorts: [5060] })).toContain('jhash ip saddr mod 60 seed 43 map @targets');
    expect(new Set(HOLDER_POOL.map((ip) => nlbBucket(ip))).size).toBe(BUCKETS);
    expect(() => holderSources(['a', 'b'], ['c'])).toThrow(/target c holds no NLB bucket/);
  });

  it('a holder source keeps reaching its target through any sequence of registrations and deregistrations, until it leaves', () => {
    const olds = (n: number) => Array.from({ length: n }, (_, i) => `10.0.1.${11 + i}:5060`);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.nat(), { maxLength: 40 }), (n, picks) => {
        let registered = olds(n);
        let buckets = rebalance([], registered);
        const src = holderSources(buckets, registered);
        const pinned = new Map([...src].map(([t, ip]) => [nlbBucket(ip), t]));
        // The instance each holder aims at is where its source's bucket leads.
        for (const [t, ip] of src) expect(buckets[nlbBucket(ip)]).toBe(t);
        let next = 100;
        for (const p of picks) {
          // An instance refresh: a replacement registers, then an old one (any of them) leaves.
          registered = [...registered, `10.0.1.${next++}:5060`];
          buckets = rebalance(buckets, registered, pinned);
          const stillOld = registered.filter((t) => src.has(t));
          const leaving = stillOld[p % Math.max(1, stillOld.length)];
          for (const t of stillOld) expect(buckets[nlbBucket(src.get(t) ?? '')], `${t} before ${leaving ?? 'none'} leaves`).toBe(t);
          registered = registered.filter((t) => t !== leaving);
          buckets = rebalance(buckets, registered, pinned);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a holder places a call every half of the shortest hold (one is always up), until the roll ends', () => {
    const plan = planRehearsal({ instances: 3, calls: 30, callSeconds: 60, scale: 10, deregistrationDelaySeconds: 30, hookTimeoutSeconds: 120 });
    const h = holderPlan(plan);
    expect(h.periodMs).toBeLessThan(plan.hold.minMs);
    const argv = holderArgs(plan, 1, '198.51.100.120', '203.0.113.10:5060', 'x.xml', '/tmp/d/h.log');
    expect(argv.slice(argv.indexOf('-rp'), argv.indexOf('-rp') + 2)).toEqual(['-rp', String(h.periodMs)]);
    expect(argv.slice(argv.indexOf('-i'), argv.indexOf('-i') + 2)).toEqual(['-i', '198.51.100.120']);
    expect(argv[argv.indexOf('-l') + 1]).toBe(String(h.cap));
  });
});
