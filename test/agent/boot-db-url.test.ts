import { describe, expect, it } from 'vitest';
import { DbUrlError, parseKamailioDbUrl, passwordProblem, postgresDbUrl } from '../../src/contract/db-url.js';
import { renderBootInclude } from '../../src/contract/boot-include.js';
import { kamailioString } from '../../src/contract/escape.js';

// The one db_url builder, against a model of Kamailio 5.5/5.6's parse_db_url (src/lib/srdb1/db_id.c).
// The live proof (Kamailio loading the rows from PostgreSQL) is test/agent/boot-secrets.live.test.ts (this is the one test of the builder).

const parts = { user: 'kamailio', host: 'db.internal', port: 5432, database: 'kamailio' };

describe('postgresDbUrl (src/contract/db-url.ts)', () => {
  it.each([
    ['plain', 'secret'],
    ['@ and :', 'p@ss:w@rd'],
    ["'/' after an '@'", 'p@ss/word'],
    ['%, #, $, ?', 'a%41#b$c?d'],
    ['the boot tokens', 'SIPBAKE_PUBLIC_IP SIPBAKE_PRIVATE_IP SIPBAKE_DB_URL'],
    ['quote, backslash, newline', 'q"b\\n\nx'],
    ['non-ASCII', 'é S3cret!'],
  ])('carries a password with %s verbatim (no percent-encoding)', (_n, pw) => {
    const url = postgresDbUrl(parts, pw);
    expect(url).toBe(`postgres://kamailio:${pw}@db.internal:5432/kamailio`);
    expect(parseKamailioDbUrl(url)).toEqual({
      user: 'kamailio',
      password: pw,
      host: 'db.internal',
      port: 5432,
      database: 'kamailio',
    });
  });

  it.each(['a/b', '/lead', 'x/y@z', 'nul\0'])('refuses a password Kamailio 5.5/5.6 would misparse (%#)', (pw) => {
    expect(passwordProblem(pw)).toBeDefined();
    expect(() => postgresDbUrl(parts, pw)).toThrow(DbUrlError);
    try {
      postgresDbUrl(parts, pw);
    } catch (e) {
      expect((e as DbUrlError).field).toBe('password');
      expect(String(e)).not.toContain(pw);
    }
    // The model agrees: what we refuse is exactly what the parser would split wrongly.
    if (!pw.includes('\0')) expect(parseKamailioDbUrl(`postgres://kamailio:${pw}@db.internal:5432/kamailio`)?.password).not.toBe(pw);
  });

  it.each([
    ['user', { user: 'ka:m' }],
    ['user', { user: 'a@b' }],
    ['host', { host: 'db/x' }],
    ['host', { host: 'a@b' }],
    ['database', { database: 'k?x' }],
    ['port', { port: 70000 }],
  ])('refuses a %s that changes the split', (field, patch) => {
    expect(() => postgresDbUrl({ ...parts, ...patch }, 'pw')).toThrow(expect.objectContaining({ field }));
  });

  it('writes no password part when there is none', () => {
    expect(postgresDbUrl(parts)).toBe('postgres://kamailio@db.internal:5432/kamailio');
  });
});

describe('boot include strings', () => {
  it('escapes what a Kamailio cfg string cannot hold raw', () => {
    expect(kamailioString('a"b\\c\nd\te')).toBe('"a\\"b\\\\c\\nd\\te"');
    expect(() => kamailioString('a\0b')).toThrow(/NUL/);
  });

  it('defines only, with the peer network (default: this instance alone)', () => {
    const inc = renderBootInclude({
      privateIp: '10.0.0.5',
      publicIp: '198.51.100.7',
      root: '',
      dbUrl: postgresDbUrl(parts, 'SIPBAKE_PUBLIC_IP'),
    });
    expect(inc).not.toMatch(/#!subst/);
    expect(inc).toContain('#!define SIPBAKE_PEER_NET "10.0.0.5/32"');
    expect(inc).toContain('#!define SIPBAKE_DB_URL "postgres://kamailio:SIPBAKE_PUBLIC_IP@db.internal:5432/kamailio"');
    expect(renderBootInclude({ privateIp: '10.0.0.5', publicIp: '10.0.0.5', root: '', peerNet: '10.0.0.0/16' })).toContain(
      '#!define SIPBAKE_PEER_NET "10.0.0.0/16"',
    );
  });
});
