// Seed 004's antiflood (pike + ipban htable) with the seed's own density (30 requests per 2 s): a SIPp
// flood from one source gets that source banned, while a second source's calls keep completing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCalls } from '../support/index.js';
import { upRecorderLb, type Lb } from './recorder-lb.setup.js';

describe('recorder-lb antiflood through real Kamailio', () => {
  let lb: Lb;
  beforeAll(async () => {
    lb = await upRecorderLb({
      net: 5,
      over: { antiflood: { enabled: true, sampleTime: 2, requestsDensity: 30, removeLatency: 120, ipbanExpire: 300 } },
    });
  });
  afterAll(async () => {
    await lb?.down();
  });

  it('bans a source flooding above the pike density while another source still gets through', async () => {
    const [flooder, polite] = [lb.addr.callers[0]!, lb.addr.callers[1]!];
    const remote = `${lb.addr.proxy}:${lb.sipPort}`;
    const senders = async (ip: string): Promise<number> => {
      let n = 0;
      for (const r of lb.recorders) n += (await r.invites()).filter((m) => m.headers.via?.some((v) => v.includes(ip))).length;
      return n;
    };
    // 300 INVITEs at 150/s from one source (pike allows 30 per 2 s), and 10 calls at 2/s from another.
    const [flood, calm] = await Promise.all([
      runCalls({
        dir: lb.dir,
        name: 'flood',
        localIp: flooder,
        localPort: await freePort(flooder),
        remote,
        calls: 300,
        rate: 150,
        limit: 300,
        timeoutS: 15,
        recvTimeoutMs: 3000,
        traceMessages: false,
      }),
      runCalls({
        dir: lb.dir,
        name: 'calm',
        localIp: polite,
        localPort: await freePort(polite),
        remote,
        calls: 10,
        rate: 2,
        timeoutS: 20,
      }),
    ]);
    expect(calm.stats?.failed, calm.output).toBe(0);
    expect(calm.stats?.successful).toBe(10);
    expect(flood.stats?.failed ?? 0).toBeGreaterThan(0);
    const reached = await senders(flooder);
    expect(reached).toBeLessThan(100);
    expect(lb.kamailio.text()).toMatch(new RegExp(`pike: banning ${flooder.replace(/\./g, '\\.')}`));
    // The ban outlives the flood: a single polite call from the flooder gets no answer at all.
    const after = await runCalls({
      dir: lb.dir,
      name: 'after-ban',
      localIp: flooder,
      localPort: await freePort(flooder),
      remote,
      calls: 1,
      rate: 1,
      timeoutS: 8,
      recvTimeoutMs: 2500,
    });
    expect(after.stats?.successful).toBe(0);
    expect(after.messages.filter((m) => m.direction === 'received')).toEqual([]);
    expect(await senders(flooder)).toBe(reached);
    // ...and the other source still completes calls.
    const still = await runCalls({
      dir: lb.dir,
      name: 'calm-after',
      localIp: polite,
      localPort: await freePort(polite),
      remote,
      calls: 2,
      rate: 2,
      timeoutS: 10,
    });
    expect(still.stats?.successful, still.output).toBe(2);
  });
});
