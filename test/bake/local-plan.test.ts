// The local bake's plan (pure): the sources as tarball pins, the mirror, and the cache keys.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { baseKey, compileKey, mirrorFrom, standInPinsFile, standIns } from '../../src/bake/local/plan.js';

const SUMS = `${'a'.repeat(64)}  kamailio-5.5.7.tar.xz\n${'b'.repeat(64)}  rtpproxy-3.2.0.tar.xz\n`;
const PINS = { KAMAILIO_VERSION: '5.5.7', KAMAILIO_SOURCE: 'git', RTPPROXY_VERSION: '3.2.0', RTPPROXY_SOURCE: 'git' };

describe('local bake plan', () => {
  it('maps the pinned versions to the archives in SHA256SUMS, as tarball pins the scripts read', () => {
    const s = standIns(PINS, SUMS, '/up', true);
    expect(s).toEqual([
      { name: 'KAMAILIO', version: '5.5.7', file: 'kamailio-5.5.7.tar.xz', sha256: 'a'.repeat(64) },
      { name: 'RTPPROXY', version: '3.2.0', file: 'rtpproxy-3.2.0.tar.xz', sha256: 'b'.repeat(64) },
    ]);
    expect(standIns(PINS, SUMS, '/up', false).map((x) => x.name)).toEqual(['KAMAILIO']);
    const file = standInPinsFile(s);
    expect(file).toContain('KAMAILIO_SOURCE=tarball\n');
    expect(file).toContain('KAMAILIO_TARBALL_URL=file:///tmp/sipbake/upstream/kamailio-5.5.7.tar.xz\n');
    expect(file).toContain(`RTPPROXY_TARBALL_SHA256=${'b'.repeat(64)}\n`);
  });

  it('a pinned version without its archive is an error that names the file it looked for', () => {
    expect(() => standIns({ ...PINS, KAMAILIO_VERSION: '5.8.0' }, SUMS, '/up', false)).toThrow(UserError);
    expect(() => standIns({ ...PINS, KAMAILIO_VERSION: '5.8.0' }, SUMS, '/up', false)).toThrow(/kamailio-5\.8\.0\.tar\./);
  });

  it("reads Debian's mirror from deb822 and one-line sources, else Debian's own", () => {
    const deb822 =
      'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n\nTypes: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\n';
    expect(mirrorFrom([deb822])).toBe('http://mirror.example/debian');
    expect(mirrorFrom(['deb [arch=amd64] http://other.example/debian bookworm main\n'])).toBe('http://other.example/debian');
    expect(mirrorFrom(['deb http://x.example/ubuntu jammy main\n'])).toBe('http://deb.debian.org/debian');
  });

  it('keys: the base by release and package list; the compile by base, sources, module set and scripts', () => {
    expect(baseKey('bookworm', ['dbus', 'systemd'])).toBe(baseKey('bookworm', ['systemd', 'dbus']));
    expect(baseKey('bookworm', ['systemd'])).not.toBe(baseKey('bookworm', ['systemd', 'dbus']));
    const s = standIns(PINS, SUMS, '/up', false);
    const k = { base: 'b', standIns: s, modules: ['tm', 'sl'], scripts: 'x' };
    expect(compileKey(k)).toBe(compileKey({ ...k, modules: ['sl', 'tm'] }));
    expect(compileKey(k)).not.toBe(compileKey({ ...k, modules: ['tm'] }));
    expect(compileKey(k)).not.toBe(compileKey({ ...k, scripts: 'y' }));
    expect(compileKey(k)).not.toBe(compileKey({ ...k, standIns: [{ ...s[0]!, sha256: 'c'.repeat(64) }] }));
    expect(compileKey(k)).not.toBe(compileKey({ ...k, base: 'other' }));
  });
});
