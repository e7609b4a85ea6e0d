import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { healthPort, type HealthPort } from '../../src/agent/health-port.js';
import { freePort } from '../../src/try/ports.js';

/** 'accepted' when the handshake completes and an HTTP request gets 200, else what went wrong. */
function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    let data = '';
    s.setTimeout(2000, () => (s.destroy(), resolve('timeout')));
    s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('data', (d) => (data += d.toString()));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.on('close', () => resolve(data.startsWith('HTTP/1.1 200') ? 'accepted' : `closed:${data}`));
  });
}

let hp: HealthPort | undefined;
afterEach(async () => {
  await hp?.stop();
});

describe('health-check port', () => {
  it('is refused before open, answers 200 when open, and is refused again after a close drain', async () => {
    const port = await freePort();
    hp = healthPort(port, '127.0.0.1');
    expect(await probe(port)).toBe('ECONNREFUSED');
    await hp.open();
    expect(await probe(port)).toBe('accepted');
    await hp.fail('close');
    expect(await probe(port)).toBe('ECONNREFUSED');
  });

  it('refuse: keeps listening but resets every connection', async () => {
    const port = await freePort();
    hp = healthPort(port, '127.0.0.1');
    await hp.open();
    await hp.fail('refuse');
    expect(await probe(port)).toMatch(/ECONNRESET|closed:$/);
    expect(hp.mode).toBe('refusing');
  });
});
