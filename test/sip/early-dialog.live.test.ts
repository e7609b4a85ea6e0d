// Dialog matching must not break early dialogs: a PRACK for a reliable 183 (RFC 3262) reaches the
// callee through twilio-relay, and its 200 comes back, before the INVITE is answered.
import { expect, it } from 'vitest';
import { freePort, makeTmpDir, renderDefinition, seedDefinition, startKamailio } from '../support/index.js';
import { SDP, SipUa, hdr, hdrs, newId, tagOf, uriOf } from './sip-ua.js';

it('relays a PRACK inside an early dialog (reliable 183) and its 200', async () => {
  const a = (x: number) => `127.0.46.${x}`;
  const tmp = await makeTmpDir('sipbake-early-');
  const callee = await SipUa.open(a(10));
  const caller = await SipUa.open(a(20));
  const port = await freePort(a(2));
  const def = await seedDefinition('twilio-relay', {
    listen: { udp: port, tcp: port },
    advertise: { source: 'elastic-ip', elasticIp: a(3) },
    relay: {
      destination: { domain: callee.ip, port: callee.port, transport: 'udp' },
      allowedSources: [`${a(16)}/28`, `${a(10)}/32`],
    },
    diagnostics: { log: 'stderr', debugLevel: 1 },
    memory: { children: 2 },
    drain: { healthCheck: { port: await freePort(a(2)) } },
  });
  const img = await renderDefinition(tmp.path, def, { privateIp: a(2), publicIp: a(3) });
  const kam = await startKamailio({
    tree: img.tree,
    sharedMb: 64,
    privateMb: 8,
    listeners: [{ host: a(2), port, transport: 'udp' }],
  });
  try {
    const callId = newId();
    caller.send(
      caller.request({
        method: 'INVITE',
        ruri: `sip:x@${a(2)}:${port}`,
        from: `<sip:c@${caller.hostport}>;tag=ft`,
        to: `<sip:x@${a(2)}>`,
        callId,
        cseq: 1,
        body: SDP(caller.ip, 30000),
        extra: ['Supported: 100rel'],
      }),
      a(2),
      port,
    );
    const inv = await callee.waitFor((m) => m.method === 'INVITE', 3000);
    callee.reply(inv!, 183, 'Session Progress', {
      toTag: 'tt',
      extra: ['Require: 100rel', 'RSeq: 1', `Contact: <sip:ua@${callee.hostport}>`],
    });
    const p183 = await caller.waitFor((m) => m.status === 183, 3000);
    expect(p183).toBeDefined();
    const route = hdrs(p183!, 'record-route').reverse();
    caller.send(
      caller.request({
        method: 'PRACK',
        ruri: uriOf(hdr(p183!, 'contact')),
        from: `<sip:c@${caller.hostport}>;tag=ft`,
        to: `<sip:x@${a(2)}>;tag=${tagOf(hdr(p183!, 'to'))}`,
        callId,
        cseq: 2,
        route,
        extra: ['RAck: 1 1 INVITE'],
      }),
      a(2),
      port,
    );
    const pr = await callee.waitFor((m) => m.method === 'PRACK', 3000);
    expect(pr, 'the PRACK reaches the callee').toBeDefined();
    callee.reply(pr!, 200, 'OK');
    expect((await caller.finalResponse(callId, 'PRACK', 3000))?.status).toBe(200);
    // The call is then answered and ends normally.
    callee.reply(inv!, 200, 'OK', { toTag: 'tt', body: SDP(callee.ip, 40000) });
    expect((await caller.finalResponse(callId, 'INVITE', 3000))?.status).toBe(200);
  } finally {
    await kam.stop();
    await callee.close();
    await caller.close();
    await tmp.remove();
  }
});
