import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { healthPort, type HealthPort } from '../../src/agent/health-port.js';
import { freePort } from '../../src/try/ports.js';
import { probeRequest, probeStatus, sipProbe } from '../../src/agent/sip-probe.js';

// Issue 19 item 3: the health port tells the truth at the SIP level. A stand-in for Kamailio on UDP answers the
// probe's OPTIONS with 200 (serving), 503 (it would refuse new calls) or nothing (dead); the port follows.

const connects = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

/** Answers every OPTIONS with `answer.status` (undefined: silence), echoing Via, Call-ID and CSeq. */
async function fakeKamailio(answer: { status: number | undefined }): Promise<{ port: number; close: () => void }> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (m, rinfo) => {
    if (answer.status === undefined) return;
    const t = m.toString();
    const keep = t.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
    sock.send([`SIP/2.0 ${answer.status} X`, ...keep, 'Content-Length: 0', '', ''].join('\r\n'), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, close: () => sock.close() };
}

const waitFor = async (f: () => Promise<boolean>, tries = 50) => {
  for (let i = 0; i < tries; i++) {
    if (await f()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
};

let hp: HealthPort | undefined;
let kam: { close: () => void } | undefined;
afterEach(async () => {
  await hp?.stop();
  kam?.close();
});

describe('health port: SIP-level probe', () => {
  it('the probe is an OPTIONS marked X-Sipbake-Probe; only a final answer to it counts', () => {
    const req = probeRequest({ host: '10.0.1.11', port: 5060, timeoutMs: 500 }, 40000, 'abc');
    expect(req).toMatch(/^OPTIONS sip:10\.0\.1\.11:5060 SIP\/2\.0\r\n/);
    expect(req).toMatch(/\r\nX-Sipbake-Probe: new-call\r\n/);
    expect(probeStatus('SIP/2.0 200 OK\r\nCall-ID: probe-abc@10.0.1.11\r\n', 'abc')).toBe(200);
    expect(probeStatus('SIP/2.0 100 Trying\r\nCall-ID: probe-abc@10.0.1.11\r\n', 'abc')).toBeUndefined();
    expect(probeStatus('SIP/2.0 200 OK\r\nCall-ID: probe-other@10.0.1.11\r\n', 'abc')).toBeUndefined();
  });

  it('200: serving; 503: it would refuse new calls; silence: dead', async () => {
    const answer: { status: number | undefined } = { status: 200 };
    const k = await fakeKamailio(answer);
    kam = k;
    const t = { host: '127.0.0.1', port: k.port, timeoutMs: 300 };
    expect(await sipProbe(t)).toBe(true);
    answer.status = 503;
    expect(await sipProbe(t)).toBe(false);
    answer.status = undefined;
    expect(await sipProbe(t)).toBe(false);
  });

  it('an open port listens only while Kamailio answers the probe with 200, and follows it both ways', async () => {
    const answer: { status: number | undefined } = { status: 503 };
    const k = await fakeKamailio(answer);
    kam = k;
    const port = await freePort();
    const changes: boolean[] = [];
    hp = healthPort(port, '127.0.0.1', {
      check: () => sipProbe({ host: '127.0.0.1', port: k.port, timeoutMs: 200 }),
      intervalMs: 50,
      onChange: (ok) => changes.push(ok),
    });
    await hp.open();
    expect(await connects(port)).toBe(false);
    expect(hp.mode).toBe('closed');
    answer.status = 200;
    expect(await waitFor(() => connects(port))).toBe(true);
    expect(hp.mode).toBe('open');
    answer.status = undefined;
    expect(await waitFor(async () => !(await connects(port)))).toBe(true);
    expect(changes).toEqual([true, false]);
  });

  it("the drain's fail overrides the probe: closed stays closed while Kamailio still answers", async () => {
    const k = await fakeKamailio({ status: 200 });
    kam = k;
    const port = await freePort();
    hp = healthPort(port, '127.0.0.1', { check: () => sipProbe({ host: '127.0.0.1', port: k.port, timeoutMs: 200 }), intervalMs: 50 });
    await hp.open();
    expect(await connects(port)).toBe(true);
    await hp.fail('close');
    await new Promise((r) => setTimeout(r, 200));
    expect(await connects(port)).toBe(false);
  });
});
