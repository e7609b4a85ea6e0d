// One compile shared by the boot images (src/bake/local/share.ts): which images may share it, the manifest the
// shared compile reads, and the script that fits the shared root back to one image.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addedPaths, cannotShare, compileManifest, coveringCompile, fitScript, unionSet, type CompileSet } from '../../src/bake/local/share.js';

const CORE = ['kex', 'corex', 'tm', 'tmx', 'sl', 'rr', 'pv', 'maxfwd', 'textops', 'siputils', 'xlog', 'sanity', 'ctl', 'cfgutils', 'dialog'];
const relay: CompileSet = { modules: [...CORE, 'ipops', 'htable', 'pike'], rtpproxy: false };
const recorder: CompileSet = { modules: [...CORE, 'jsonrpcs', 'ipops', 'nathelper', 'rtpproxy', 'dispatcher', 'htable', 'pike'], rtpproxy: true };
const RTP_FILES = ['/usr/local/bin/rtpproxy', '/usr/local/lib/rtpproxy', '/usr/local/lib/rtpproxy/rtpp_acct_csv.so', '/usr/local/share/man/man8/rtpproxy.8'];
const MODDIR = '/usr/local/lib64/kamailio/modules';
const removed = (script: string): string[] => [...script.matchAll(/rm -f '([^']+)'/g)].map((m) => m[1]!);

describe('sharing a compile', () => {
  it('the two seeds share: the union is the recorder set with RTPProxy', () => {
    const u = unionSet([relay, recorder]);
    expect(u).toEqual({ modules: [...recorder.modules].sort(), rtpproxy: true });
    expect(cannotShare(relay, u)).toBeUndefined();
    expect(cannotShare(recorder, u)).toBeUndefined();
  });

  it('refuses a union whose extra modules bring a library the image would not install (db_postgres: srdb2)', () => {
    const u = unionSet([relay, { modules: [...CORE, 'db_postgres', 'dispatcher'], rtpproxy: false }]);
    expect(cannotShare(relay, u)).toMatch(/db_postgres.*not known/);
  });

  it('refuses a shared set that lacks one of the image modules or its RTPProxy', () => {
    expect(cannotShare(recorder, relay)).toMatch(/lacks jsonrpcs, nathelper, rtpproxy, dispatcher/);
    expect(cannotShare({ ...relay, rtpproxy: true }, relay)).toMatch(/no RTPProxy/);
  });

  it("the compile's manifest: the union, a postgres backend only with db_postgres, tls only with tls", () => {
    expect(JSON.parse(compileManifest(unionSet([relay, recorder])))).toEqual({
      modules: [...recorder.modules].sort(),
      dispatcher: { backend: { type: 'file' } },
      tls: { enabled: false },
      rtpproxy: { enabled: true },
    });
    const m = JSON.parse(compileManifest({ modules: ['tls', 'db_postgres'], rtpproxy: false })) as { dispatcher: unknown; tls: unknown };
    expect(m).toMatchObject({ dispatcher: { backend: { type: 'postgres' } }, tls: { enabled: true } });
  });
});

describe('fitting the shared root to one image', () => {
  it('twilio-relay: the four modules it does not load, RTPProxy (files deepest first, unit, env, user) go', () => {
    const s = fitScript({ own: relay, shared: unionSet([relay, recorder]), rtpproxyFiles: RTP_FILES, moduleDir: MODDIR });
    expect(removed(s).filter((f) => f.startsWith(MODDIR))).toEqual(['dispatcher', 'jsonrpcs', 'nathelper', 'rtpproxy'].map((m) => `${MODDIR}/${m}.so`));
    const files = s.split('\n').filter((l) => l.includes('/usr/local/') && !l.includes(MODDIR));
    expect(files[0]).toContain('/usr/local/share/man/man8/rtpproxy.8');
    expect(files.findIndex((l) => l.includes("'/usr/local/lib/rtpproxy'"))).toBeGreaterThan(files.findIndex((l) => l.includes('rtpp_acct_csv.so')));
    expect(s).toContain('rm -f /etc/systemd/system/rtpproxy.service /etc/sipbake/rtpproxy.env');
    expect(s).toContain('userdel rtpproxy');
    expect(s).toMatch(/grep -v '\^kamailio:'/);
  });

  it('recorder-lb, whose own set is the union: nothing to fit', () => {
    expect(fitScript({ own: recorder, shared: unionSet([relay, recorder]), rtpproxyFiles: RTP_FILES, moduleDir: MODDIR })).toBe('');
  });

  it('an image without RTPProxy cannot be fitted from a compile that recorded no RTPProxy files', () => {
    expect(() => fitScript({ own: relay, shared: unionSet([relay, recorder]), rtpproxyFiles: [], moduleDir: MODDIR })).toThrow(/recorded no RTPProxy files/);
  });

  it('any two shareable sets: the fit removes exactly the modules the image does not load', () => {
    const optional = ['jsonrpcs', 'nathelper', 'rtpproxy', 'dispatcher', 'htable', 'pike', 'ipops', 'tls', 'debugger'];
    const set = fc.record({ modules: fc.subarray(optional).map((m) => [...CORE, ...m]), rtpproxy: fc.boolean() });
    fc.assert(
      fc.property(set, set, (a, b) => {
        const shared = unionSet([a, b]);
        const s = fitScript({ own: a, shared, rtpproxyFiles: RTP_FILES, moduleDir: MODDIR });
        const gone = removed(s).filter((f) => f.startsWith(MODDIR));
        expect(gone.sort()).toEqual(
          shared.modules
            .filter((m) => !a.modules.includes(m))
            .map((m) => `${MODDIR}/${m}.so`)
            .sort(),
        );
        expect(s.includes('userdel rtpproxy')).toBe(shared.rtpproxy && !a.rtpproxy);
      }),
    );
  });

  it('what 30-rtpproxy added: the paths after it and not before', () => {
    expect(addedPaths(['/usr/local', '/usr/local/bin'], ['/usr/local/bin/rtpproxy', '/usr/local', '/usr/local/bin'])).toEqual(['/usr/local/bin/rtpproxy']);
  });
});

describe('a cached compile that covers an image (rehearse --baked after the boot test)', () => {
  // The key a bake computes for a set: here a stand-in over the set, as compileKey is over base, sources, set, scripts.
  const keyOf = (s: CompileSet): string => `k:${[...s.modules].sort().join(',')}:${s.rtpproxy}`;
  const union = unionSet([relay, recorder]);
  const postgres = unionSet([recorder, { modules: [...CORE, 'db_postgres'], rtpproxy: true }]);

  it("the relay takes the boot test's shared compile (the union) rather than compiling its own set", () => {
    expect(coveringCompile(relay, [{ key: keyOf(union), set: union }], keyOf)).toEqual({ key: keyOf(union), set: union });
  });

  it('never a compile made from other sources or scripts: its key is not the one this bake computes for its set', () => {
    expect(coveringCompile(relay, [{ key: 'made-by-older-scripts', set: union }], keyOf)).toBeUndefined();
  });

  it('never a compile that cannot be fitted back (lacks a module, or brings a library: db_postgres)', () => {
    expect(coveringCompile(recorder, [{ key: keyOf(relay), set: relay }], keyOf)).toBeUndefined();
    expect(coveringCompile(relay, [{ key: keyOf(postgres), set: postgres }], keyOf)).toBeUndefined();
  });

  it('the smallest covering set, so the fit takes out least', () => {
    const bigger = unionSet([union, { modules: ['tls'], rtpproxy: true }]);
    const cached = [
      { key: keyOf(bigger), set: bigger },
      { key: keyOf(union), set: union },
    ];
    expect(coveringCompile(relay, cached, keyOf)?.set).toEqual(union);
  });

  it('a key that cannot be computed (sources missing from SHA256SUMS) is not a match', () => {
    expect(coveringCompile(relay, [{ key: keyOf(union), set: union }], () => undefined)).toBeUndefined();
  });
});
