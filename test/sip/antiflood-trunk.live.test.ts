// Issue 11 item 2 against the real Kamailio, with recorder-lb's shipped antiflood (density sized from
// capacity.callsPerSecond, counting initial requests only): one upstream address at 20 calls/s for
// 30 s is never banned; 500 requests/s from an unknown address are banned while a second source
// completes all its calls; a banned source's BYE for its own call still ends that call.
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeTmpDir, renderDefinition, runCalls, seedDefinition, startKamailio, type ManagedProcess, type TmpDir } from '../support/index.js';
import { SipUa, hdr, newId, startCallee } from './sip-ua.js';
import { inDialogText, placeCall } from './dialogs.js';

const run = promisify(execFile);
const a = (x: number): string => `127.0.44.${x}`;
const PROXY = a(2);
const [TRUNK, FLOODER, POLITE] = [a(20), a(21), a(22)];

describe('recorder-lb antiflood sized for trunks', () => {
  let tmp: TmpDir;
  let kam: ManagedProcess;
  let recorder: SipUa;
  let port = 0;
  let kamcmd: (...args: string[]) => Promise<string>;
  const banned = (ip: string): boolean => new RegExp(`pike: banning ${ip.replace(/\./g, '\\.')} `).test(kam.text());

  beforeAll(async () => {
    tmp = await makeTmpDir('sipbake-flood-');
    recorder = await startCallee(a(10));
    port = await freePort(PROXY);
    const def = await seedDefinition('recorder-lb', {
      listen: { udp: port, tcp: port },
      advertise: { source: 'private-ipv4', elasticIp: undefined },
      dispatcher: {
        algorithm: 4,
        destinations: [{ host: recorder.ip, port: recorder.port, transport: 'udp', description: 'recorder' }],
        probing: { interval: 5 },
      },
      media: { rtpproxy: { enabled: false } },
      diagnostics: { log: 'stderr', debugLevel: 1, jsonrpc: false },
      memory: { children: 4 },
      drain: { healthCheck: { port: await freePort(PROXY) } },
    });
    (def.dispatcher as Record<string, unknown>).backend = { type: 'file' };
    const img = await renderDefinition(tmp.path, def, { privateIp: PROXY, publicIp: PROXY });
    kam = await startKamailio({
      tree: img.tree,
      sharedMb: 128,
      privateMb: 8,
      listeners: [{ host: PROXY, port, transport: 'udp' }],
      logFile: path.join(tmp.path, 'kamailio.log'),
    });
    const sock = `unix:${img.tree}/run/kamailio/kamailio_ctl`;
    kamcmd = async (...args) => (await run('kamcmd', ['-s', sock, ...args], { timeout: 5000 })).stdout;
  });
  afterAll(async () => {
    await kam?.stop();
    await recorder?.close();
    await tmp?.remove();
  });

  it('one upstream address at 20 calls/s for 30 s: 0 failed calls, never banned', async () => {
    const r = await runCalls({
      dir: tmp.path,
      name: 'trunk',
      localIp: TRUNK,
      localPort: await freePort(TRUNK),
      remote: `${PROXY}:${port}`,
      calls: 600,
      rate: 20,
      limit: 200,
      timeoutS: 60,
      traceMessages: false,
    });
    expect(r.stats?.failed, r.output).toBe(0);
    expect(r.stats?.successful).toBe(600);
    expect(banned(TRUNK)).toBe(false);
  }, 90_000);

  it('bans 500 requests/s from an unknown address while a second source completes all its calls; its BYE still ends its call', async () => {
    const flooder = await SipUa.open(FLOODER);
    try {
      // The flooder first holds a real call, so its BYE can be tried after the ban.
      const { dialog } = await placeCall(flooder, recorder, { host: PROXY, port });
      expect(await kamcmd('dlg.stats_active')).toMatch(/all:\s*1/);
      const flood = (async () => {
        // 500 OPTIONS/s for 4 s, each a new request (its own Call-ID). Paced by the clock, so a slow timer
        // on a loaded machine sends bigger batches rather than a lower rate.
        const start = Date.now();
        for (let sent = 0; sent < 2000;) {
          const due = Math.min(2000, Math.floor(((Date.now() - start) / 1000) * 500));
          for (; sent < due; sent++) {
            flooder.send(
              flooder.request({
                method: 'OPTIONS',
                ruri: `sip:x@${PROXY}:${port}`,
                from: `<sip:f@${flooder.hostport}>;tag=${newId()}`,
                to: `<sip:x@${PROXY}>`,
                callId: newId(),
                cseq: 1,
              }),
              PROXY,
              port,
            );
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const polite = runCalls({
        dir: tmp.path,
        name: 'polite',
        localIp: POLITE,
        localPort: await freePort(POLITE),
        remote: `${PROXY}:${port}`,
        calls: 20,
        rate: 5,
        timeoutS: 30,
      });
      const [, calm] = await Promise.all([flood, polite]);
      expect(calm.stats?.failed, calm.output).toBe(0);
      expect(calm.stats?.successful).toBe(20);
      expect(banned(FLOODER)).toBe(true);
      expect(banned(POLITE)).toBe(false);

      // Banned: a new request from the flooder gets no answer at all.
      const probe = newId();
      const since = flooder.received.length;
      flooder.send(
        flooder.request({
          method: 'OPTIONS',
          ruri: `sip:x@${PROXY}:${port}`,
          from: `<sip:f@${flooder.hostport}>;tag=1`,
          to: `<sip:x@${PROXY}>`,
          callId: probe,
          cseq: 1,
        }),
        PROXY,
        port,
      );
      expect(await flooder.finalResponse(probe, 'OPTIONS', 1500, since)).toBeUndefined();

      // ...but its BYE for its own call is never banned: the call ends at the recorder and in the dialog count.
      flooder.send(inDialogText(flooder, dialog, 'BYE'), PROXY, port);
      expect((await flooder.finalResponse(dialog.callId, 'BYE', 4000))?.status).toBe(200);
      expect(recorder.received.some((m) => m.method === 'BYE' && hdr(m, 'call-id') === dialog.callId)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(await kamcmd('dlg.stats_active')).toMatch(/all:\s*0/);
    } finally {
      await flooder.close();
    }
  }, 60_000);
});
