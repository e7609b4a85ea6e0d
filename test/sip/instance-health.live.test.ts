// Issue 19 items 3 and 8, template side. The health port's SIP probe: Kamailio answers the drain agent's OPTIONS
// (X-Sipbake-Probe, from the instance's own address) with 200 while it takes new calls and 503 while draining; from
// elsewhere the marker buys nothing. And: an in-dialog request whose Record-Route token names an instance that is gone
// (terminated, or its Kamailio killed) gets a prompt 481 from the instance that would forward it, instead of 100 and
// then 408 when tm's fr_timer (30 s) fires. One twilio-relay instance; the dead owner is an address inside the peer
// network where nothing listens. The mechanism (shortened timer, failure route, 481) is checked route by route in both
// seeds' rendered configs by test/render/owner-gone.test.ts.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeTmpDir, renderDefinition, seedDefinition, startKamailio, type ManagedProcess, type TmpDir } from '../support/index.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SipUa } from './sip-ua.js';
import { sipProbe } from '../../src/agent/sip-probe.js';

const a = (x: number): string => `127.0.44.${x}`;
const NLB = a(100);
const INSTANCE = a(1);
const DEAD_OWNER = a(4);
const PEER_NET = '127.0.44.0/29';

describe('an in-dialog request for a dead owner', () => {
  let tmp: TmpDir;
  let port = 0;
  let caller: SipUa;
  let kam: ManagedProcess;
  let ctl = '';

  beforeAll(async () => {
    tmp = await makeTmpDir('sipbake-owner-gone-');
    caller = await SipUa.open(a(20));
    port = await freePort(INSTANCE);
    const def = await seedDefinition('twilio-relay', {
      listen: { udp: port, tcp: port },
      advertise: { source: 'elastic-ip', elasticIp: NLB },
      relay: { destination: { domain: a(30), port: 5060, transport: 'udp' }, allowedSources: [`${caller.ip}/32`] },
      diagnostics: { log: 'stderr', debugLevel: 1 },
      memory: { children: 2 },
      drain: { healthCheck: { port: await freePort(INSTANCE) } },
    });
    const img = await renderDefinition(tmp.path, def, { privateIp: INSTANCE, publicIp: NLB });
    const include = path.join(img.tree, 'etc/kamailio/sipbake-boot.cfg');
    await writeFile(include, (await readFile(include, 'utf8')).replace('"127.0.0.0/8"', `"${PEER_NET}"`));
    ctl = `unix:${img.tree}/run/kamailio/kamailio_ctl`;
    kam = await startKamailio({
      tree: img.tree,
      sharedMb: 64,
      privateMb: 8,
      listeners: [{ host: INSTANCE, port, transport: 'udp' }],
      logFile: path.join(tmp.path, 'kamailio.log'),
    });
  });
  afterAll(async () => {
    await kam?.stop();
    await caller?.close();
    await tmp?.remove();
  });

  it('the health probe: 200 while serving, 503 while draining; only from the instance itself', async () => {
    const probe = () => sipProbe({ host: INSTANCE, port, timeoutMs: 2000 });
    expect(await probe()).toBe(true);
    await promisify(execFile)('kamcmd', ['-s', ctl, 'pv.shvSet', 'draining', 'int', '1']);
    expect(await probe()).toBe(false);
    // The same OPTIONS from another address is not a probe: answered as any OPTIONS (keepalive), draining or not.
    const callId = 'probe-outsider@test';
    const since = caller.received.length;
    caller.send(
      caller.request({
        method: 'OPTIONS',
        ruri: `sip:${INSTANCE}:${port}`,
        from: `<sip:a@${caller.hostport}>;tag=9`,
        to: `<sip:${INSTANCE}:${port}>`,
        callId,
        cseq: 1,
        extra: ['X-Sipbake-Probe: new-call'],
      }),
      INSTANCE,
      port,
    );
    expect((await caller.finalResponse(callId, 'OPTIONS', 3000, since))?.status).toBe(200);
    await promisify(execFile)('kamcmd', ['-s', ctl, 'pv.shvSet', 'draining', 'int', '0']);
    expect(await probe()).toBe(true);
  });

  it.each(['BYE', 'INFO'])('a %s gets 481 once the forward to the dead owner times out (not 408 after fr_timer)', async (method) => {
    const callId = `dead-owner-${method}@test`;
    const since = caller.received.length;
    caller.send(
      caller.request({
        method,
        ruri: `sip:b@${a(30)}:5060`,
        from: `<sip:a@${caller.hostport}>;tag=1`,
        to: `<sip:b@${NLB}>;tag=2`,
        callId,
        cseq: 2,
        route: [`<sip:${NLB}:${port};lr;sbinst=${DEAD_OWNER}>`],
      }),
      INSTANCE,
      port,
    );
    // Bounded well below fr_timer (30 s): the 408 it replaces would not arrive within it.
    expect((await caller.finalResponse(callId, method, 10_000, since))?.status).toBe(481);
    expect(kam.text()).toMatch(
      new RegExp(`owner sip:${DEAD_OWNER.replace(/\./g, '\\.')}:${port};transport=udp of in-dialog ${method} Call-ID ${callId} did not answer: 481`),
    );
  });
});
