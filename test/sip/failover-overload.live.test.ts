// Issue 12 item 2 against the real Kamailio: two recorders that never answer 1 % of INVITEs (the same
// Call-IDs at both, as an overloaded recorder farm would). Each timed-out branch fails over to the other
// recorder and is marked "tp" (trying + probing), so only ds_probing_threshold failures in a row take a
// recorder out. The 1 % must stay 1 %: no "503 No destination available" for the other 99 %.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeTmpDir, renderDefinition, runCalls, seedDefinition, startKamailio, type ManagedProcess, type TmpDir } from '../support/index.js';
import { startCallee, type SipUa } from './sip-ua.js';

const a = (x: number): string => `127.0.45.${x}`;
const PROXY = a(2);
const CALLER = a(20);
/** 1 % of Call-IDs, the same at every recorder. */
const slow = (callId: string): boolean => createHash('md5').update(callId).digest().readUInt32BE(0) % 100 === 0;

describe('recorder-lb failover under 1 % recorder timeouts', () => {
  let tmp: TmpDir;
  let kam: ManagedProcess;
  let recorders: SipUa[] = [];
  let port = 0;

  beforeAll(async () => {
    tmp = await makeTmpDir('sipbake-failover-');
    recorders = [await startCallee(a(10), { dropInvite: slow }), await startCallee(a(11), { dropInvite: slow })];
    port = await freePort(PROXY);
    const def = await seedDefinition('recorder-lb', {
      listen: { udp: port, tcp: port },
      advertise: { source: 'private-ipv4', elasticIp: undefined },
      dispatcher: {
        algorithm: 4,
        destinations: recorders.map((r, i) => ({
          host: r.ip,
          port: r.port,
          transport: 'udp',
          description: `recorder${i}`,
        })),
        // fr_timer follows the interval (2 s): a dropped INVITE fails over after 2 s.
        probing: { interval: 2, threshold: 10, inactiveThreshold: 2 },
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
  });
  afterAll(async () => {
    await kam?.stop();
    for (const r of recorders) await r.close();
    await tmp?.remove();
  });

  it('1,000 calls at 50/s: only the ~1 % that every recorder drops fail, and nothing gets a 503', async () => {
    const r = await runCalls({
      dir: tmp.path,
      name: 'load',
      localIp: CALLER,
      localPort: await freePort(CALLER),
      remote: `${PROXY}:${port}`,
      calls: 1000,
      rate: 50,
      limit: 400,
      timeoutS: 60,
      recvTimeoutMs: 8000,
    });
    const callIds = new Set(r.messages.filter((m) => m.direction === 'sent' && m.method === 'INVITE').map((m) => m.headers['call-id']?.[0] ?? ''));
    const dropped = [...callIds].filter(slow).length;
    const got503 = r.messages.filter((m) => m.direction === 'received' && m.status === 503).length;
    expect(got503, r.output).toBe(0);
    expect(callIds.size).toBe(1000);
    // Only the calls both recorders drop fail (408 after both branches time out), give or take a few
    // lost to a loaded machine; before the fix about 19 % failed, most with 503 (test/sip/FINDINGS.md).
    expect(r.stats?.failed).toBeGreaterThanOrEqual(dropped);
    expect(r.stats?.failed).toBeLessThanOrEqual(dropped + 5);
    expect(dropped).toBeLessThan(30);
  }, 120_000);
});
