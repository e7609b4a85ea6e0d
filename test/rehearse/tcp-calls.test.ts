import { describe, expect, it } from 'vitest';
import { tcpCallerArgs, tcpPlan } from '../../src/rehearse/load.js';
import { tcpResetCommands } from '../../src/rehearse/net-plan.js';
import { planRehearsal } from '../../src/rehearse/plan.js';
import { countCalls } from '../../src/rehearse/report.js';
import { verdict } from '../../src/rehearse/verdict.js';
import type { RehearsalSummary } from '../../src/rehearse/types.js';
import { rollTimes } from '../../src/rehearse/report.js';

// Issue 19, what to build 4, item 2: TCP calls beside the UDP ones. The NLB keeps a TCP connection on its target for
// the deregistration delay and resets it at the delay's end (connection termination on deregistration:
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-attributes.html#deregistration-delay).
// Negative controls (each made these fail): tcpPlan without the 4/5-of-the-delay cap (maxMs = hold.maxMs);
// verdict.ts without its `tcp` reasons; tcpResetCommands returning [] (the cut would leave TCP connections up).

const plan = planRehearsal({ instances: 3, calls: 30, callSeconds: 60, scale: 10, deregistrationDelaySeconds: 30, hookTimeoutSeconds: 120 });

describe('rehearse: TCP calls', () => {
  it('a TCP call is shorter than the deregistration delay, so one that reached an instance before its pick ends before the reset', () => {
    const t = tcpPlan(plan, 30, 3);
    expect(t.hold.maxMs).toBeLessThan(plan.deregMs);
    expect(t.hold.minMs).toBeLessThanOrEqual(t.hold.maxMs);
    expect(t.perSource * 3).toBeGreaterThanOrEqual(10);
    const argv = tcpCallerArgs(plan, 0, t, '198.51.100.120', '203.0.113.10:5060', 'x.xml', '/tmp/t.log');
    expect(argv.slice(argv.indexOf('-t'), argv.indexOf('-t') + 2)).toEqual(['-t', 'tn']);
    expect(argv[argv.indexOf('-l') + 1]).toBe(String(t.perSource));
  });

  it("the delay's end resets the instance's TCP connections on every SIP port (ss -K in its namespace)", () => {
    expect(tcpResetCommands('sbr1-i2', [5080, 5060, 5080])).toEqual([
      ['ip', 'netns', 'exec', 'sbr1-i2', 'ss', '-K', '-t', 'state', 'established', 'sport', '=', ':5080'],
      ['ip', 'netns', 'exec', 'sbr1-i2', 'ss', '-K', '-t', 'state', 'established', 'sport', '=', ':5060'],
    ]);
  });

  it('TCP calls are counted apart and in the exit rule', () => {
    const none = countCalls([]);
    const measured: Omit<RehearsalSummary, 'verdict'> = {
      engine: 'rehearsal controller',
      outcome: 'succeeded',
      image: 'twilio-relay',
      to: 'twilio-relay',
      instances: 1,
      scale: 10,
      deregistrationDelaySeconds: 30,
      hookTimeoutSeconds: 120,
      pollSeconds: 1,
      calls: none,
      perInstance: [],
      rollSeconds: 1,
      floorSeconds: 1,
      times: rollTimes(1000, 0, 10),
      hooksTimedOut: 0,
      timeline: [],
      droppedCalls: [],
      natPath: { outboundInvites: 0, invitesWithRport: 0, byesFromProxy: 0, natFlows: 0, natPortsKept: 0, natSamples: [] },
      tcp: countCalls([
        { callId: 'a', result: 'completed', endedBy: 'caller' },
        { callId: 'b', result: 'dropped' },
      ]),
    };
    expect(measured.tcp).toMatchObject({ placed: 2, completed: 1, dropped: 1, refused: 0, unanswered: 0 });
    const v = verdict(measured);
    expect(v.ok).toBe(false);
    expect(v.reasons).toEqual(['tcp: 1 call dropped']);
  });
});
