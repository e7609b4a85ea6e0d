// images/schema.json's address patterns refuse what `sipbake validate` refuses and accept what it accepts, so an
// editor flags a bad address as validate would (issue 23). Each pattern is held against its zod check on
// hand-picked values and on random ones from the characters addresses are made of.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { cidr, host, ipv4, socketSpec } from '../../src/definition/primitives.js';
import { CIDR_JSON, HOST_JSON, IPV4_JSON, SOCKET_JSON } from '../../src/definition/address-patterns.js';
import { repoRoot } from '../bake/helpers.js';

const cases: [string, z.ZodType, string, string[]][] = [
  ['ipv4', ipv4, IPV4_JSON.pattern, ['10.0.0.3', '255.255.255.255', '0.0.0.0', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.', ' 1.2.3.4', '1.2.3.4/32']],
  ['cidr', cidr, CIDR_JSON.pattern, ['54.172.60.0/30', '0.0.0.0/0', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', '10.0.0.0', '10.0.0.0/8/8']],
  [
    'host',
    host('recorder address', 'port'),
    HOST_JSON.pattern,
    [
      '10.0.0.3',
      'recorder1.example.com',
      'example.com.',
      'a',
      '1.2.3',
      '999.1.1.1',
      'sip:rec.example.com',
      'rec.example.com:5060',
      'rec_1.example.com',
      '-a.com',
      'a-.com',
      `${'a'.repeat(64)}.com`,
      '[::1]',
      'x.123',
    ],
  ],
  [
    'socket',
    socketSpec,
    SOCKET_JSON.pattern,
    [
      'udp:10.0.0.10:5080',
      'tcp:rec.example.com:5060',
      'tls:a:1',
      'udp:10.0.0.10:0',
      'udp:10.0.0.10:65536',
      'udp:10.0.0.10:05060',
      'udp:1.2.3:5060',
      'http:a:1',
      'udp:a:b:1',
    ],
  ],
];

const alphabet = fc.constantFrom(...'0123456789.:/-_abcxyzAZ'.split(''), '1', '2', '5', '.', ':');
const addressLike = fc.oneof(
  fc.string({ unit: alphabet, maxLength: 24 }),
  fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(40)).map(([a, b, c, d, l]) => `${a}.${b}.${c}.${d}/${l}`),
  fc
    .tuple(fc.constantFrom('udp', 'tcp', 'tls', 'sctp', 'ws'), fc.string({ unit: alphabet, maxLength: 16 }), fc.nat(70000))
    .map(([p, h, n]) => `${p}:${h}:${n}`),
);

describe('schema.json address patterns agree with validate', () => {
  for (const [name, schema, pattern, samples] of cases) {
    const editor = new RegExp(pattern, 'u'); // JSON Schema patterns are ECMA-262 regular expressions
    it(`${name}: hand-picked values`, () => {
      for (const s of samples) expect(editor.test(s), `${name} ${JSON.stringify(s)}`).toBe(schema.safeParse(s).success);
    });
    it(`${name}: random values`, () => {
      fc.assert(
        fc.property(addressLike, (s) => editor.test(s) === schema.safeParse(s).success),
        { numRuns: 3000 },
      );
    });
  }

  it('images/schema.json carries them on the address fields', () => {
    const text = readFileSync(path.join(repoRoot, 'images/schema.json'), 'utf8');
    for (const p of [IPV4_JSON.pattern, CIDR_JSON.pattern, HOST_JSON.pattern, SOCKET_JSON.pattern]) expect(text).toContain(JSON.stringify(p));
    expect(text).toContain('"format": "ipv4"');
  });
});
