// The rehearsal's media pieces that are pure: per-call RTP figures (a call whose audio stops is dropped), the SDP
// edit that moves the caller's media to another address, RTPProxy's argv from the tree's unit, and the per-instance
// media Elastic IPs (1:1 NAT) of the NLB namespace's ruleset.
import { describe, expect, it } from 'vitest';
import { newCall, onEnded, onReceived, onSent, sdpAudio, sipHead, summarize, withSdpAudio } from '../../src/rehearse/rtp-call.js';
import { rtpproxyArgvFromUnit } from '../../src/rehearse/rtp-proxy.js';
import { ADDR, instanceEip, instanceIp, nlbRuleset } from '../../src/rehearse/net-plan.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareImage } from '../../src/rehearse/image.js';
import { markAudioLost } from '../../src/rehearse/rtp-report.js';
import { countCalls } from '../../src/rehearse/report.js';
import type { CallOutcome } from '../../src/rehearse/calls.js';

/** A call that sends every 20 ms for `ms` and gets back each packet whose send time `back` accepts. */
function call(id: string, ms: number, back: (t: number) => boolean) {
  const c = newCall(id);
  for (let t = 0; t < ms; t += 20) {
    onSent(c, t);
    if (back(t)) onReceived(c, t + 5);
  }
  onEnded(c, ms);
  return c;
}

describe('RTP figures per call', () => {
  it('counts a clean call, a call with a 300 ms hole, and one with no audio (dropped)', () => {
    const clean = call('a', 2000, () => true);
    const gap = call('b', 2000, (t) => t < 800 || t >= 1100);
    const silent = call('c', 2000, () => false);
    expect([clean.sent, clean.received, clean.longestGapMs]).toEqual([100, 100, 20]);
    expect(gap.longestGapMs).toBe(320);
    expect(summarize([clean, gap, silent])).toEqual({ calls: 3, callsWithGap: 1, callsWithoutAudio: 1, maxGapMs: 2000 });
  });

  it('audio that stops before the BYE is a gap up to the BYE', () => {
    expect(call('d', 2000, (t) => t < 1000).longestGapMs).toBe(1015);
  });

  it('a call whose SIP completed but whose audio stopped counts as dropped', () => {
    const outcomes: CallOutcome[] = ['a', 'b', 'c', 'x'].map((callId) => ({ callId, result: 'completed' as const }));
    const perCall = [
      { callId: 'a', sent: 100, received: 100, longestGapMs: 20 },
      { callId: 'b', sent: 100, received: 85, longestGapMs: 320 },
      { callId: 'c', sent: 100, received: 0, longestGapMs: 2000 },
    ];
    expect(markAudioLost(outcomes, { perCall })).toBe(2);
    expect(outcomes.map((o) => [o.result, o.audioLost])).toEqual([
      ['completed', undefined],
      ['dropped', 'gap'],
      ['dropped', 'none'],
      ['completed', undefined],
    ]);
    expect(countCalls(outcomes)).toMatchObject({ placed: 4, completed: 2, dropped: 2 });
  });
});

const INVITE = [
  'INVITE sip:callerbye@203.0.113.10:5060 SIP/2.0',
  'Call-ID: 1-23@198.51.100.30',
  'CSeq: 1 INVITE',
  'Content-Type: application/sdp',
  'Content-Length: 129',
  '',
  'v=0\r\no=user1 53655765 2353687637 IN IP4 198.51.100.30\r\ns=-\r\nc=IN IP4 198.51.100.30\r\nt=0 0\r\nm=audio 18000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n',
].join('\r\n');

describe('the caller media on another address than its signalling', () => {
  it('rewrites the offer to the call’s media socket and keeps Content-Length true', () => {
    const out = withSdpAudio(INVITE, { ip: ADDR.mediaSources[0]!, port: 41000 });
    expect(sdpAudio(out)).toEqual({ ip: ADDR.mediaSources[0], port: 41000 });
    const body = out.slice(out.indexOf('\r\n\r\n') + 4);
    expect(out).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
    expect(out).toMatch(/^INVITE sip:callerbye@203\.0\.113\.10:5060 SIP\/2\.0\r\n/);
    expect(sipHead(out)).toEqual({ callId: '1-23@198.51.100.30', cseq: 'INVITE', method: 'INVITE' });
    expect(sipHead('SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n')).toEqual({ callId: 'x', cseq: 'INVITE', status: 200 });
  });
});

describe('RTPProxy from the tree’s unit', () => {
  it('expands $VARs from both env files, moves the pidfile under the tree and uses the pinned binary', () => {
    const unit = 'ExecStart=/usr/local/bin/rtpproxy $RTPPROXY_OPTS $RTPPROXY_ADDR_OPTS\nEnvironmentFile=/etc/sipbake/rtpproxy.env\n';
    const argv = rtpproxyArgvFromUnit(
      unit,
      [
        'RTPPROXY_OPTS="-f -F -s udp:127.0.0.1:7722 -m 20000 -M 30000 -d WARN -L 10256 -p /run/rtpproxy/rtpproxy.pid"',
        'RTPPROXY_ADDR_OPTS="-l 10.0.1.11=203.0.113.129"',
      ],
      '/tmp/t',
      '/opt/rtpproxy',
    );
    expect(argv).toEqual([
      '/opt/rtpproxy',
      '-f',
      '-F',
      '-s',
      'udp:127.0.0.1:7722',
      '-m',
      '20000',
      '-M',
      '30000',
      '-d',
      'WARN',
      '-L',
      '10256',
      '-p',
      '/tmp/t/run/rtpproxy.pid',
      '-l',
      '10.0.1.11=203.0.113.129',
    ]);
    expect(() => rtpproxyArgvFromUnit(unit, ['RTPPROXY_OPTS="-f"'], '/tmp/t', 'rtpproxy')).toThrow(
      /no -l: .*rtpproxy-boot\.env was not written by the boot agent/,
    );
  });
});

describe('each instance’s own media Elastic IP', () => {
  it('maps instanceEip(k) 1:1 to instance k for the RTP ports only, and only when asked', () => {
    const r = nlbRuleset({ udpIdleSeconds: 12, stickiness: true, listenPorts: [5060], mediaRtpPorts: { min: 20000, max: 30000 } });
    expect(r).toContain(`${instanceEip(3)} : ${instanceIp(3)}`);
    expect(r).toContain(`${instanceIp(3)} : ${instanceEip(3)}`);
    expect(r).toMatch(/ip daddr 203\.0\.113\.128\/25 dnat ip to ip daddr map @eip_in/);
    expect(r).toMatch(/udp sport 20000-30000 snat ip to ip saddr map @eip_out/);
    expect(nlbRuleset({ udpIdleSeconds: 12, stickiness: true, listenPorts: [5060] })).not.toContain('eip_in');
  });
});

describe("--media-address: where the rehearsal's RTPProxy advertises media", () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  it("instance (the default): each instance's own address; signalling: the NLB's single address (the negative control)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-media-address-'));
    try {
      const own = await prepareImage(root, 'recorder-lb', path.join(dir, 'a'), { scale: 10, hookTimeoutSeconds: 120 });
      expect(own.mediaOwnAddress).toBe(true);
      expect(await readFile(own.definitionFile, 'utf8')).toMatch(/address:\s+source: instance-public-ipv4/);
      const single = await prepareImage(root, 'recorder-lb', path.join(dir, 'b'), { scale: 10, hookTimeoutSeconds: 120, mediaAddress: 'signalling' });
      expect(single.mediaOwnAddress).toBe(false);
      expect(await readFile(single.definitionFile, 'utf8')).toMatch(/address:\s+source: signalling/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
