// Fast tests of the pure parts of the live-test harness and of `sipbake try`'s plan.
import { describe, expect, it } from 'vitest';
import { answer } from '../fakes/rtpproxy.js';
import { parseMessageLog, parseStats, sippArgv } from '../support/index.js';
import { planTry, mergeDefinition } from '../../src/try/plan.js';
import { parseImage } from '../../src/definition/load.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bareRelayConfig } from '../../bench/bare-relay.js';

const root = path.resolve(import.meta.dirname, '../..');
const image = (name: string) => {
  const r = parseImage(readFileSync(path.join(root, 'images', `${name}.yaml`), 'utf8'), `images/${name}.yaml`);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.image;
};

describe('RTPProxy responder protocol', () => {
  let next = 40000;
  const alloc = () => (next += 2);
  it.each([
    ['V', 'V', '20040107'],
    ['VF 20050322', 'VF', '1'],
    ['VF 20090810', 'VF', '1'],
    ['VF 29991231', 'VF', '0'],
    ['X nonsense', 'X', 'E1'],
    ['D call-1 ftag ttag', 'D', '0'],
  ])('%s → %s %s', (req, cmd, reply) => {
    const a = answer(req, alloc, '127.0.0.50');
    expect(a.command).toBe(cmd);
    expect(a.reply).toBe(reply);
  });
  it('answers an offer and an answer with a port and the media address', () => {
    const u = answer('Uc0,8 call-9 10.0.0.1 6000 fromtag;1', alloc, '127.0.0.50');
    expect(u).toMatchObject({
      command: 'U',
      flags: 'c0,8',
      callId: 'call-9',
      addr: '10.0.0.1',
      port: 6000,
      fromTag: 'fromtag',
    });
    expect(u.reply).toMatch(/^\d+ 127\.0\.0\.50$/);
    const l = answer('L call-9 10.0.0.2 7000 fromtag;1 totag;1', alloc, '127.0.0.50');
    expect(l).toMatchObject({ command: 'L', toTag: 'totag' });
    expect(answer('U call-9', alloc, 'x').reply).toBe('E1');
  });
});

describe('SIPp log parsers', () => {
  it('splits a message log into messages with headers', () => {
    const log = `----------------------------------------------- 2026-11-23 11:37:09.835554
UDP message sent (100 bytes):

INVITE sip:a@127.0.0.2:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.20:5070;branch=z9hG4bK-1
Via: SIP/2.0/UDP 127.0.0.21:5070;branch=z9hG4bK-2
Call-ID: 1-1@x
Content-Length: 0

----------------------------------------------- 2026-11-23 11:37:09.838145
UDP message received [238] bytes :

SIP/2.0 403 Forbidden
Call-ID: 1-1@x

`;
    const ms = parseMessageLog(log);
    expect(ms).toHaveLength(2);
    expect(ms[0]).toMatchObject({ direction: 'sent', method: 'INVITE' });
    expect(ms[0]!.headers.via).toHaveLength(2);
    expect(ms[1]).toMatchObject({ direction: 'received', status: 403 });
  });
  it('reads the last row of the stats CSV by column name', () => {
    const csv = 'TotalCallCreated;CurrentCall;SuccessfulCall(C);FailedCall(C);\n1;0;0;0;\n5;0;4;1;\n';
    expect(parseStats(csv)).toMatchObject({ created: 5, successful: 4, failed: 1 });
    expect(parseStats('')).toBeUndefined();
  });
  it('always bounds SIPp with a global timeout', () => {
    const a = sippArgv({
      dir: '/tmp/x',
      name: 'u',
      role: 'uac',
      localIp: '127.0.0.9',
      localPort: 5000,
      remote: '127.0.0.2:5060',
    });
    expect(a).toContain('-timeout');
    expect(a).toContain('-m');
    expect(() => sippArgv({ dir: '/tmp/x', name: 'u', role: 'uac', localIp: '127.0.0.9', localPort: 5000 })).toThrow(/remote/);
  });
});

describe('sipbake try plan', () => {
  it('points a relay image at one fake destination and a second loopback address for its Elastic IP', () => {
    const p = planTry(image('twilio-relay'), { sip: 5000, health: 5001, peers: [6000] });
    expect(p.publicIp).not.toBe(p.privateIp);
    expect(p.peers).toEqual([{ role: 'destination', name: 'your-account.sip.twilio.com', host: '127.0.20.10', port: 6000 }]);
    expect(p.overrides.relay).toMatchObject({
      destination: { domain: '127.0.20.10', port: 6000 },
      allowedSources: ['127.0.20.16/28'],
    });
    expect(p.sip.udp).toBe('127.0.20.2:5000');
  });
  it('gives each recorder its own SIPp, keeps weights, and swaps postgres for the list file', () => {
    const p = planTry(image('recorder-lb'), { sip: 5000, health: 5001, peers: [6000, 6001], rtpproxy: 7000 });
    expect(p.peers.map((x) => x.host)).toEqual(['127.0.20.10', '127.0.20.11']);
    const ds = p.overrides.dispatcher as { destinations: { attrs: { weight?: number } }[]; backend: { type: string } };
    expect(ds.destinations.map((d) => d.attrs.weight)).toEqual([75, 25]);
    expect(ds.backend).toEqual({ type: 'file' });
    expect(p.rtpproxy).toEqual({ host: '127.0.20.50', port: 7000 });
    expect(p.notes.join(' ')).toMatch(/postgres/);
  });
  it('merges definitions: objects merge, arrays replace, undefined deletes, backend replaced whole', () => {
    const m = mergeDefinition(
      { a: { b: 1, c: [1, 2] }, d: 1, dispatcher: { backend: { type: 'postgres', host: 'h' } } },
      { a: { c: [3] }, d: undefined, dispatcher: { backend: { type: 'file' } } },
    );
    expect(m).toEqual({ a: { b: 1, c: [3] }, dispatcher: { backend: { type: 'file' } } });
  });
});

describe('bench bare relay', () => {
  it('forwards every request to the UAS and nothing else', () => {
    const cfg = bareRelayConfig({ listen: '127.0.0.2:5060', to: '127.0.0.10:5070', children: 4 });
    expect(cfg).toContain('listen=udp:127.0.0.2:5060');
    expect(cfg).toContain('forward("127.0.0.10", 5070);');
    expect(cfg).not.toMatch(/loadmodule/);
  });
});

describe('RTPProxy responder port allocation', () => {
  it('stays within a valid even port range however many sessions it hands out', async () => {
    const { RtpproxyResponder } = await import('../fakes/rtpproxy.js');
    const r = new RtpproxyResponder({ host: '127.0.0.1', port: 1, firstMediaPort: 60000 });
    const alloc = (r as unknown as { allocate(c: string, t: string): number }).allocate.bind(r);
    for (let i = 0; i < 30_000; i++) {
      const p = alloc(`c${i}`, 't');
      expect(p >= 60000 && p < 65536 && p % 2 === 0).toBe(true);
    }
  });
});
