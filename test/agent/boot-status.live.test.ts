// `sipbake-status` on a live instance: seed 004 from its rendered tree on loopback (real Kamailio, SIPp
// recorders), booted by the bundled agent against the IMDS fake, then the tree's own usr/local/bin/sipbake-status
// run as the operator would, during a call and with one recorder stopped.
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { freePort, startSipp } from '../support/index.js';
import { upRecorderLb, type Lb } from '../sip/recorder-lb.setup.js';
import { FAKE_AWS_ENV, agentNode } from './support.js';

let lb: Lb;
let imds: ImdsFake;
const bootLog: string[] = [];

async function status(...args: string[]) {
  return execa('sh', [path.join(lb.tree, 'usr/local/bin/sipbake-status'), ...args], {
    env: { SIPBAKE_ROOT: lb.tree, SIPBAKE_KAMCMD: 'kamcmd' },
    reject: false,
    timeout: 15_000,
  });
}

beforeAll(async () => {
  lb = await upRecorderLb({
    net: 41,
    beforeStart: async ({ tree }) => {
      imds = await startImdsFake({ localIpv4: '127.0.41.2' });
      const r = await execa(agentNode, [path.join(tree, 'usr/local/lib/sipbake/agent.mjs'), 'boot'], {
        env: { ...FAKE_AWS_ENV, SIPBAKE_ROOT: tree, SIPBAKE_IMDS_ENDPOINT: imds.endpoint },
        reject: false,
        timeout: 30_000,
      });
      bootLog.push(r.stderr);
      if (r.exitCode !== 0) throw new Error(`boot failed: ${r.stderr}`);
    },
  });
});
afterAll(async () => {
  await lb?.down();
  await imds?.close();
});

describe('sipbake-status against a live Kamailio', () => {
  it('shows Kamailio up, an active dialog, both destinations, the drain state and the last boot', async () => {
    const caller = lb.addr.callers[0]!;
    // One call held for 6 s while status runs.
    const call = startSipp({
      dir: lb.dir,
      name: 'held',
      role: 'uac',
      localIp: caller,
      localPort: await freePort(caller),
      remote: `${lb.addr.proxy}:${lb.sipPort}`,
      calls: 1,
      rate: 1,
      timeoutS: 30,
      uac: { holdMs: 6000 },
    });
    const p = await call;
    try {
      let out = '';
      for (let i = 0; i < 30; i++) {
        out = (await status()).stdout;
        if (/Active dialogs\s+1\b/.test(out)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(out).toMatch(/^sipbake-status: recorder-lb$/m);
      expect(out).toMatch(/^Kamailio\s+up \d+ s$/m);
      expect(out).toMatch(/^Active dialogs\s+1$/m);
      expect(out).toMatch(/^Drain\s+not draining/m);
      expect(out).toMatch(/^Destinations\s+2\/2 active$/m);
      expect(out).toContain(`sip:${lb.addr.recorders[0]}:${lb.recorderPorts[0]}`);
      expect(out).toMatch(/^Last boot\s+ok at .*private 127\.0\.41\.2, advertised 127\.0\.41\.2 \(private-ipv4\), peers 127\.0\.0\.0\/8$/m);
      expect(out).toContain('journalctl -u sipbake-boot -u kamailio');
      expect(out.split('\n').length).toBeLessThan(25); // one screen
    } finally {
      await p.waitExit(20_000);
    }
  });

  it('shows the drain flag and a stopped recorder going inactive; --json for scripts', async () => {
    await lb.kamcmd('pv.shvSet', 'draining', 'int', '1');
    await lb.kamcmd('pv.shvSet', 'handoff', 'str', '10.0.1.7');
    await lb.recorders[1]!.stop();
    try {
      let out = '';
      for (let i = 0; i < 40; i++) {
        out = (await status()).stdout;
        if (/Destinations\s+1\/2 active/.test(out)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(out).toMatch(/^Drain\s+DRAINING \(new calls handed to 10\.0\.1\.7\)/m);
      expect(out).toMatch(/^Destinations\s+1\/2 active$/m);
      // Probing marks it trying (T) then inactive (I) after the threshold; either way not active.
      expect(out).toMatch(new RegExp(`sip:${lb.addr.recorders[1].replace(/\./g, '\\.')}:${lb.recorderPorts[1]}\\S*\\s+[TI]P\\s+(trying|inactive), probing`));
      const j = await status('--json');
      expect(j.exitCode).toBe(0);
      const doc = JSON.parse(j.stdout);
      expect(doc).toMatchObject({ kamailio: { up: true }, draining: true, boot: { ok: true } });
      expect(doc.destinations).toHaveLength(2);
    } finally {
      await lb.kamcmd('pv.shvSet', 'draining', 'int', '0');
      await lb.startRecorder(1);
    }
  });

  it('says Kamailio is down (exit 3) when the ctl socket does not answer', async () => {
    const r = await execa(agentNode, [path.join(lb.tree, 'usr/local/lib/sipbake/agent.mjs'), 'status'], {
      env: { SIPBAKE_ROOT: '/nonexistent', SIPBAKE_KAMCMD: 'kamcmd' },
      reject: false,
      timeout: 15_000,
    });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toMatch(/^Kamailio\s+DOWN/m);
    expect(r.stdout).toMatch(/^Last boot\s+no result file/m);
  });
});
