// Issue 10 item 3, template side: three twilio-relay instances share one advertised address (the NLB's
// Elastic IP, here 127.0.43.100, which nothing binds), as behind an NLB with source-IP stickiness. The
// call goes through instance 1; the callee's BYE arrives at instance 2 (its source IP hashes there).
// Instance 2 reads the Record-Route's instance token (sbinst) and forwards the BYE unchanged to
// instance 1's private address, so the owner's dialog ends (dlg.stats_active 0) and the caller gets
// the BYE from the owner. render --local writes SIPBAKE_PEER_NET 127.0.0.0/8; the test narrows it to
// 127.0.43.0/29 (the instances), as the VPC CIDR would be, to show nothing is forwarded outside it.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeTmpDir, renderDefinition, seedDefinition, startKamailio, type ManagedProcess, type TmpDir } from '../support/index.js';
import { SipUa, hdr, startCallee } from './sip-ua.js';
import { calleeInDialogText, inDialogText, placeCall } from './dialogs.js';

const run = promisify(execFile);
const a = (x: number): string => `127.0.43.${x}`;
const NLB = a(100);
const INSTANCES = [a(1), a(2), a(3)];
const PEER_NET = '127.0.43.0/29';
const OUTSIDE = a(50);

interface Instance {
  ip: string;
  kam: ManagedProcess;
  active(): Promise<number>;
}

describe('in-dialog requests reach the instance that owns the dialog', () => {
  let tmp: TmpDir;
  let port = 0;
  let caller: SipUa;
  let callee: SipUa;
  const inst: Instance[] = [];

  beforeAll(async () => {
    tmp = await makeTmpDir('sipbake-owner-');
    caller = await SipUa.open(a(20));
    callee = await startCallee(a(30));
    // The same SIP port on every instance, as on identical AMIs.
    port = await freePort(INSTANCES[0]);
    for (const ip of INSTANCES) {
      const dir = path.join(tmp.path, ip);
      await mkdir(dir);
      const def = await seedDefinition('twilio-relay', {
        listen: { udp: port, tcp: port },
        advertise: { source: 'elastic-ip', elasticIp: NLB },
        // Peers are not allowed sources: they pass on SIPBAKE_PEER_NET for in-dialog requests only.
        relay: {
          destination: { domain: callee.ip, port: callee.port, transport: 'udp' },
          allowedSources: [`${caller.ip}/32`, `${callee.ip}/32`],
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
      inst.push({
        ip,
        kam,
        async active() {
          const { stdout } = await run('kamcmd', ['-s', sock, 'dlg.stats_active'], { timeout: 5000 });
          return Number(/all:\s*(\d+)/.exec(stdout)?.[1] ?? NaN);
        },
      });
    }
    // The caller answers the BYE the owner sends it.
    caller.onEvery((m) => {
      if (m.method === 'BYE') caller.reply(m, 200, 'OK');
    });
  });
  afterAll(async () => {
    for (const i of inst) await i.kam.stop();
    await caller?.close();
    await callee?.close();
    await tmp?.remove();
  });

  it("a callee BYE sent to another instance ends the owner's dialog", async () => {
    const [owner, other] = [inst[0]!, inst[1]!];
    const { dialog, invite } = await placeCall(caller, callee, { host: owner.ip, port });
    expect(hdr(invite, 'record-route')).toContain(`sip:${NLB}:${port};`);
    expect(hdr(invite, 'record-route')).toContain(`;sbinst=${owner.ip};`);
    expect(await owner.active()).toBe(1);
    expect(await other.active()).toBe(0);

    const since = caller.received.length;
    callee.send(calleeInDialogText(callee, dialog, 'BYE', 1), other.ip, port);
    const bye = await caller.waitFor((m) => m.method === 'BYE' && hdr(m, 'call-id') === dialog.callId, 4000, since);
    expect(bye, 'the caller gets the BYE').toBeDefined();
    // It came from the owner, which loose-routed it (its own Via on top).
    expect(bye!.from.address).toBe(owner.ip);
    const ok = await callee.finalResponse(dialog.callId, 'BYE', 4000);
    expect(ok?.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await owner.active()).toBe(0);
    expect(await other.active()).toBe(0);
  });

  it('a caller re-INVITE and BYE sent to the third instance also reach the owner', async () => {
    const [owner, third] = [inst[0]!, inst[2]!];
    const { dialog } = await placeCall(caller, callee, { host: owner.ip, port });
    const beforeReinvite = callee.received.length;
    caller.send(inDialogText(caller, dialog, 'INVITE'), third.ip, port);
    expect((await caller.finalResponse(dialog.callId, 'INVITE', 4000))?.status).toBe(200);
    const reinvite = await callee.waitFor((m) => m.method === 'INVITE' && hdr(m, 'call-id') === dialog.callId, 1000, beforeReinvite);
    expect(reinvite?.from.address).toBe(owner.ip);
    caller.send(inDialogText(caller, dialog, 'ACK', { cseq: dialog.cseq }), third.ip, port);
    caller.send(inDialogText(caller, dialog, 'BYE'), third.ip, port);
    expect((await caller.finalResponse(dialog.callId, 'BYE', 4000))?.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await owner.active()).toBe(0);
  });

  it('never forwards to an instance token outside the peer network', async () => {
    const other = inst[1]!;
    const outside = await SipUa.open(OUTSIDE, port);
    try {
      const callId = 'forged-outside@test';
      const since = caller.received.length;
      caller.send(
        caller.request({
          method: 'BYE',
          ruri: `sip:victim@${OUTSIDE}:${port}`,
          from: `<sip:a@${caller.hostport}>;tag=1`,
          to: `<sip:b@${NLB}>;tag=2`,
          callId,
          cseq: 2,
          route: [`<sip:${NLB}:${port};lr;sbinst=${OUTSIDE}>`],
        }),
        other.ip,
        port,
      );
      expect((await caller.finalResponse(callId, 'BYE', 3000, since))?.status).toBe(404);
      await new Promise((r) => setTimeout(r, 300));
      expect(outside.received).toEqual([]);
      expect(other.kam.text()).toMatch(/names instance 127\.0\.43\.50 outside the peer network; refused/);
    } finally {
      await outside.close();
    }
  });
});
