// Issue 11 items 1 and 8 against the real Kamailio: in-dialog requests are relayed only for dialogs
// this proxy tracks, so forged INVITE/MESSAGE/NOTIFY/REFER (foreign Route, our own Route with a
// foreign Request-URI, or no Route) reach no third host and open no RTPProxy session; real in-dialog
// requests (re-INVITE included) still work; the relay strips X-Twilio-* both ways and relays only INVITE.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeTmpDir, renderDefinition, seedDefinition, startKamailio, type ManagedProcess, type TmpDir } from '../support/index.js';
import { RtpproxyResponder } from '../fakes/rtpproxy.js';
import { RealRtpproxy } from '../../src/try/rtpproxy.js';
import { rtpproxyBinary } from '../../src/try/upstream.js';
import { SDP, SipUa, cseqMethod, hdr, newId, startCallee, type SipMessage } from './sip-ua.js';
import { inDialogText, placeCall, type Dialog } from './dialogs.js';

const run = promisify(execFile);
const FORGED = ['INVITE', 'MESSAGE', 'NOTIFY', 'REFER'] as const;

interface Stand {
  kam: ManagedProcess;
  proxy: { host: string; port: number };
  /** The address Record-Route carries (the relay's Elastic IP stand-in, recorder-lb's own). */
  advertised: string;
  caller: SipUa;
  callee: SipUa;
  third: SipUa;
  kamcmd(...a: string[]): Promise<string>;
  stop(): Promise<void>;
}

async function stand(tmp: TmpDir, image: 'twilio-relay' | 'recorder-lb', net: number, rtpUrl?: string): Promise<Stand> {
  const a = (x: number): string => `127.0.${net}.${x}`;
  const dir = path.join(tmp.path, image);
  await mkdir(dir);
  const port = await freePort(a(2));
  const callee = await startCallee(a(10), { extra200: ['X-Twilio-AccountSid: ACcallee0000000000000000000000000'] });
  const caller = await SipUa.open(a(20));
  const third = await SipUa.open(a(99));
  const common = {
    listen: { udp: port, tcp: port },
    diagnostics: { log: 'stderr' as const, debugLevel: 1, jsonrpc: false },
    memory: { children: 2 },
    drain: { healthCheck: { port: await freePort(a(2)) } },
  };
  const def =
    image === 'twilio-relay'
      ? await seedDefinition(image, {
          ...common,
          advertise: { source: 'elastic-ip', elasticIp: a(3) },
          relay: {
            destination: { domain: callee.ip, port: callee.port, transport: 'udp' },
            allowedSources: [`${a(16)}/28`, `${a(10)}/32`],
          },
        })
      : await seedDefinition(image, {
          ...common,
          advertise: { source: 'private-ipv4', elasticIp: undefined },
          dispatcher: {
            algorithm: 4,
            destinations: [{ host: callee.ip, port: callee.port, transport: 'udp', description: 'recorder' }],
            probing: { interval: 5 },
          },
          media: { rtpproxy: { enabled: true, controlSocket: rtpUrl } },
        });
  const ds = def.dispatcher as Record<string, unknown> | undefined;
  if (ds) ds.backend = { type: 'file' };
  const img = await renderDefinition(dir, def, { privateIp: a(2), publicIp: image === 'twilio-relay' ? a(3) : a(2) });
  const kam = await startKamailio({
    tree: img.tree,
    sharedMb: 64,
    privateMb: 8,
    listeners: [{ host: a(2), port, transport: 'udp' }],
    logFile: path.join(dir, 'kamailio.log'),
  });
  const sock = `unix:${img.tree}/run/kamailio/kamailio_ctl`;
  return {
    kam,
    proxy: { host: a(2), port },
    advertised: image === 'twilio-relay' ? a(3) : a(2),
    caller,
    callee,
    third,
    async kamcmd(...args) {
      return (await run('kamcmd', ['-s', sock, ...args], { timeout: 5000 })).stdout;
    },
    async stop() {
      await kam.stop();
      for (const u of [caller, callee, third]) await u.close();
    },
  };
}

/** Forged in-dialog requests of every kind, each answered by the proxy with a final response. */
async function forgeAll(s: Stand, real: Dialog): Promise<SipMessage[]> {
  const thirdUri = `sip:victim@${s.third.hostport}`;
  const ours = real.callerRoute; // our own Record-Route, as any former caller has seen it
  const variants: { name: string; route: string[]; ruri: string; callId: string }[] = [
    { name: 'foreign Route', route: [`<${thirdUri};lr>`], ruri: thirdUri, callId: `${newId()}@forged` },
    { name: 'our Route, foreign R-URI', route: ours, ruri: thirdUri, callId: `${newId()}@forged` },
    {
      name: 'our Route then a foreign one',
      route: [...ours, `<${thirdUri};lr>`],
      ruri: thirdUri,
      callId: `${newId()}@forged`,
    },
    { name: 'no Route', route: [], ruri: thirdUri, callId: `${newId()}@forged` },
    {
      name: 'our address without the instance token',
      route: [`<sip:${s.advertised}:${s.proxy.port};lr>`],
      ruri: thirdUri,
      callId: `${newId()}@forged`,
    },
    // A real dialog's Route and Call-ID with a guessed to-tag still matches no dialog.
    { name: 'real Call-ID, wrong tag', route: ours, ruri: thirdUri, callId: real.callId },
  ];
  const answers: SipMessage[] = [];
  for (const v of variants) {
    for (const method of FORGED) {
      const since = s.caller.received.length;
      const text = s.caller.request({
        method,
        ruri: v.ruri,
        from: `<sip:attacker@${s.caller.hostport}>;tag=${newId()}`,
        to: `<${thirdUri}>;tag=${newId()}`,
        callId: v.callId,
        cseq: 7,
        route: v.route,
        ...(method === 'INVITE' ? { body: SDP(s.caller.ip, 31000) } : {}),
      });
      s.caller.send(text, s.proxy.host, s.proxy.port);
      const r = await s.caller.finalResponse(v.callId, method, 3000, since);
      expect(r, `${method} with ${v.name}: the proxy answers it`).toBeDefined();
      expect(r!.status, `${method} with ${v.name}`).toBeGreaterThanOrEqual(400);
      answers.push(r!);
    }
  }
  return answers;
}

/** Commands Kamailio sent RTPProxy: the real one's own count (ncmds_rcvd, its `G` command), or the stand-in's U/L. */
async function offers(rtp: RtpproxyResponder | RealRtpproxy | undefined): Promise<number> {
  if (rtp instanceof RealRtpproxy) return rtp.othersCommands();
  return rtp?.commands.filter((c) => c.command === 'U' || c.command === 'L').length ?? 0;
}

describe.each([
  ['twilio-relay', 41],
  ['recorder-lb', 42],
] as const)('%s: in-dialog requests only for our own dialogs', (image, net) => {
  let tmp: TmpDir;
  let rtp: RtpproxyResponder | RealRtpproxy | undefined;
  let s: Stand;
  beforeAll(async () => {
    tmp = await makeTmpDir('sipbake-dlgsec-');
    const host = `127.0.${net}.50`;
    // The real RTPProxy 3.2.0 when built (re-INVITEs here carry SDP it must take); the stand-in otherwise.
    const rtpBin = rtpproxyBinary();
    if (image === 'recorder-lb')
      rtp = rtpBin
        ? await RealRtpproxy.start({ bin: rtpBin, host, port: await freePort(host), mediaIp: host, rtpPorts: { min: 44000, max: 44999 }, dir: tmp.path })
        : await new RtpproxyResponder({ host, port: await freePort(host) }).start();
    s = await stand(tmp, image, net, rtp?.url);
  });
  afterAll(async () => {
    await s?.stop();
    await rtp?.stop();
    await tmp?.remove();
  });

  it('relays a real dialog: re-INVITE, INFO and BYE reach the callee and are answered', async () => {
    const { dialog, invite } = await placeCall(s.caller, s.callee, s.proxy);
    // local_rport: our Via asks for rport (RFC 3581), so a reply to a request that left through a NAT
    // gateway's random port comes back to that port (the NAT path itself: test/rehearse).
    expect(hdr(invite, 'via')).toMatch(/^SIP\/2\.0\/UDP [^,]*;rport(?=[;,]|$)/);
    expect(await s.kamcmd('dlg.stats_active')).toMatch(/all:\s*1/);
    for (const method of ['INVITE', 'INFO', 'BYE']) {
      const since = s.callee.received.length;
      s.caller.send(inDialogText(s.caller, dialog, method, method === 'INVITE' ? { body: SDP(s.caller.ip, 30002) } : {}), s.proxy.host, s.proxy.port);
      const r = await s.caller.finalResponse(dialog.callId, method, 4000);
      expect(r?.status, `${method} in dialog`).toBe(200);
      expect(await s.callee.waitFor((m) => m.method === method && hdr(m, 'call-id') === dialog.callId, 500, since)).toBeDefined();
      if (method === 'INVITE') s.caller.send(inDialogText(s.caller, dialog, 'ACK', { cseq: dialog.cseq }), s.proxy.host, s.proxy.port);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(await s.kamcmd('dlg.stats_active')).toMatch(/all:\s*0/);
  });

  it('answers forged in-dialog requests itself: nothing reaches a third host or the callee, no RTPProxy session', async () => {
    const { dialog } = await placeCall(s.caller, s.callee, s.proxy);
    const offersBefore = await offers(rtp);
    const calleeBefore = s.callee.received.length;
    await forgeAll(s, dialog);
    await new Promise((r) => setTimeout(r, 500));
    expect(s.third.received.map((m) => m.startLine)).toEqual([]);
    // (The dispatcher's OPTIONS probes are the only thing the recorder may see.)
    expect(
      s.callee.received
        .slice(calleeBefore)
        .filter((m) => m.method !== 'OPTIONS' && cseqMethod(m) !== 'OPTIONS')
        .map((m) => m.startLine),
    ).toEqual([]);
    expect(await offers(rtp)).toBe(offersBefore);
    // No Route token names another instance here, so nothing was taken for a peer's request.
    expect(s.kam.text()).not.toMatch(/outside the peer network/);
    // The real call is untouched and ends normally.
    s.caller.send(inDialogText(s.caller, dialog, 'BYE'), s.proxy.host, s.proxy.port);
    expect((await s.caller.finalResponse(dialog.callId, 'BYE', 4000))?.status).toBe(200);
  });

  it('gives a forged in-dialog INVITE the drain 503, like any new INVITE', async () => {
    await s.kamcmd('pv.shvSet', 'draining', 'int', '1');
    try {
      const callId = `${newId()}@forged`;
      s.caller.send(
        s.caller.request({
          method: 'INVITE',
          ruri: `sip:victim@${s.third.hostport}`,
          from: `<sip:a@${s.caller.hostport}>;tag=1`,
          to: `<sip:victim@${s.third.hostport}>;tag=2`,
          callId,
          cseq: 1,
          body: SDP(s.caller.ip, 31002),
        }),
        s.proxy.host,
        s.proxy.port,
      );
      expect((await s.caller.finalResponse(callId, 'INVITE', 3000))?.status).toBe(503);
      expect(s.third.received).toEqual([]);
    } finally {
      await s.kamcmd('pv.shvSet', 'draining', 'int', '0');
    }
  });

  if (image === 'twilio-relay') {
    it("strips X-Twilio-* both ways: the caller's never reaches the callee, the callee's 200 never reaches the caller", async () => {
      const { dialog, ok, invite } = await placeCall(s.caller, s.callee, s.proxy, {
        extra: ['X-Twilio-AccountSid: ACcaller0000000000000000000000000', 'x-twilio-callsid: CA1', 'X-Other: kept'],
      });
      expect(invite.headers.filter(([n]) => /^x-twilio-/i.test(n))).toEqual([]);
      expect(hdr(invite, 'x-other')).toBe('kept');
      expect(ok.headers.filter(([n]) => /^x-twilio-/i.test(n))).toEqual([]);
      s.caller.send(inDialogText(s.caller, dialog, 'BYE'), s.proxy.host, s.proxy.port);
      expect((await s.caller.finalResponse(dialog.callId, 'BYE', 4000))?.status).toBe(200);
    });

    it('relays only INVITE: a MESSAGE from an allowed source gets 405 and never reaches the callee; OPTIONS is answered here', async () => {
      const since = s.callee.received.length;
      for (const [method, want] of [
        ['MESSAGE', 405],
        ['SUBSCRIBE', 405],
        ['OPTIONS', 200],
      ] as const) {
        const callId = `${newId()}@test`;
        s.caller.send(
          s.caller.request({
            method,
            ruri: `sip:someone@${s.proxy.host}:${s.proxy.port}`,
            from: `<sip:a@${s.caller.hostport}>;tag=1`,
            to: `<sip:someone@${s.proxy.host}>`,
            callId,
            cseq: 1,
          }),
          s.proxy.host,
          s.proxy.port,
        );
        const r = await s.caller.finalResponse(callId, method, 3000);
        expect(r?.status, method).toBe(want);
        if (want === 405) expect(hdr(r!, 'allow')).toBe('INVITE, OPTIONS');
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(s.callee.received.slice(since)).toEqual([]);
    });
  }
});
