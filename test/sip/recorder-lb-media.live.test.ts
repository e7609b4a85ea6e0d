// Seed 004's media path against the real RTPProxy 3.2.0 (the pinned build .ci/setup compiles): every failure
// path frees the session, late offer and re-INVITEs (with and without SDP) carry media both ways, and every SDP
// either side receives carries RTPProxy's address. Sessions and packets are counted by RTPProxy itself (its
// `I` and `G` control commands). Callers play a cut of SIPp's own g711a.pcap; the recorders echo it (-rtp_echo).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealRtpproxy } from '../../src/try/rtpproxy.js';
import { rtpproxyBinary } from '../../src/try/upstream.js';
import { freePort, runCalls, type CallRun, type LoggedMessage } from '../support/index.js';
import { busyCaller, cancelCaller, cutPcap, failCaller, lateOfferCaller, recorderScenario, reinviteCaller } from './media-scenarios.js';
import { upRecorderLb, type Lb } from './recorder-lb.setup.js';

const SIPP_PCAP = '/usr/share/sip-tester/g711a.pcap';
/** Packets per media phase (20 ms each) and how long a phase lasts. */
const PACKETS = 25;
const PHASE_MS = 1200;
const COUNTERS = ['nsess_created', 'nsess_destroyed', 'nsess_complete', 'nsess_nortp', 'nsess_owrtp', 'npkts_relayed'] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;

const sdpC = (m: LoggedMessage): string | undefined => m.text.match(/^c=IN IP4 (\S+)$/m)?.[1];
const withSdp = (ms: LoggedMessage[]): LoggedMessage[] => ms.filter((m) => m.direction === 'received' && /^c=IN IP4 /m.test(m.text));

describe.skipIf(!rtpproxyBinary())('recorder-lb media through the real RTPProxy 3.2.0', () => {
  let lb: Lb;
  let rp: RealRtpproxy;
  let pcap: string;
  let n = 0;

  beforeAll(async () => {
    lb = await upRecorderLb({ net: 61, media: 'rtpproxy', recorderScenario: recorderScenario(), recorderArgs: ['-rtp_echo'] });
    if (!(lb.rtpproxy instanceof RealRtpproxy)) throw new Error('expected the real RTPProxy');
    rp = lb.rtpproxy;
    pcap = path.join(lb.dir, 'call.pcap');
    await writeFile(pcap, cutPcap(await readFile(SIPP_PCAP), PACKETS));
  });
  afterAll(async () => {
    await lb?.down();
  });

  const call = async (scenario: string, label: string): Promise<CallRun> => {
    const caller = lb.addr.callers[0]!;
    return runCalls({
      dir: lb.dir,
      name: `${label}-${++n}`,
      localIp: caller,
      localPort: await freePort(caller),
      remote: `${lb.addr.proxy}:${lb.sipPort}`,
      calls: 1,
      rate: 1,
      timeoutS: 30,
      scenario,
    });
  };
  const counters = (): Promise<Counters> => rp.stats(COUNTERS);
  /** RTPProxy's active sessions (its `I` command) once they are back to `want`, or after `ms`. */
  const activeWithin = async (want: number, ms: number): Promise<number> => {
    const deadline = Date.now() + ms;
    let now = (await rp.info()).active;
    while (now !== want && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      now = (await rp.info()).active;
    }
    return now;
  };
  const recorderMessages = async (callId: string): Promise<LoggedMessage[]> =>
    (await Promise.all(lb.recorders.map((r) => r.messages()))).flat().filter((m) => m.headers['call-id']?.[0] === callId);
  const callIdOf = (run: CallRun): string => run.messages.find((m) => m.direction === 'sent' && m.method === 'INVITE')!.headers['call-id']![0]!;

  it.each([
    ['a CANCEL after the 180', cancelCaller, 'cancel'],
    ['a 486 from the recorder', busyCaller, 'busy'],
    ['a 503 from every recorder', failCaller, 'fail'],
  ])('frees the session within 1 s after %s', async (_what, scenario, label) => {
    const before = await rp.info();
    const run = await call(scenario(), label);
    expect(run.exit.code, run.output).toBe(0);
    // RTPProxy was asked (the offer made a session), and nothing of it is left 1 s after the call ended.
    expect((await rp.info()).created - before.created).toBeGreaterThanOrEqual(1);
    expect(await activeWithin(before.active, 1000)).toBe(before.active);
  });

  it('late offer (offer in the 200, answer in the ACK): media both ways, both sides see RTPProxy', async () => {
    const before = await counters();
    const run = await call(lateOfferCaller({ pcap, phaseMs: PHASE_MS }), 'late');
    expect(run.exit.code, run.output).toBe(0);
    const active = await activeWithin(0, 3000);
    const after = await counters();
    // The recorder's only SDP is the ACK's answer; the caller's is the 200's offer.
    const atRecorder = withSdp(await recorderMessages(callIdOf(run)));
    expect(atRecorder.map((m) => `${m.method ?? m.status} ${sdpC(m)}`)).toEqual([`ACK ${lb.mediaIp}`]);
    expect(withSdp(run.messages).map((m) => `${m.status} ${sdpC(m)}`)).toEqual([`200 ${lb.mediaIp}`]);
    expectBothWays(before, after, active, 1);
  });

  it('re-INVITE with SDP and without: media both ways after each, every SDP carries RTPProxy', async () => {
    const before = await counters();
    const run = await call(reinviteCaller({ pcap, phaseMs: PHASE_MS }), 'reinvite');
    expect(run.exit.code, run.output).toBe(0);
    const active = await activeWithin(0, 3000);
    const after = await counters();
    const atRecorder = withSdp(await recorderMessages(callIdOf(run)));
    // The first INVITE and the re-INVITE with SDP carry offers; the last ACK the answer to the 200's offer.
    expect(atRecorder.map((m) => `${m.method} ${sdpC(m)}`)).toEqual([`INVITE ${lb.mediaIp}`, `INVITE ${lb.mediaIp}`, `ACK ${lb.mediaIp}`]);
    expect(withSdp(run.messages).map((m) => `${m.status} ${sdpC(m)}`)).toEqual([`200 ${lb.mediaIp}`, `200 ${lb.mediaIp}`, `200 ${lb.mediaIp}`]);
    expectBothWays(before, after, active, 3);
  });

  /** One session, made and freed, that RTPProxy itself saw media on in both directions, relaying every phase. */
  function expectBothWays(before: Counters, after: Counters, active: number, phases: number): void {
    const d = Object.fromEntries(COUNTERS.map((k) => [k, after[k] - before[k]])) as Counters;
    expect(active, 'sessions left after the BYE').toBe(0);
    expect({ created: d.nsess_created, destroyed: d.nsess_destroyed, complete: d.nsess_complete, noRtp: d.nsess_nortp, oneWay: d.nsess_owrtp }).toEqual({
      created: 1,
      destroyed: 1,
      complete: 1,
      noRtp: 0,
      oneWay: 0,
    });
    // Each phase the caller plays PACKETS and the recorder echoes what reaches it, so both ways relay
    // 2 × PACKETS; one way alone can never pass 1.5 × PACKETS per phase. (Without the ACK's answer RTPProxy relays 0.)
    expect(d.npkts_relayed, JSON.stringify(d)).toBeGreaterThanOrEqual(1.5 * PACKETS * phases);
  }
});
