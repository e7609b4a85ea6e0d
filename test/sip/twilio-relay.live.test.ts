// Seed 000 on loopback: the rendered twilio-relay config relays calls from allowed sources to the one
// destination (a SIPp UAS), stays in the path through Record-Route, refuses other sources, and
// advertises its public address (127.0.1.3) while it listens on the private one (127.0.1.2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  makeTmpDir,
  renderDefinition,
  runCalls,
  seedDefinition,
  startKamailio,
  startUas,
  type LoggedMessage,
  type ManagedProcess,
  type TmpDir,
  type Uas,
} from '../support/index.js';

const PRIVATE = '127.0.1.2';
const PUBLIC = '127.0.1.3';
const UAS = '127.0.1.10';
const CALLER = '127.0.1.20'; // inside allowedSources (127.0.1.16/28)
const STRANGER = '127.0.1.66'; // outside it

const first = (m: LoggedMessage, h: string): string => m.headers[h]?.[0] ?? '';

async function bringUp(tmp: TmpDir, onDisallowed: 'reject' | 'drop', sub: string) {
  const { mkdir } = await import('node:fs/promises');
  const dir = `${tmp.path}/${sub}`;
  await mkdir(dir);
  const [sipPort, uasPort] = [await freePort(PRIVATE), await freePort(UAS)];
  const def = await seedDefinition('twilio-relay', {
    listen: { udp: sipPort, tcp: sipPort },
    advertise: { source: 'elastic-ip', elasticIp: PUBLIC },
    relay: {
      destination: { domain: UAS, port: uasPort, transport: 'udp' },
      allowedSources: ['127.0.1.16/28'],
      onDisallowed,
      recordRoute: true,
    },
    diagnostics: { log: 'stderr', debugLevel: 1 },
    memory: { children: 2 },
    drain: { healthCheck: { port: await freePort(PRIVATE) } },
  });
  const img = await renderDefinition(dir, def, { privateIp: PRIVATE, publicIp: PUBLIC });
  const uas = await startUas({ dir, name: 'uas', localIp: UAS, localPort: uasPort });
  const kam = await startKamailio({
    tree: img.tree,
    sharedMb: 64,
    privateMb: 8,
    listeners: [{ host: PRIVATE, port: sipPort, transport: 'udp' }],
    logFile: `${dir}/kamailio.log`,
  });
  return { dir, sipPort, uasPort, uas, kam };
}

describe('twilio-relay (seed 000) through real Kamailio', () => {
  let tmp: TmpDir;
  let kam: ManagedProcess | undefined;
  let uas: Uas | undefined;
  let dir = '';
  let sipPort = 0;

  beforeAll(async () => {
    tmp = await makeTmpDir('sipbake-relay-');
    ({ kam, uas, dir, sipPort } = await bringUp(tmp, 'reject', 'reject'));
  });
  afterAll(async () => {
    await kam?.stop();
    await uas?.stop();
    await tmp?.remove();
  });

  it('completes INVITE/200/ACK/BYE through the proxy, with ACK and BYE following the Record-Route', async () => {
    const run = await runCalls({
      dir,
      name: 'uac-ok',
      localIp: CALLER,
      localPort: await freePort(CALLER),
      remote: `${PRIVATE}:${sipPort}`,
      calls: 3,
      rate: 5,
      timeoutS: 20,
    });
    expect(run.stats?.failed, run.output).toBe(0);
    expect(run.stats?.successful).toBe(3);
    expect(run.exit.code).toBe(0);
    const got = (await uas!.messages()).filter((m) => m.direction === 'received');
    for (const method of ['INVITE', 'ACK', 'BYE']) {
      const ms = got.filter((m) => m.method === method);
      expect(ms.length, `${method}s at the UAS`).toBeGreaterThanOrEqual(3);
      // Each one was relayed: the proxy's Via on top, the caller's below it.
      for (const m of ms) {
        expect(first(m, 'via')).toMatch(new RegExp(`^SIP/2\\.0/UDP ${PUBLIC.replace(/\./g, '\\.')}:${sipPort}`));
        expect(m.headers.via?.some((v) => v.includes(CALLER))).toBe(true);
      }
    }
    // The caller was told to route ACK and BYE through the proxy's advertised address.
    const ok = run.messages.find((m) => m.direction === 'received' && m.status === 200 && first(m, 'cseq').includes('INVITE'));
    expect(first(ok!, 'record-route')).toContain(`${PUBLIC}:${sipPort}`);
    const bye = run.messages.find((m) => m.direction === 'sent' && m.method === 'BYE');
    expect(first(bye!, 'route')).toContain(PUBLIC);
  });

  it('advertises the public address in Via and Record-Route, never the private one', async () => {
    const invites = await uas!.invites();
    expect(invites.length).toBeGreaterThan(0);
    for (const inv of invites) {
      expect(first(inv, 'record-route')).toContain(`sip:${PUBLIC}:${sipPort}`);
      // The headers the proxy writes never route to the private address (To/R-URI are the caller's own).
      // Record-Route carries it only as the instance token (sbinst=), which peers use to forward a
      // dialog's requests to their owner inside the VPC; nothing outside can reach that address.
      const priv = new RegExp(`${PRIVATE.replace(/\./g, '\\.')}(?!\\d)`); // 127.0.1.2 but not 127.0.1.20
      for (const v of inv.headers.via ?? []) expect(v).not.toMatch(priv);
      for (const v of inv.headers['record-route'] ?? []) {
        expect(v).toContain(`;sbinst=${PRIVATE};`);
        expect(v.replace(`;sbinst=${PRIVATE};`, ';')).not.toMatch(priv);
      }
    }
  });

  it('refuses a source outside allowedSources with 403, and the UAS never sees it', async () => {
    const before = (await uas!.invites()).length;
    const run = await runCalls({
      dir,
      name: 'uac-stranger',
      localIp: STRANGER,
      localPort: await freePort(STRANGER),
      remote: `${PRIVATE}:${sipPort}`,
      calls: 1,
      rate: 1,
      timeoutS: 10,
    });
    expect(
      run.messages.some((m) => m.direction === 'received' && m.status === 403),
      run.output,
    ).toBe(true);
    expect(run.stats?.successful).toBe(0);
    const after = await uas!.invites();
    expect(after.length).toBe(before);
    expect(after.some((m) => m.headers.via?.some((v) => v.includes(STRANGER)))).toBe(false);
  });

  it('drops (no answer at all) a source outside allowedSources when onDisallowed is drop', async () => {
    const other = await bringUp(tmp, 'drop', 'drop');
    try {
      const run = await runCalls({
        dir: other.dir,
        name: 'uac-stranger',
        localIp: STRANGER,
        localPort: await freePort(STRANGER),
        remote: `${PRIVATE}:${other.sipPort}`,
        calls: 1,
        rate: 1,
        timeoutS: 8,
        recvTimeoutMs: 2500,
      });
      expect(run.messages.filter((m) => m.direction === 'received')).toEqual([]);
      expect(run.stats?.successful).toBe(0);
      expect(await other.uas.invites()).toEqual([]);
      // The same proxy still relays an allowed caller.
      const ok = await runCalls({
        dir: other.dir,
        name: 'uac-ok',
        localIp: CALLER,
        localPort: await freePort(CALLER),
        remote: `${PRIVATE}:${other.sipPort}`,
        calls: 1,
        rate: 1,
        timeoutS: 10,
      });
      expect(ok.stats?.successful, ok.output).toBe(1);
    } finally {
      await other.kam.stop();
      await other.uas.stop();
    }
  });
});
