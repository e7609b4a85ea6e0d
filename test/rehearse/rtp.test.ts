// The rehearsal's media pieces that are pure: per-call RTP figures (a call whose audio stops is dropped), the SDP
// edit that moves the caller's media to another address, RTPProxy's argv from the tree's unit, and the per-instance
// media Elastic IPs (1:1 NAT) of the NLB namespace's ruleset.
import { describe, expect, it } from 'vitest';
import { newCall, onEnded, onReceived, onSent, parseMediaCtl, sdpAudio, sipHead, summarize, withSdpAudio } from '../../src/rehearse/rtp-call.js';
import { followMediaCtl, RtpStreams } from '../../src/rehearse/rtp-stream.js';
import { uacCalleeBye, uacCallerBye, withCallerMedia } from '../../src/rehearse/scenarios.js';
import { callerArgs, callerMediaIp } from '../../src/rehearse/load.js';
import type { RehearsalPlan } from '../../src/rehearse/plan.js';
import { rtpproxyArgvFromUnit } from '../../src/rehearse/rtp-proxy.js';
import { ADDR, instanceEip, instanceIp, nlbRuleset } from '../../src/rehearse/net-plan.js';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareImage } from '../../src/rehearse/image.js';
import { callerRtpStatsFile, markAudioLost, readRtpFigures, rtpStatsFile } from '../../src/rehearse/rtp-report.js';
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
    const d = call('d', 2000, (t) => t < 1000);
    expect([d.longestGapMs, d.endSilenceMs]).toEqual([1015, 1015]);
    expect(call('e', 2000, () => true).endSilenceMs).toBe(15);
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

describe('every caller’s calls carry RTP (not just the trunk’s)', () => {
  it('parses the control lines the SIPp callers append, and refuses malformed ones', () => {
    expect(parseMediaCtl('start 12-34@198.51.100.11 198.51.100.42 203.0.113.129 35000')).toEqual({
      kind: 'start',
      callId: '12-34@198.51.100.11',
      mediaIp: '198.51.100.42',
      to: { ip: '203.0.113.129', port: 35000 },
    });
    expect(parseMediaCtl('end 12-34@198.51.100.11 1765112345678')).toEqual({ kind: 'end', callId: '12-34@198.51.100.11', at: 1765112345678 });
    // A 200 without SDP leaves SIPp's variables empty: no stream.
    expect(parseMediaCtl('start 12-34@198.51.100.11 198.51.100.42  ')).toBeUndefined();
    expect(parseMediaCtl('end 12-34@x')).toBeUndefined();
  });

  it('the caller scenarios tell the helper the answer at the 200 and the time at either BYE', () => {
    const ctl = '/tmp/sipbake-rehearse-1/rtp-callers.ctl';
    const caller = withCallerMedia(uacCallerBye({ minMs: 1000, maxMs: 2000 }), ctl);
    expect(caller).toContain(`<exec command="echo start [call_id] [media_ip] [$aip] [$aport] | dd of=${ctl} oflag=append conv=notrunc status=none"/>`);
    expect(caller).not.toMatch(/&|>>/); // SIPp's XML reader decodes no entities
    // The end time is taken while the audio still flows: the BYE waits after it.
    expect(caller).toMatch(/echo end \[call_id\][^\n]*\n\s*<\/action>\s*<\/nop>\s*<pause milliseconds="300"\/>\s*<send retrans="500">\s*<!\[CDATA\[\s*BYE /);
    const callee = withCallerMedia(uacCalleeBye(5000), ctl);
    expect(callee).toMatch(/<recv request="BYE" timeout="5000">\s*<action>\s*<exec command="echo end \[call_id\] \$\(date \+%s%3N\)/);
    expect(() => withCallerMedia(uacCallerBye({ minMs: 1, maxMs: 2 }), '/tmp/a b; rm -rf x')).toThrow(/not a plain path/);
  });

  it('a caller’s media address is never its signalling address, nor the trunk’s media address', () => {
    for (let n = 0; n < 12; n++) {
      expect(ADDR.sources).not.toContain(callerMediaIp(n));
      expect(ADDR.mediaSources).toContain(callerMediaIp(n));
      expect(callerMediaIp(n)).not.toBe(ADDR.mediaSources[0]);
    }
  });

  it('the SIPp callers get -mi with their media address', () => {
    const plan = {
      groups: [{ service: 'callerbye', src: ADDR.sources[0], calls: 3 }],
      periodMs: 1000,
      waitMs: 5000,
      windowMs: 10000,
    } as unknown as RehearsalPlan;
    const argv = callerArgs(plan, 0, '203.0.113.10:5060', 'f.xml', '/tmp', callerMediaIp(0));
    expect(argv[argv.indexOf('-mi') + 1]).toBe(callerMediaIp(0));
    expect(callerArgs(plan, 0, '203.0.113.10:5060', 'f.xml', '/tmp')).not.toContain('-mi');
  });

  it('followMediaCtl streams from the named address to the answer, counts the echo, and ends at the BYE’s time', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-caller-rtp-'));
    const echo = dgram.createSocket('udp4');
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
    const ctl = path.join(dir, 'ctl');
    const stats = path.join(dir, 'stats.json');
    const stop = followMediaCtl(ctl, new RtpStreams('0.0.0.0', stats));
    try {
      await appendFile(ctl, `start call-1 127.0.0.1 127.0.0.1 ${echo.address().port}\nstart call-2 127.0.0.1 127.0.0.1 9\n`);
      await new Promise((r) => setTimeout(r, 400));
      await appendFile(ctl, `end call-1 ${Date.now()}\nend call-2 ${Date.now()}\n`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      stop();
      echo.close();
    }
    const { calls } = JSON.parse(await readFile(stats, 'utf8')) as { calls: Array<{ callId: string; sent: number; received: number; longestGapMs: number }> };
    const one = calls.find((c) => c.callId === 'call-1');
    const two = calls.find((c) => c.callId === 'call-2');
    expect(one?.sent).toBeGreaterThan(5);
    expect(one?.received).toBeGreaterThan(5);
    expect(one?.longestGapMs).toBeLessThan(200);
    expect(two?.sent).toBeGreaterThan(5);
    expect(two?.received).toBe(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('the summary’s figures hold the trunk’s calls and the callers’ together', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-rtp-figures-'));
    const ok = { callId: 't1', sent: 100, received: 100, longestGapMs: 21 };
    const none = { callId: 'c1', sent: 100, received: 0, longestGapMs: 2000 };
    await writeFile(rtpStatsFile(dir), JSON.stringify({ calls: [ok] }));
    await writeFile(callerRtpStatsFile(dir), JSON.stringify({ calls: [none, { callId: 'c2', sent: 0, received: 0, longestGapMs: 0 }] }));
    const f = await readRtpFigures(dir);
    expect(f).toMatchObject({ calls: 2, callsWithGap: 0, callsWithoutAudio: 1, maxGapMs: 2000 });
    expect(f?.perCall.map((c) => c.callId)).toEqual(['t1', 'c1']);
    await rm(dir, { recursive: true, force: true });
  });
});
