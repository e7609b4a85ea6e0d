import { describe, expect, it } from 'vitest';
import { ADDR, BUCKETS, internetRuleset, mapScript, nlbRuleset, rebalance, targetKey } from '../../src/rehearse/net-plan.js';
import { calleesOf } from '../../src/rehearse/load.js';

// The emulated NLB's plan (pure): buckets, hashing, listeners per port, the internet side's rport learning.

describe('NLB plan (pure)', () => {
  it("fills every bucket; a deregistration moves only the leaving target's share of new flows", () => {
    const three = rebalance(undefined, ['a', 'b', 'c']);
    expect(three).toHaveLength(BUCKETS);
    expect(['a', 'b', 'c'].map((t) => three.filter((x) => x === t).length)).toEqual([20, 20, 20]);
    // b leaves: a's and c's buckets stay where they were.
    const two = rebalance(three, ['a', 'c']);
    three.forEach((t, i) => {
      if (t !== 'b') expect(two[i]).toBe(t);
    });
    expect(two.filter((x) => x === 'a').length).toBe(30);
    // d joins: takes an even share, only from the others' buckets.
    const back = rebalance(two, ['a', 'c', 'd']);
    expect(back.filter((x) => x === 'd').length).toBe(20);
    expect(back.filter((x, i) => x !== two[i]).every((x) => x === 'd')).toBe(true);
    expect(mapScript([])).toBe('flush map ip nlb targets\nflush map ip nlb addrs\n');
  });
  it('hashes the source address only with stickiness, the 5-tuple without', () => {
    expect(nlbRuleset({ udpIdleSeconds: 12, stickiness: true, listenPorts: [5060] })).toMatch(/dnat ip to jhash ip saddr mod 60 seed 43 map @targets/);
    expect(nlbRuleset({ udpIdleSeconds: 12, stickiness: false, listenPorts: [5060] })).toMatch(/jhash ip saddr \. udp sport mod 60/);
  });

  it('--to across SIP ports: each listener forwards to the port its target registered with, as a target group does', () => {
    // twilio-relay (5060) → recorder-lb (5080): callers dial 5060; the new image advertises 5080 in Record-Route.
    const rules = nlbRuleset({ udpIdleSeconds: 12, stickiness: true, listenPorts: [5060, 5080, 5060] });
    for (const l4 of ['udp', 'tcp'])
      expect(rules).toContain(`ip daddr ${ADDR.nlbEip} ${l4} dport { 5060, 5080 } dnat ip to jhash ip saddr mod 60 seed 43 map @targets`);
    expect(rules).toContain('map targets { typeof numgen inc mod 60 : ip daddr . udp dport; }');
    // Other ports (media) keep their port, to the same bucket's instance.
    expect(rules).toMatch(/udp dport 1-65535 dnat to jhash ip saddr mod 60 seed 43 map @addrs/);
    // A mixed fleet mid-roll: an old instance on 5060, a new one on 5080, each bucket to its own target's port.
    const script = mapScript([targetKey({ ip: '10.0.1.11', port: 5060 }), targetKey({ ip: '10.0.1.12', port: 5080 })]);
    expect(script).toContain('add element ip nlb targets { 0 : 10.0.1.11 . 5060, 1 : 10.0.1.12 . 5080 }');
    expect(script).toContain('add element ip nlb addrs { 0 : 10.0.1.11, 1 : 10.0.1.12 }');
    expect(() => mapScript(['10.0.1.11'])).toThrow(/not ADDRESS:PORT/);
  });

  it("internet side: callers' responses follow received/rport — learned from requests the NAT gateway brings, for the callers only", () => {
    const r = internetRuleset();
    expect(r).toMatch(new RegExp(`ip saddr ${ADDR.natEip.replace(/\./g, '\\.')} ip daddr \\{ ${ADDR.sources[0]?.replace(/\./g, '\\.')}`));
    expect(r).toMatch(/@th,64,64 != 0x5349502f322e3020 update @backip/);
    expect(r).toMatch(/ip daddr 203\.0\.113\.10 @th,64,64 0x5349502f322e3020 .*udp dport set .* ip daddr set ip saddr \. udp sport map @backip/);
    expect(r).not.toMatch(new RegExp(ADDR.trunk.replace(/\./g, '\\.')));
  });
});

describe('callees (pure)', () => {
  it('--to from a relay to a dispatcher image: both the destination and the recorders answer', () => {
    expect(calleesOf([{ relay: true }, { relay: false }])).toEqual([ADDR.destination, ...ADDR.recorders]);
    expect(calleesOf([{ relay: true }, { relay: true }])).toEqual([ADDR.destination]);
  });
});
