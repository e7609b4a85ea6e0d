// Overload against the real RTPProxy 3.2.0: past media.rtpproxy.maxCalls concurrent calls, recorder-lb refuses
// new calls with 503 before RTPProxy is asked, so no session is ever made for a refused call and none is left
// behind. Sessions are counted by RTPProxy itself (its `I` command).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealRtpproxy } from '../../src/try/rtpproxy.js';
import { rtpproxyBinary } from '../../src/try/upstream.js';
import { RtpproxyResponder } from '../fakes/rtpproxy.js';
import { freePort, runCalls } from '../support/index.js';
import { admitOrRefuseCaller, recorderScenario } from './media-scenarios.js';
import { upRecorderLb, type Lb } from './recorder-lb.setup.js';

const MAX_CALLS = 10;
const CALLS = 40;

describe.skipIf(!rtpproxyBinary())('recorder-lb under overload, with the real RTPProxy 3.2.0', () => {
  let lb: Lb;
  let rp: RealRtpproxy;
  beforeAll(async () => {
    lb = await upRecorderLb({ net: 62, media: 'rtpproxy', recorderScenario: recorderScenario(), rtpproxyOver: { maxCalls: MAX_CALLS } });
    if (!(lb.rtpproxy instanceof RealRtpproxy)) throw new Error('expected the real RTPProxy');
    rp = lb.rtpproxy;
  });
  afterAll(async () => {
    await lb?.down();
  });

  it(`refuses calls past maxCalls (${MAX_CALLS}) with 503 before RTPProxy is asked, and leaves no session`, async () => {
    const before = await rp.info();
    const caller = lb.addr.callers[0]!;
    // All calls arrive within a second and each holds 4 s: most arrive while MAX_CALLS are up.
    const run = await runCalls({
      dir: lb.dir,
      name: 'overload',
      localIp: caller,
      localPort: await freePort(caller),
      remote: `${lb.addr.proxy}:${lb.sipPort}`,
      calls: CALLS,
      rate: CALLS,
      limit: CALLS,
      timeoutS: 60,
      scenario: admitOrRefuseCaller(4000),
    });
    expect(run.exit.code, run.output).toBe(0);
    // The final answer each call got to its INVITE.
    const finals = new Map<string, number>();
    for (const m of run.messages)
      if (m.direction === 'received' && m.status !== undefined && m.status >= 200 && m.headers.cseq?.[0]?.endsWith('INVITE'))
        finals.set(m.headers['call-id']![0]!, m.status);
    const answered = [...finals.values()].filter((s) => s === 200).length;
    const refused = [...finals.values()].filter((s) => s === 503).length;
    expect({ calls: finals.size, other: finals.size - answered - refused }).toEqual({ calls: CALLS, other: 0 });
    expect(refused, 'calls refused with 503').toBeGreaterThan(0);
    expect(answered, 'calls answered').toBeGreaterThan(0);
    // RTPProxy made one session per answered call and none for a refused one; none is left.
    const deadline = Date.now() + 3000;
    let now = await rp.info();
    while (now.active !== before.active && Date.now() < deadline) now = await rp.info();
    expect(now.created - before.created, now.raw).toBe(answered);
    expect(now.active, now.raw).toBe(before.active);
  });
});

// The one place the stand-in stays: RTPProxy refusing offers (ECODE_LSTFAIL_1, 71), which the real one does only
// when exhausted or overloaded, not on demand.
describe('recorder-lb when RTPProxy refuses the offer (stand-in injecting E71)', () => {
  let lb: Lb;
  beforeAll(async () => {
    lb = await upRecorderLb({ net: 63, media: 'stand-in', recorderScenario: recorderScenario() });
  });
  afterAll(async () => {
    await lb?.down();
  });

  it('answers the INVITE 503 and never relays it without media', async () => {
    const standIn = lb.rtpproxy as RtpproxyResponder;
    await standIn.stop();
    const failing = await new RtpproxyResponder({ ...standIn.opts, failOffers: 71 }).start();
    try {
      const caller = lb.addr.callers[0]!;
      const before = (await Promise.all(lb.recorders.map((r) => r.invites()))).flat().length;
      const run = await runCalls({
        dir: lb.dir,
        name: 'refused-offer',
        localIp: caller,
        localPort: await freePort(caller),
        remote: `${lb.addr.proxy}:${lb.sipPort}`,
        calls: 3,
        rate: 3,
        timeoutS: 30,
        scenario: admitOrRefuseCaller(100),
      });
      expect(run.exit.code, run.output).toBe(0);
      const finals = run.messages.filter((m) => m.direction === 'received' && (m.status ?? 0) >= 200 && m.headers.cseq?.[0]?.endsWith('INVITE'));
      expect(finals.map((m) => m.status)).toEqual([503, 503, 503]);
      expect(failing.of('U').length).toBeGreaterThanOrEqual(3);
      expect((await Promise.all(lb.recorders.map((r) => r.invites()))).flat().length).toBe(before);
    } finally {
      await failing.stop();
    }
  });
});
