import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bootDbUrl, planBoot, runBoot } from '../../src/agent/boot.js';
import { imageManifest, parseManifest } from '../../src/contract/image-manifest.js';
import { modulesFor } from '../../src/render/view.js';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { image } from './support.js';

const pg = {
  host: 'db.internal',
  port: 5432,
  database: 'kamailio',
  user: 'kamailio',
  password: { source: 'ssm' as const, name: '/x' },
};

async function manifestOf(...args: Parameters<typeof image>) {
  const def = await image(...args);
  return parseManifest(JSON.stringify(imageManifest(def, modulesFor(def))), 'image.json');
}

describe('boot plan (pure)', () => {
  it('db URL: the contract builder, verbatim password', () => {
    expect(bootDbUrl(pg, 'a@b/c:d%40')).toBe('postgres://kamailio:a@b/c:d%40@db.internal:5432/kamailio');
  });

  it.each(['a/b@c', 'sl/ash', 'nul\0byte'])('refuses a password Kamailio cannot parse, naming the parameter, not the value (%#)', (pw) => {
    let msg = '';
    try {
      bootDbUrl(pg, pw);
    } catch (e) {
      msg = String(e);
    }
    expect(msg).toMatch(/PostgreSQL password in SSM parameter \/x cannot be used/);
    expect(msg).not.toContain(pw);
  });

  it('reads the renderer manifest: postgres ref, rtpproxy, drain defaults', async () => {
    const m = await manifestOf('recorder-lb');
    expect(m.postgres).toMatchObject({
      host: 'database.example.com',
      user: 'kamailio',
      password: { source: 'ssm', name: '/sipbake/recorder-lb/db-password' },
    });
    expect(m.rtpproxy).toBe(true);
    expect(m.drain).toMatchObject({ lifecycleHookName: 'sipbake-drain', pollSeconds: 5 });
  });

  it('reads the one hook name the manifest carries (drain.lifecycleHookName), sipbake-drain without one', () => {
    const m = parseManifest(JSON.stringify({ name: 'x', drain: { lifecycleHookName: 'custom-hook' } }), 'image.json');
    expect(m.drain.lifecycleHookName).toBe('custom-hook');
    expect(parseManifest(JSON.stringify({ name: 'x', drain: {} }), 'image.json').drain.lifecycleHookName).toBe('sipbake-drain');
  });

  it("follows the renderer's manifest: the roll's deploy.lifecycleHook.name reaches the agent", async () => {
    const m = await manifestOf('twilio-relay', { deploy: { lifecycleHook: { name: 'relay-drain' } } });
    expect(m.drain.lifecycleHookName).toBe('relay-drain');
  });

  it('says which manifest field is wrong', () => {
    expect(() => parseManifest('{"name":"x","drain":{"maxSeconds":"long"}}', '/etc/sipbake/image.json')).toThrow(
      /\/etc\/sipbake\/image.json is not a sipbake image manifest: drain.maxSeconds/,
    );
  });

  it('plans the include (0640, kamailio group) and only the files the image needs', async () => {
    const relay = planBoot(await manifestOf('twilio-relay'), { privateIp: '10.0.0.5', publicIp: '44.199.36.104' }, {}, '');
    expect(relay.map((f) => [f.path, f.mode.toString(8), f.group])).toEqual([['/etc/kamailio/sipbake-boot.cfg', '640', 'kamailio']]);
    // No #!substdef: a subst rule would rewrite every later cfg string, secrets included.
    expect(relay[0]!.content).not.toContain('substdef');
    expect(relay[0]!.content).toContain('#!define SIPBAKE_PUBLIC_IP 44.199.36.104\n');
    const lb = await manifestOf('recorder-lb');
    expect(() => planBoot(lb, { privateIp: '10.0.0.5', publicIp: '1.2.3.4' }, {}, '')).toThrow(/needs the database password/);
  });
});

describe('runBoot (in process)', () => {
  let imds: ImdsFake | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await imds?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('takes an injected manifest and secret reader (for other suites)', async () => {
    imds = await startImdsFake({ localIpv4: '127.0.0.1', publicIpv4: '127.0.0.1' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'sipbake-runboot-'));
    const asked: string[] = [];
    const r = await runBoot({
      root: dir,
      imds: { endpoint: imds.endpoint, budgetMs: 2000 },
      manifest: await manifestOf('recorder-lb', { dispatcher: { backend: { host: '127.0.0.1' } } }),
      readSecret: async (ref) => (asked.push(ref.name), 'pw@1'),
    });
    expect(asked).toEqual(['/sipbake/recorder-lb/db-password']);
    expect(r.files).toEqual([path.join(dir, 'etc/kamailio/sipbake-boot.cfg'), path.join(dir, 'etc/sipbake/rtpproxy-boot.env')]);
    expect(await readFile(r.files[0]!, 'utf8')).toContain('#!define SIPBAKE_DB_URL "postgres://kamailio:pw@1@127.0.0.1:5432/kamailio"');
  });
});
