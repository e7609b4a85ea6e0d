import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../src/cli/commands/rehearse.js';
import type { RehearsalSummary } from '../../src/rehearse/run.js';
import { callOutcomes, timedMessages } from '../../src/rehearse/calls.js';
import { handedOff, handoffsLogged } from '../../src/rehearse/measure.js';
import { uacTrunk } from '../../src/rehearse/scenarios.js';
import { rollTimes } from '../../src/rehearse/report.js';
import { verdict } from '../../src/rehearse/verdict.js';
import { callCounts } from '../support/call-counts.js';

const noCalls = callCounts();

// The rehearsal's pure parts that do not need root: the summary a person reads, and the call outcomes from SIPp logs.

const msg = (at: string, dir: 'sent' | 'received', text: string) =>
  `----------------------------------------------- 2026-11-29 ${at}\nUDP message ${dir} [1] bytes :\n\n${text}\n\n`;

describe('rehearse: call outcomes from SIPp message logs', () => {
  const log = [
    msg('10:00:00.000000', 'sent', 'INVITE sip:a@x SIP/2.0\nCall-ID: c1\nCSeq: 1 INVITE'),
    msg('10:00:00.100000', 'received', 'SIP/2.0 200 OK\nCall-ID: c1\nCSeq: 1 INVITE'),
    msg('10:00:03.000000', 'sent', 'BYE sip:a@x SIP/2.0\nCall-ID: c1\nCSeq: 2 BYE'),
    msg('10:00:03.100000', 'received', 'SIP/2.0 200 OK\nCall-ID: c1\nCSeq: 2 BYE'),
    msg('10:00:00.000000', 'sent', 'INVITE sip:b@x SIP/2.0\nCall-ID: c2\nCSeq: 1 INVITE'),
    msg('10:00:00.100000', 'received', 'SIP/2.0 200 OK\nCall-ID: c2\nCSeq: 1 INVITE'),
    msg('10:00:04.000000', 'received', 'BYE sip:b@x SIP/2.0\nCall-ID: c2\nCSeq: 1 BYE'),
    msg('10:00:04.000100', 'sent', 'SIP/2.0 200 OK\nCall-ID: c2\nCSeq: 1 BYE'),
    msg('10:00:00.000000', 'sent', 'INVITE sip:c@x SIP/2.0\nCall-ID: c3\nCSeq: 1 INVITE'),
    msg('10:00:00.100000', 'received', 'SIP/2.0 503 Service Unavailable\nCall-ID: c3\nCSeq: 1 INVITE'),
    msg('10:00:00.000000', 'sent', 'INVITE sip:d@x SIP/2.0\nCall-ID: c4\nCSeq: 1 INVITE'),
    msg('10:00:00.100000', 'received', 'SIP/2.0 200 OK\nCall-ID: c4\nCSeq: 1 INVITE'),
    msg('10:00:03.000000', 'sent', 'BYE sip:d@x SIP/2.0\nCall-ID: c4\nCSeq: 2 BYE'),
  ].join('');

  it('reads timestamps and directions', () => {
    const m = timedMessages(log);
    expect(m).toHaveLength(13);
    expect(m[2]).toMatchObject({ direction: 'sent', at: Date.parse('2026-11-29T10:00:03.000') });
  });

  it('completed by either side, refused, and dropped (a BYE that never got its 200)', async () => {
    expect(callOutcomes([log])).toEqual([
      { callId: 'c1', result: 'completed', endedBy: 'caller' },
      { callId: 'c2', result: 'completed', endedBy: 'callee' },
      { callId: 'c3', result: 'refused', status: 503 },
      { callId: 'c4', result: 'dropped' },
    ]);
  });
});

describe('rehearse: summary', () => {
  it('prints the calls, the NAT path, the roll against its floor, and each replaced instance against its bound', () => {
    const measured: Omit<RehearsalSummary, 'verdict'> = {
      engine: 'sipbake roll',
      outcome: 'succeeded',
      image: 'twilio-relay',
      to: 'twilio-relay',
      instances: 1,
      scale: 10,
      deregistrationDelaySeconds: 30,
      hookTimeoutSeconds: 120,
      pollSeconds: 1,
      calls: { ...noCalls, placed: 30, completed: 30, callerBye: 15, calleeBye: 15 },
      perInstance: [
        {
          id: 'i-1',
          image: 'old',
          drainSeconds: 47,
          longestRemainingCallSeconds: 44,
          callsAtPick: 3,
          endedBy: 'complete',
          heartbeats: 0,
          withinBound: true,
        },
        { id: 'i-2', image: 'new', heartbeats: 0 },
      ],
      rollSeconds: 60,
      floorSeconds: 55,
      times: rollTimes(9000, 3000, 10),
      hooksTimedOut: 0,
      timeline: [],
      droppedCalls: [],
      natPath: {
        outboundInvites: 30,
        invitesWithRport: 30,
        byesFromProxy: 15,
        natFlows: 7,
        natPortsKept: 0,
        natSamples: [],
      },
      trunk: {
        source: '198.51.100.30:5060',
        ...noCalls,
        placed: 40,
        completed: 37,
        refused: 3,
        callerBye: 18,
        calleeBye: 19,
        handedOff: 0,
        handoffsLogged: 0,
        placedWhileDraining: 4,
      },
    };
    const s: RehearsalSummary = { ...measured, verdict: verdict(measured) };
    const text = formatSummary(s);
    expect(text).toMatch(
      /trunk 198\.51\.100\.30:5060 \(one UDP flow\): 40 placed, 37 completed \(18 caller BYE, 19 callee BYE\), 0 dropped, 3 refused, 0 unanswered; 4 placed while its flow's instance was draining, 0 handed off/,
    );
    expect(text).toMatch(/30 placed, 30 completed \(15 caller BYE, 15 callee BYE, 0 answered only after INVITE retransmissions\), 0 dropped/);
    expect(text).toMatch(/run 1\/10 as fast/);
    expect(text).toMatch(/roll: 60 s of scaled time \(sequential floor 55 s\) \+ 3\.0 s of launches \(wall clock, not scaled\)/);
    expect(text).toMatch(/^FAILED: twilio-relay → twilio-relay on 1 instance\(s\), engine: sipbake roll, outcome: succeeded: trunk: 3 calls refused$/m);
    // The calls each replaced instance held when it was picked (issue 19, what to build 4, item 1).
    expect(text).toMatch(/i-1 +3 call\(s\) +47 s +44 s +within +complete/);
    expect(text).not.toMatch(/i-2/);
  });
});

describe('rehearse: the trunk', () => {
  it("one scenario for both endings: odd calls the callee's BYE (Request-URI calleebye), even ones the caller's", () => {
    const x = uacTrunk({ minMs: 2000, maxMs: 6000 }, 36000, { ip: '198.51.100.30', port: 5060 }, { ip: '203.0.113.10', port: 5060 });
    expect(x).toMatch(/<ereg regexp="\[13579\]\$" search_in="var" variable="cn"/);
    expect(x).toMatch(/INVITE sip:\[\$svc\]@203\.0\.113\.10:5060 /);
    // It names the trunk's public address (its edge), never SIPp's own socket.
    expect(x).toMatch(/^Via: SIP\/2\.0\/\[transport\] 198\.51\.100\.30:5060;branch=/m);
    expect(x).not.toMatch(/\[(?:local_ip|local_port|remote_ip|remote_port|media_ip)\]/);
    expect(x).not.toMatch(/\[service\]/);
    expect(x).toMatch(/<recv request="BYE" timeout="36000"\/>/);
  });

  it('a trunk call is handed off when the callee got its INVITE through two proxies (three Vias) or with the marker; Kamailio logged it', () => {
    const inv = (id: string, vias: string[], extra = '') =>
      msg(
        '10:00:00.000000',
        'received',
        `INVITE sip:callerbye@x SIP/2.0\n${vias.map((v) => `Via: SIP/2.0/UDP ${v}`).join('\n')}\nCall-ID: ${id}\nCSeq: 1 INVITE${extra}`,
      );
    const log = [
      inv('t1', ['203.0.113.10;branch=z9hG4bKa', '203.0.113.10;branch=z9hG4bKb', '198.51.100.30:5060;branch=z9hG4bKc']),
      inv('t2', ['203.0.113.10;branch=z9hG4bKa', '198.51.100.30:5060;branch=z9hG4bKc']),
      inv('t3', ['203.0.113.10;branch=z9hG4bKa, 198.51.100.30:5060;branch=z9hG4bKc'], '\nX-Sipbake-Handoff: 10.0.1.11'),
      inv('c1', ['203.0.113.10;branch=z9hG4bKa', '203.0.113.10;branch=z9hG4bKb', '198.51.100.11:7000;branch=z9hG4bKc']),
    ].join('');
    const trunk = new Set(['t1', 't2', 't3']);
    expect(handedOff(log, trunk).sort()).toEqual(['t1', 't3']);
    const kam = [
      ' 2(88) NOTICE: <script>: handoff: INVITE Call-ID t1 from 198.51.100.30:5060 to 10.0.1.12\n',
      ' 2(88) WARNING: <script>: handoff: INVITE Call-ID t2 from 198.51.100.30:5060 was handed off already; not again\n',
      ' 2(88) NOTICE: <script>: handoff: INVITE Call-ID c1 from 198.51.100.11:7000 to 10.0.1.12\n',
    ];
    expect(handoffsLogged(kam, trunk)).toBe(1);
  });
});
