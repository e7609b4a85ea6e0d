import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../src/cli/commands/rehearse.js';
import type { RehearsalSummary } from '../../src/rehearse/run.js';
import { callOutcomes, timedMessages } from '../../src/rehearse/calls.js';

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
    expect(await callOutcomes([log])).toEqual([
      { callId: 'c1', result: 'completed', endedBy: 'caller' },
      { callId: 'c2', result: 'completed', endedBy: 'callee' },
      { callId: 'c3', result: 'refused', status: 503 },
      { callId: 'c4', result: 'dropped' },
    ]);
  });
});

describe('rehearse: summary', () => {
  it('prints the calls, the NAT path, the roll against its floor, and each replaced instance against its bound', () => {
    const s: RehearsalSummary = {
      image: 'twilio-relay',
      to: 'twilio-relay',
      instances: 1,
      scale: 10,
      deregistrationDelaySeconds: 30,
      hookTimeoutSeconds: 120,
      pollSeconds: 1,
      calls: { placed: 30, completed: 30, dropped: 0, refused: 0, unanswered: 0, callerBye: 15, calleeBye: 15 },
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
    };
    const text = formatSummary(s);
    expect(text).toMatch(/30 placed, 30 completed \(15 caller BYE, 15 callee BYE\), 0 dropped/);
    expect(text).toMatch(/run 1\/10 as fast/);
    expect(text).toMatch(/i-1 +47 s +44 s +within +complete/);
    expect(text).not.toMatch(/i-2/);
  });
});
