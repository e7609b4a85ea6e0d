// Issue 10, the trunk's one 5-tuple: AWS NLB keeps an existing flow on a deregistering target for the
// whole deregistration delay, and a SIP trunk sends every call from one address:port. So while instance A
// drains, every new call from that trunk still lands on A. A hands new INVITEs to the serving peer in
// $shv(handoff) (B) instead of answering 503: B owns the call (its Record-Route token, its dialog), and the
// ACK and BYE the trunk keeps sending to A reach B through A's TO_OWNER. Two real twilio-relay Kamailios
// on loopback share one advertised address (the NLB's, which nothing binds); a SIPp UAC sends every call
// from ONE fixed address:port to A; a SIPp UAS is the destination.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  makeTmpDir,
  renderDefinition,
  runCalls,
  seedDefinition,
  startKamailio,
  startUas,
  type ManagedProcess,
  type TmpDir,
  type Uas,
} from '../support/index.js';
import { SipUa, SDP, hdr, newId, type SipMessage } from './sip-ua.js';
import { parseTmList } from '../../src/agent/kamailio-rpc.js';
import { RtpproxyResponder } from '../fakes/rtpproxy.js';
import { RealRtpproxy } from '../../src/try/rtpproxy.js';
import { rtpproxyBinary } from '../../src/try/upstream.js';

const run = promisify(execFile);
const a = (x: number): string => `127.0.45.${x}`;
const NLB = a(100);
const [A, B] = [a(1), a(2)];
const PEER_NET = '127.0.45.0/29';
const IN_PEER_NET = a(3); // inside the peer network, not an instance
const OUTSIDE = a(50); // neither a peer nor an allowed source
const TRUNK = a(20);
const DEST = a(30);

interface Instance {
  ip: string;
  kam: ManagedProcess;
  kamcmd(...args: string[]): Promise<string>;
  active(): Promise<number>;
  /** dialog:processed_dialogs: every dialog this instance ever managed. */
  processed(): Promise<number>;
}

describe('a draining instance hands new INVITEs to a serving peer', () => {
  let tmp: TmpDir;
  let port = 0;
  let trunkPort = 0;
  let uas: Uas;
  let uasPort = 0;
  const inst: Instance[] = [];

  beforeAll(async () => {
    tmp = await makeTmpDir('sipbake-handoff-');
    port = await freePort(A);
    uasPort = await freePort(DEST);
    trunkPort = await freePort(TRUNK);
    uas = await startUas({ dir: tmp.path, name: 'dest', localIp: DEST, localPort: uasPort });
    for (const ip of [A, B]) {
      const dir = path.join(tmp.path, ip);
      await mkdir(dir);
      const def = await seedDefinition('twilio-relay', {
        listen: { udp: port, tcp: port },
        advertise: { source: 'elastic-ip', elasticIp: NLB },
        relay: {
          destination: { domain: DEST, port: uasPort, transport: 'udp' },
          allowedSources: [`${TRUNK}/32`, `${DEST}/32`],
        },
        diagnostics: { log: 'stderr', debugLevel: 1 },
        memory: { children: 2 },
        drain: { healthCheck: { port: await freePort(ip) } },
      });
      const img = await renderDefinition(dir, def, { privateIp: ip, publicIp: NLB });
      const include = path.join(img.tree, 'etc/kamailio/sipbake-boot.cfg');
      const text = await readFile(include, 'utf8');
      if (!text.includes('#!define SIPBAKE_PEER_NET "127.0.0.0/8"')) throw new Error('render --local no longer writes SIPBAKE_PEER_NET 127.0.0.0/8');
      await writeFile(include, text.replace('"127.0.0.0/8"', `"${PEER_NET}"`));
      const kam = await startKamailio({
        tree: img.tree,
        sharedMb: 64,
        privateMb: 8,
        listeners: [{ host: ip, port, transport: 'udp' }],
        logFile: path.join(dir, 'kamailio.log'),
      });
      const sock = `unix:${img.tree}/run/kamailio/kamailio_ctl`;
      const kamcmd = async (...args: string[]) => (await run('kamcmd', ['-s', sock, ...args], { timeout: 5000 })).stdout;
      inst.push({
        ip,
        kam,
        kamcmd,
        active: async () => Number(/all:\s*(\d+)/.exec(await kamcmd('dlg.stats_active'))?.[1] ?? NaN),
        processed: async () => Number(/processed_dialogs\s*=\s*(\d+)/.exec(await kamcmd('stats.get_statistics', 'processed_dialogs'))?.[1] ?? NaN),
      });
    }
  });
  afterAll(async () => {
    for (const i of inst) await i.kam.stop();
    await uas?.stop();
    await tmp?.remove();
  });

  const trunkCalls = (name: string, calls: number) =>
    runCalls({
      dir: tmp.path,
      name,
      // One fixed address:port for every call: the trunk's single 5-tuple.
      localIp: TRUNK,
      localPort: trunkPort,
      remote: `${A}:${port}`,
      calls,
      rate: 5,
      limit: 5,
      timeoutS: 30,
      uac: { holdMs: 300 },
    });

  it('calls from one trunk 5-tuple to the draining A complete on B: B owns the dialogs, A has none', async () => {
    const [ia, ib] = [inst[0]!, inst[1]!];
    await ia.kamcmd('pv.shvSet', 'draining', 'int', '1');
    await ia.kamcmd('pv.shvSet', 'handoff', 'str', B);
    const before = (await uas.invites()).length;
    const r = await trunkCalls('handoff', 10);
    expect(r.stats?.failed, r.output).toBe(0);
    expect(r.stats?.successful).toBe(10);
    // A has no dialog but holds an INVITE server transaction per handed-off call: what the drain
    // agent waits for besides dialogs. Finished, they stay in tm's wait timer (~5 s), then they are gone.
    const listed = await ia.kamcmd('tm.list');
    // (the last calls' ones at least: the first may have left the wait timer on a slow machine; BYEs never count)
    expect(parseTmList(listed), listed.slice(0, 2000)).toBeGreaterThan(0);
    expect(parseTmList(listed)).toBeLessThanOrEqual(10);
    const deadline = Date.now() + 15_000;
    while (parseTmList(await ia.kamcmd('tm.list')) > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 500));
    expect(parseTmList(await ia.kamcmd('tm.list'))).toBe(0);

    // Every INVITE went A -> B -> destination; B record-routed it with its own token, A not at all.
    const invites = (await uas.invites()).slice(before);
    expect(invites).toHaveLength(10);
    for (const m of invites) {
      expect(m.headers['x-sipbake-handoff'], 'the destination never sees the marker').toBeUndefined();
      expect((m.headers['record-route'] ?? []).join(',')).toContain(`;sbinst=${B}`);
      expect((m.headers['record-route'] ?? []).join(',')).not.toContain(`;sbinst=${A}`);
    }
    // Every call's BYE reached the destination (through A's TO_OWNER to B) and ended B's dialog.
    const byes = (await uas.messages()).filter((m) => m.direction === 'received' && m.method === 'BYE');
    expect(new Set(byes.map((m) => m.headers['call-id']?.[0])).size).toBeGreaterThanOrEqual(10);
    await new Promise((res) => setTimeout(res, 300));
    expect(await ib.processed()).toBe(10);
    expect(await ib.active()).toBe(0);
    expect(await ia.processed()).toBe(0);
    expect(await ia.active()).toBe(0);
    expect(
      ia.kam.text().match(new RegExp(`handoff: INVITE Call-ID \\S+ from ${TRUNK.replace(/\./g, '\\.')}:${trunkPort} to ${B.replace(/\./g, '\\.')}`, 'g')),
    ).toHaveLength(10);
  }, 60_000);

  // Issue 19, what to build 4, item 3: the agent names the peer ADDRESS:PORT when its target group registers it on
  // its own port (images on different SIP ports); Kamailio relays to that port. Control: the template's old
  // `$du = "sip:" + $var(peer) + ":" + $Rp` (the whole ADDRESS:PORT as the host) made every call here fail.
  it('a peer named ADDRESS:PORT in $shv(handoff) gets the calls at that port', async () => {
    const [ia, ib] = [inst[0]!, inst[1]!];
    await ia.kamcmd('pv.shvSet', 'draining', 'int', '1');
    await ia.kamcmd('pv.shvSet', 'handoff', 'str', `${B}:${port}`);
    const before = await ib.processed();
    const r = await trunkCalls('handoff-port', 4);
    expect(r.stats?.successful, r.output).toBe(4);
    expect(await ib.processed()).toBe(before + 4);
    expect(ia.kam.text()).toContain(`to ${B}:${port}\n`);
    // The handed-off INVITEs leave A's tm wait timer before the next test counts A's transactions.
    const deadline = Date.now() + 15_000;
    while (parseTmList(await ia.kamcmd('tm.list')) > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 500));
  }, 60_000);

  it('with no peer set, the draining A answers the same calls 503 (negative control)', async () => {
    const ia = inst[0]!;
    await ia.kamcmd('pv.shvSet', 'draining', 'int', '1');
    await ia.kamcmd('pv.shvSet', 'handoff', 'int', '0');
    const before = (await uas.invites()).length;
    const r = await trunkCalls('no-peer', 3);
    expect(r.stats?.successful, r.output).toBe(0);
    expect(r.stats?.failed).toBe(3);
    expect(r.messages.filter((m) => m.direction === 'received' && m.status === 503)).not.toHaveLength(0);
    expect((await uas.invites()).length).toBe(before);
  }, 60_000);

  describe('on the peer', () => {
    const invite = (ua: SipUa, callId: string, marker: boolean) =>
      ua.request({
        method: 'INVITE',
        ruri: `sip:callee@${NLB}:${port}`,
        from: `<sip:x@${ua.hostport}>;tag=${newId()}`,
        to: `<sip:callee@${NLB}>`,
        callId,
        cseq: 1,
        body: SDP(ua.ip, 30000),
        extra: marker ? [`X-Sipbake-Handoff: ${A}`] : [],
      });

    it.each([
      ['outside the peer network, with the marker', OUTSIDE, true, 403],
      ['inside the peer network, without the marker', IN_PEER_NET, false, 403],
    ])('refuses a new INVITE from %s', async (_what, ip, marker, status) => {
      const ib = inst[1]!;
      const ua = await SipUa.open(ip);
      try {
        const before = (await uas.invites()).length;
        const callId = `${newId()}@forged`;
        ua.send(invite(ua, callId, marker), B, port);
        expect((await ua.finalResponse(callId, 'INVITE', 3000))?.status).toBe(status);
        expect((await uas.invites()).length).toBe(before);
        expect(await ib.active()).toBe(0);
      } finally {
        await ua.close();
      }
    });

    it('a draining peer never hands a handed-off INVITE on again: 503', async () => {
      const ib = inst[1]!;
      await ib.kamcmd('pv.shvSet', 'draining', 'int', '1');
      await ib.kamcmd('pv.shvSet', 'handoff', 'str', A);
      const ua = await SipUa.open(IN_PEER_NET);
      try {
        const callId = `${newId()}@twice`;
        ua.send(invite(ua, callId, true), B, port);
        expect((await ua.finalResponse(callId, 'INVITE', 3000))?.status).toBe(503);
        expect(ib.kam.text()).toMatch(/handed off already; not again/);
      } finally {
        await ua.close();
        await ib.kamcmd('pv.shvSet', 'draining', 'int', '0');
        await ib.kamcmd('pv.shvSet', 'handoff', 'int', '0');
      }
    });
  });

  it('a ringing handed-off INVITE: A holds a transaction and no dialog (what the agent waits for); CANCEL reaches B and the callee', async () => {
    const [ia, ib] = [inst[0]!, inst[1]!];
    await ia.kamcmd('pv.shvSet', 'draining', 'int', '1');
    await ia.kamcmd('pv.shvSet', 'handoff', 'str', B);
    // The destination now rings and never answers (the SIPp UAS is done with its part).
    await uas.stop();
    const callee = await SipUa.open(DEST, uasPort);
    const trunk = await SipUa.open(TRUNK, trunkPort);
    try {
      let ringing: SipMessage | undefined;
      callee.onEvery((m) => {
        if (m.method === 'INVITE') {
          ringing = m;
          callee.reply(m, 180, 'Ringing', { toTag: 'ring1' });
        } else if (m.method === 'CANCEL' && ringing) {
          callee.reply(m, 200, 'OK');
          callee.reply(ringing, 487, 'Request Terminated', { toTag: 'ring1' });
        }
      });
      const callId = `${newId()}@ringing`;
      const invite = trunk.request({
        method: 'INVITE',
        ruri: `sip:callee@${NLB}:${port}`,
        from: `<sip:trunk@${trunk.hostport}>;tag=${newId()}`,
        to: `<sip:callee@${NLB}>`,
        callId,
        cseq: 1,
        body: SDP(TRUNK, 30000),
      });
      trunk.send(invite, A, port);
      expect((await trunk.waitFor((m) => m.status === 180 && hdr(m, 'call-id') === callId, 4000))?.from.address).toBe(A);
      expect(parseTmList(await ia.kamcmd('tm.list')), 'A holds the handed-off INVITE transaction').toBe(1);
      expect(await ia.active(), 'and no dialog').toBe(0);
      expect(await ib.active(), 'B owns the early dialog').toBe(1);
      // CANCEL: the INVITE's Via (same branch), CSeq method CANCEL, no body (RFC 3261 9.1).
      const cancel = invite
        .replace(/^INVITE /, 'CANCEL ')
        .replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL')
        .replace(/Content-Type: application\/sdp\r\n/, '')
        .replace(/Content-Length: \d+\r\n\r\n[\s\S]*$/, 'Content-Length: 0\r\n\r\n');
      trunk.send(cancel, A, port);
      expect((await trunk.finalResponse(callId, 'CANCEL', 4000))?.status).toBe(200);
      const fin = await trunk.finalResponse(callId, 'INVITE', 4000);
      expect(fin?.status).toBe(487);
      expect(callee.received.some((m) => m.method === 'CANCEL' && hdr(m, 'call-id') === callId)).toBe(true);
      await new Promise((res) => setTimeout(res, 300));
      expect(await ib.active()).toBe(0);
    } finally {
      await trunk.close();
      await callee.close();
    }
  }, 30_000);
});

// recorder-lb: the dispatcher image, with RTPProxy (each instance its own responder) and a small antiflood
// density (2 INVITEs per 2 s): the handed-off calls must reach a recorder through the peer, with the peer's
// media (A's RTPProxy sees nothing), and the peer must never count them towards a ban of A's address.
describe('recorder-lb: a draining instance hands new INVITEs to a serving peer', () => {
  const r = (x: number): string => `127.0.46.${x}`;
  const [RA, RB, RTRUNK, REC, RNLB] = [r(1), r(2), r(20), r(30), r(100)];
  let tmp: TmpDir;
  let port = 0;
  let trunkPort = 0;
  let recorder: Uas;
  const inst: (Instance & { rtpproxy: RtpproxyResponder | RealRtpproxy })[] = [];

  beforeAll(async () => {
    tmp = await makeTmpDir('sipbake-handoff-lb-');
    port = await freePort(RA);
    trunkPort = await freePort(RTRUNK);
    const recPort = await freePort(REC);
    recorder = await startUas({ dir: tmp.path, name: 'recorder', localIp: REC, localPort: recPort });
    for (const ip of [RA, RB]) {
      const dir = path.join(tmp.path, ip);
      await mkdir(dir);
      // The real RTPProxy 3.2.0 when built (its own session counters); the stand-in's command log otherwise.
      const rtpBin = rtpproxyBinary();
      const rtpproxy = rtpBin
        ? await RealRtpproxy.start({ bin: rtpBin, host: ip, port: await freePort(ip), mediaIp: ip, rtpPorts: { min: 43000, max: 43999 }, dir })
        : await new RtpproxyResponder({ host: ip, port: await freePort(ip) }).start();
      const def = await seedDefinition('recorder-lb', {
        listen: { udp: port, tcp: port },
        // Behind the NLB: every instance advertises (and record-routes) the shared address.
        advertise: { source: 'elastic-ip', elasticIp: RNLB },
        dispatcher: {
          algorithm: 4,
          destinations: [{ host: REC, port: recPort, transport: 'udp', description: 'recorder' }],
          probing: { interval: 5 },
        },
        media: { rtpproxy: { enabled: true, controlSocket: rtpproxy.url } },
        // The trunk is exempt on A; nothing exempts A's address on B but the hand-off marker.
        antiflood: { requestsDensity: 2, sampleTime: 2, exempt: [`${RTRUNK}/32`] },
        diagnostics: { log: 'stderr', debugLevel: 1, jsonrpc: false },
        memory: { children: 2 },
        drain: { healthCheck: { port: await freePort(ip) } },
      });
      (def.dispatcher as Record<string, unknown>).backend = { type: 'file' };
      const img = await renderDefinition(dir, def, { privateIp: ip, publicIp: RNLB });
      const include = path.join(img.tree, 'etc/kamailio/sipbake-boot.cfg');
      await writeFile(include, (await readFile(include, 'utf8')).replace('"127.0.0.0/8"', '"127.0.46.0/29"'));
      const kam = await startKamailio({
        tree: img.tree,
        sharedMb: 64,
        privateMb: 8,
        listeners: [{ host: ip, port, transport: 'udp' }],
        logFile: path.join(dir, 'kamailio.log'),
      });
      const sock = `unix:${img.tree}/run/kamailio/kamailio_ctl`;
      const kamcmd = async (...args: string[]) => (await run('kamcmd', ['-s', sock, ...args], { timeout: 5000 })).stdout;
      inst.push({
        ip,
        kam,
        kamcmd,
        rtpproxy,
        active: async () => Number(/all:\s*(\d+)/.exec(await kamcmd('dlg.stats_active'))?.[1] ?? NaN),
        processed: async () => Number(/processed_dialogs\s*=\s*(\d+)/.exec(await kamcmd('stats.get_statistics', 'processed_dialogs'))?.[1] ?? NaN),
      });
    }
  });
  afterAll(async () => {
    for (const i of inst) {
      await i.kam.stop();
      await i.rtpproxy.stop();
    }
    await recorder?.stop();
    await tmp?.remove();
  });

  it('20 calls at 10/s from one trunk 5-tuple complete on B, with B’s media, and B never bans A', async () => {
    const [ia, ib] = [inst[0]!, inst[1]!];
    await ia.kamcmd('pv.shvSet', 'draining', 'int', '1');
    await ia.kamcmd('pv.shvSet', 'handoff', 'str', RB);
    const res = await runCalls({
      dir: tmp.path,
      name: 'lb-handoff',
      localIp: RTRUNK,
      localPort: trunkPort,
      remote: `${RA}:${port}`,
      calls: 20,
      rate: 10,
      limit: 10,
      timeoutS: 30,
      uac: { holdMs: 300 },
    });
    expect(res.stats?.failed, res.output).toBe(0);
    expect(res.stats?.successful).toBe(20);
    const invites = await recorder.invites();
    expect(invites).toHaveLength(20);
    for (const m of invites) expect(m.headers['x-sipbake-handoff']).toBeUndefined();
    await new Promise((res2) => setTimeout(res2, 300));
    expect(await ib.processed()).toBe(20);
    expect(await ib.active()).toBe(0);
    expect(await ia.processed()).toBe(0);
    const [ra, rb] = [ia.rtpproxy, ib.rtpproxy];
    if (ra instanceof RealRtpproxy && rb instanceof RealRtpproxy) {
      // RTPProxy's own counters: every session on B, made and freed; none on the draining A.
      expect((await ra.info()).created, 'the draining instance touches no media').toBe(0);
      expect(await rb.info()).toMatchObject({ created: 20, active: 0 });
    } else if (ra instanceof RtpproxyResponder && rb instanceof RtpproxyResponder) {
      // Session commands only (U offer, L answer, D delete); V/VF are each child's start-up capability checks.
      const sessions = (r: RtpproxyResponder) => r.commands.filter((c) => /^[ULD]/.test(c.command));
      expect(sessions(ra), 'the draining instance touches no media').toEqual([]);
      expect(sessions(rb).filter((c) => c.command.startsWith('U'))).toHaveLength(20);
      expect(sessions(rb).filter((c) => c.command.startsWith('D')).length).toBeGreaterThanOrEqual(20);
    }
    expect(ib.kam.text()).not.toMatch(/pike: banning/);
  }, 60_000);
});
