import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  commentText,
  dispatcherListField,
  envValue,
  kamailioString,
  sqlIdentifier,
  sqlLiteral,
  systemdValue,
  UnsafeValueError,
} from '../../src/contract/escape.js';
import { UserError } from '../../src/core/errors.js';
import { parseDispatcherList } from './ds-list.js';

// One test per output language's escaper. The Kamailio string is also read back by a real Kamailio
// (escape.live.test.ts); SQL literals by PostgreSQL in injection.live.test.ts.

const refused = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UnsafeValueError);
    expect(e).toBeInstanceOf(UserError); // exit 1, never 70
    return true;
  }
  return false;
};

describe('escapers', () => {
  it('Kamailio cfg string: escapes quote, backslash, CR, LF and tab; refuses other control characters, NUL and lone surrogates', () => {
    expect(kamailioString('Service Unavailable')).toBe('"Service Unavailable"');
    expect(kamailioString('a"b\\c\nd\re\tf')).toBe('"a\\"b\\\\c\\nd\\re\\tf"');
    expect(kamailioString('#!define X $(ru) `id` %n')).toBe('"#!define X $(ru) `id` %n"');
    for (const bad of ['a\u0001', 'a\0b', 'a\u007f', '\uD800x'])
      expect(
        refused(() => kamailioString(bad)),
        JSON.stringify(bad),
      ).toBe(true);
  });

  it('dispatcher.list field: only a field that needs no quoting passes, and the list parser reads it back whole', () => {
    expect(dispatcherListField('sip:10.0.0.3:5060;transport=udp')).toBe('sip:10.0.0.3:5060;transport=udp');
    for (const bad of ['', 'a b', 'a\tb', 'a\nb', 'a\r\nb', 'a#b', 'caf\u00e9', 'a\0b'])
      expect(
        refused(() => dispatcherListField(bad)),
        JSON.stringify(bad),
      ).toBe(true);
    const uri = dispatcherListField('sip:rec.example.com:5080;transport=tcp');
    expect(parseDispatcherList(`1 ${uri} 0 0 ${dispatcherListField('weight=50;duid=r1')}\n`)).toEqual([
      { setId: 1, uri, flags: 0, priority: 0, attrs: 'weight=50;duid=r1' },
    ]);
  });

  it('comment text: stays on one line whatever it holds', () => {
    const c = commentText('a\nb\r\nc\u2028d\0e');
    expect(c).toBe('a b  c d e');
    expect(parseDispatcherList(`# ${commentText('x\n1 sip:attacker.example.com')}\n`)).toEqual([]);
  });

  it('SQL literal and identifier: quotes doubled, backslash literal (standard_conforming_strings), NUL refused', () => {
    expect(sqlLiteral("it's \\n")).toBe("'it''s \\n'");
    expect(refused(() => sqlLiteral('a\0b'))).toBe(true);
    expect(sqlIdentifier('ka"m')).toBe('"ka""m"');
    expect(refused(() => sqlIdentifier(''))).toBe(true);
    expect(refused(() => sqlIdentifier('x'.repeat(64)))).toBe(true);
  });

  it('systemd value: % specifiers doubled; line breaks and a trailing backslash refused', () => {
    expect(systemdValue('100% relay (%n)')).toBe('100%% relay (%%n)');
    for (const bad of ['a\nb', 'a\rb', 'a\\', 'a\0'])
      expect(
        refused(() => systemdValue(bad)),
        JSON.stringify(bad),
      ).toBe(true);
  });

  it('env file value: a POSIX shell reads back exactly the value', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sipbake-env-'));
    try {
      const value = 'a "b" \\c $HOME `id` $(id) \'d\' %n';
      writeFileSync(path.join(dir, 'x.env'), `X=${envValue(value)}\n`);
      expect(execFileSync('sh', ['-c', `. "${dir}/x.env"; printf %s "$X"`], { encoding: 'utf8' })).toBe(value);
      for (const bad of ['a\nb', 'a\0'])
        expect(
          refused(() => envValue(bad)),
          JSON.stringify(bad),
        ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
