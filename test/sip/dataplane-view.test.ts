// The data-plane values the Kamailio template prints come from view.ts (pure), and the antiflood
// warning rule: small, fast checks beside the live proofs in this folder.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { imageSchema, type ImageDefinition } from '../../src/definition/schema.js';
import { checkRules, checkWarnings } from '../../src/definition/rules.js';
import { antifloodDensity, headerRegex, kamailioView, udpMaxBuffer } from '../../src/render/view.js';
import { renderBootInclude } from '../../src/contract/boot-include.js';
import { deepMerge, type Plain } from '../../src/definition/merge.js';

const root = path.resolve(import.meta.dirname, '../..');
async function image(name: string, over: Plain = {}): Promise<ImageDefinition> {
  const base = parse(await readFile(path.join(root, 'images', `${name}.yaml`), 'utf8')) as Plain;
  return imageSchema.parse(deepMerge(base, over));
}

describe('data-plane view values', () => {
  it('turns header patterns into case-insensitive anchored POSIX regexes', () => {
    expect(headerRegex('X-Twilio-*')).toBe('^[Xx]-[Tt][Ww][Ii][Ll][Ii][Oo]-');
    expect(headerRegex('P-Asserted-Identity')).toBe('^[Pp]-[Aa][Ss][Ss][Ee][Rr][Tt][Ee][Dd]-[Ii][Dd][Ee][Nn][Tt][Ii][Tt][Yy]$');
  });

  it('refuses header patterns that are not a header name or a prefix', async () => {
    for (const bad of ['X-Twilio-.*', 'X Twilio', '*', 'X-"a', 'X-a\n']) {
      expect(
        imageSchema.safeParse(
          deepMerge(parse(await readFile(path.join(root, 'images/twilio-relay.yaml'), 'utf8')) as Plain, {
            relay: { stripHeaders: [bad] },
          }),
        ).success,
        bad,
      ).toBe(false);
    }
  });

  it('sizes the pike density so one source at the rated rate stays below it', async () => {
    const img = await image('twilio-relay');
    expect(img.capacity.callsPerSecond).toBe(100);
    expect(antifloodDensity(img)).toBe(300); // 1.5 x 100/s x 2 s
    expect(antifloodDensity(await image('twilio-relay', { antiflood: { requestsDensity: 1000 } }))).toBe(1000);
    expect(udpMaxBuffer(img)).toBe(600_000);
  });

  it('holds the relay allowed sources and the dispatcher destinations to their own ceiling by default, not with exemptUpstream: false', async () => {
    const relay = kamailioView(
      await image('twilio-relay', {
        relay: { allowedSources: ['198.51.100.0/24'] },
        antiflood: { exempt: ['192.0.2.1/32'] },
      }),
    );
    expect(relay.antifloodExemptCidrs).toEqual(['192.0.2.1/32']);
    expect(relay.antifloodUpstreamCidrs).toEqual(['198.51.100.0/24']);
    expect(relay.antifloodUpstreamDispatcher).toBe(false);
    expect(relay.antifloodUpstreamDensity).toBe(600); // 3 x 100/s x 2 s
    const off = kamailioView(
      await image('twilio-relay', {
        relay: { allowedSources: ['198.51.100.0/24'] },
        antiflood: { exemptUpstream: false },
      }),
    );
    expect([off.antifloodExemptCidrs, off.antifloodUpstreamCidrs]).toEqual([[], []]);
    expect(kamailioView(await image('twilio-relay', { antiflood: { upstreamDensity: 50 } })).antifloodUpstreamDensity).toBe(50);
    expect(kamailioView(await image('recorder-lb')).antifloodUpstreamDispatcher).toBe(true);
    expect(kamailioView(await image('recorder-lb', { antiflood: { exemptUpstream: false } })).antifloodUpstreamDispatcher).toBe(false);
  });

  it('relays INVITE only by default and answers OPTIONS locally; widening is explicit', async () => {
    const v = kamailioView(await image('twilio-relay'));
    expect([v.initialMethods, v.allowMethods, v.answerOptionsLocally]).toEqual(['INVITE', 'INVITE, OPTIONS', true]);
    const w = kamailioView(await image('twilio-relay', { relay: { initialMethods: ['INVITE', 'MESSAGE', 'OPTIONS'] } }));
    expect([w.initialMethods, w.allowMethods, w.answerOptionsLocally]).toEqual(['INVITE|MESSAGE|OPTIONS', 'INVITE, MESSAGE, OPTIONS', false]);
    expect(
      imageSchema.safeParse({
        ...(await image('twilio-relay')),
        relay: { ...(await image('twilio-relay')).relay, initialMethods: ['SUBSCRIBE'] },
      }).success,
    ).toBe(false);
  });

  it('no longer has nathelper keepalive (nothing registers, so it pinged nothing)', async () => {
    const base = parse(await readFile(path.join(root, 'images/recorder-lb.yaml'), 'utf8')) as Plain;
    expect(imageSchema.safeParse(deepMerge(base, { nathelper: { keepalive: true } })).success).toBe(false);
  });

  it('writes SIPBAKE_PEER_NET into the boot include, this instance alone when unknown', () => {
    const inc = renderBootInclude({ privateIp: '10.0.1.5', publicIp: '203.0.113.1', root: '' });
    expect(inc).toContain('#!define SIPBAKE_PEER_NET "10.0.1.5/32"');
    expect(renderBootInclude({ privateIp: '10.0.1.5', publicIp: '203.0.113.1', root: '', peerNet: '10.0.0.0/16' })).toContain(
      '#!define SIPBAKE_PEER_NET "10.0.0.0/16"',
    );
    expect(() =>
      renderBootInclude({
        privateIp: '10.0.1.5',
        publicIp: '203.0.113.1',
        root: '',
        peerNet: '10.0.0.0/16"\n#!define X',
      }),
    ).toThrow(/peer network/);
  });
});

describe('antiflood warning rule', () => {
  it('warns when requestsDensity is below one source at capacity.callsPerSecond, and is not an error', async () => {
    const low = await image('recorder-lb', { antiflood: { requestsDensity: 30 } });
    expect(checkRules(low)).toEqual([]);
    const w = checkWarnings(low);
    expect(w).toHaveLength(1);
    expect(w[0]!.path).toEqual(['antiflood', 'requestsDensity']);
    expect(w[0]!.message).toMatch(/100\/s x sampleTime 2 s = 200/);
    expect(checkWarnings(await image('recorder-lb'))).toEqual([]);
    expect(checkWarnings(await image('recorder-lb', { antiflood: { requestsDensity: 200 } }))).toEqual([]);
    expect(checkWarnings(await image('recorder-lb', { antiflood: { requestsDensity: 30, enabled: false } }))).toEqual([]);
  });

  it('warns when upstreamDensity is below one allowed source at capacity.callsPerSecond', async () => {
    const w = checkWarnings(await image('twilio-relay', { antiflood: { upstreamDensity: 150 } }));
    expect(w.map((x) => x.path)).toEqual([['antiflood', 'upstreamDensity']]);
    expect(w[0]!.fix).toMatch(/default 600/);
    expect(checkWarnings(await image('twilio-relay', { antiflood: { upstreamDensity: 200 } }))).toEqual([]);
    expect(checkWarnings(await image('twilio-relay', { antiflood: { upstreamDensity: 150, exemptUpstream: false } }))).toEqual([]);
  });
});
