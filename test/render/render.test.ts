import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, readdir, mkdir, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { renderImage } from '../../src/render/index.js';
import { UserError } from '../../src/core/errors.js';
import { repoRoot, seed, tempRoot, variant } from './fixtures.js';

async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(path.relative(dir, path.join(e.parentPath, e.name)), await readFile(path.join(e.parentPath, e.name), 'utf8'));
  }
  return out;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function root(images: Record<string, object>) {
  const r = await tempRoot(images);
  cleanups.push(r.cleanup);
  return r.root;
}

describe('render', () => {
  it('renders the same definition to byte-identical trees', async () => {
    const r = await root({});
    const a = await renderImage(repoRoot, 'recorder-lb', { out: path.join(r, 'a') });
    const b = await renderImage(repoRoot, 'recorder-lb', { out: path.join(r, 'b') });
    const ta = await tree(a.outDir);
    const tb = await tree(b.outDir);
    expect([...ta.keys()].sort()).toEqual([...tb.keys()].sort());
    for (const [k, v] of ta) expect(tb.get(k), k).toBe(v);
  });

  it('bakes nothing per-instance: no boot include, no addresses of the local run, no secret values', async () => {
    const r = await root({});
    const { outDir, plan } = await renderImage(repoRoot, 'recorder-lb', { out: path.join(r, 'baked') });
    const files = await tree(outDir);
    expect(files.has('etc/kamailio/sipbake-boot.cfg')).toBe(false);
    expect(files.has('etc/sipbake/rtpproxy-boot.env')).toBe(false);
    const cfg = files.get('etc/kamailio/kamailio.cfg')!;
    expect(cfg).toContain('listen=udp:SIPBAKE_PRIVATE_IP:5080 advertise SIPBAKE_PUBLIC_IP:5080');
    expect(cfg).toContain('modparam("dispatcher", "db_url", SIPBAKE_DB_URL)');
    // The SSM parameter is named in the manifest, so the agent can read it at boot; no value anywhere.
    const manifest = JSON.parse(files.get('etc/sipbake/image.json')!);
    expect(manifest.dispatcher.backend.password).toEqual({ source: 'ssm', name: '/sipbake/recorder-lb/db-password' });
    expect(manifest.modules).toEqual(plan.modules);
    expect(plan.modules).toEqual(expect.arrayContaining(['dispatcher', 'db_postgres', 'rtpproxy', 'nathelper', 'pike', 'htable', 'dialog', 'jsonrpcs']));
    expect(plan.modules).not.toContain('tls');
    for (const [name, text] of files) expect(text, name).not.toMatch(/postgres:\/\/[^"@\s${}]+:[^"@\s${}]+@/); // a literal user:password, not code that builds one
  });

  it('writes Kamailio dispatcher SQL with the version rows from its own schema', async () => {
    const r = await root({});
    const { outDir } = await renderImage(repoRoot, 'recorder-lb', { out: path.join(r, 't') });
    const sql = await readFile(path.join(outDir, 'usr/share/sipbake/dispatcher.sql'), 'utf8');
    expect(sql).toContain("INSERT INTO version (table_name, table_version) VALUES ('dispatcher', '4')");
    expect(sql).toContain("(1, 'sip:10.0.0.3:5060;transport=udp', 0, 0, 'weight=75', 'recorder0')");
    expect(sql).toContain("(1, 'sip:10.0.0.4:5080;transport=tcp', 0, 0, 'weight=25', 'recorder1')");
  });

  it('writes a dispatcher.list for the file backend and loads neither db_postgres nor its URL', async () => {
    const def = variant(await seed('recorder-lb'), { name: 'recorder-file' });
    (def.dispatcher as Record<string, unknown>).backend = { type: 'file' };
    const r = await root({ 'recorder-file': def });
    const { outDir, plan } = await renderImage(r, 'recorder-file', { out: path.join(r, 't') });
    const list = await readFile(path.join(outDir, 'etc/kamailio/dispatcher.list'), 'utf8');
    expect(list).toContain('1 sip:10.0.0.3:5060;transport=udp 0 0 weight=75');
    expect(plan.modules).not.toContain('db_postgres');
    expect(await readFile(path.join(outDir, 'etc/kamailio/kamailio.cfg'), 'utf8')).toContain('modparam("dispatcher", "list_file", SIPBAKE_DS_LIST)');
  });

  it('--local writes the boot include for loopback with the tree as root', async () => {
    const r = await root({});
    const out = path.join(r, 'local');
    await renderImage(repoRoot, 'twilio-relay', { out, local: { privateIp: '127.0.0.2', publicIp: '127.0.0.3' } });
    const inc = await readFile(path.join(out, 'etc/kamailio/sipbake-boot.cfg'), 'utf8');
    expect(inc).toContain('#!define SIPBAKE_PRIVATE_IP 127.0.0.2\n');
    expect(inc).toContain('#!define SIPBAKE_PUBLIC_IP 127.0.0.3\n');
    expect(inc).toContain('#!define SIPBAKE_PEER_NET "127.0.0.0/8"\n');
    expect(inc).toContain(`#!define SIPBAKE_CTL_SOCK "unix:${out}/run/kamailio/kamailio_ctl"`);
    expect(existsSync(path.join(out, 'run/kamailio'))).toBe(true);
  });

  it('leaves nothing at --out when the definition is invalid, and keeps an earlier tree intact', async () => {
    const base = await seed('twilio-relay');
    const r = await root({ broken: variant(base, { name: 'broken', listen: { udp: 70000 } }) });
    const out = path.join(r, 'out');
    await expect(renderImage(r, 'broken', { out })).rejects.toBeInstanceOf(UserError);
    expect(existsSync(out)).toBe(false);
    await mkdir(out);
    await writeFile(path.join(out, 'keep'), 'x');
    await expect(renderImage(r, 'broken', { out })).rejects.toBeInstanceOf(UserError);
    expect(await readdir(out)).toEqual(['keep']);
    expect((await readdir(r)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('leaves nothing behind when a template fails half-way', async () => {
    const r = await root({ relay: variant(await seed('twilio-relay'), { name: 'relay' }) });
    await writeFile(path.join(r, 'templates/systemd/kamailio.service.eta'), '<% throw new Error("boom") %>');
    const out = path.join(r, 'out');
    await expect(renderImage(r, 'relay', { out })).rejects.toThrow(/templates\/systemd\/kamailio.service.eta: .*boom/);
    expect(existsSync(out)).toBe(false);
    expect((await readdir(r)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    await rm(out, { recursive: true, force: true });
  });
});
