// Every image as shipped (only loopback addresses, free ports and the file backend swapped in) must
// start under the real Kamailio, and so must the documented options. Failures here are template
// findings: see test/sip/FINDINGS.md.
// Twice: under the Kamailio first on PATH (the pinned 5.5.7 the AMI runs, when .ci/setup built it) and under
// Debian's 5.6.3 (/usr/sbin/kamailio), so the rendered configs stay valid on both.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { KAMAILIO_UNIT, kamailioUnitCommands } from '../../src/contract/kamailio-args.js';
import { RtpproxyResponder } from '../fakes/rtpproxy.js';
import { RealRtpproxy } from '../../src/try/rtpproxy.js';
import { rtpproxyBinary } from '../../src/try/upstream.js';
import { freePort, listImagesForTest, makeTmpDir, renderDefinition, seedDefinition, startKamailio, type TmpDir } from './images-start.support.js';

const PROXY = '127.0.8.2';

const DEBIAN = '/usr/sbin/kamailio';
const BINARIES: [string, string | undefined][] = [
  ['the kamailio first on PATH', undefined],
  ...(existsSync(DEBIAN) ? ([["Debian's kamailio 5.6", DEBIAN]] as [string, string][]) : []),
];

describe.each(BINARIES)('rendered images start under %s', (_label, bin) => {
  let tmp: TmpDir;
  let rtp: RtpproxyResponder | RealRtpproxy;
  beforeAll(async () => {
    tmp = await makeTmpDir('sipbake-start-');
    const host = '127.0.8.50';
    const rtpBin = rtpproxyBinary();
    rtp = rtpBin
      ? await RealRtpproxy.start({ bin: rtpBin, host, port: await freePort(host), mediaIp: host, rtpPorts: { min: 42000, max: 42999 }, dir: tmp.path })
      : await new RtpproxyResponder({ host, port: await freePort(host) }).start();
  });
  afterAll(async () => {
    await rtp?.stop();
    await tmp?.remove();
  });

  async function startsWith(name: string, label: string, over: Record<string, unknown>): Promise<void> {
    const dir = path.join(tmp.path, label);
    await mkdir(dir);
    const port = await freePort(PROXY);
    const def = await seedDefinition(name, {
      listen: { udp: port, tcp: port },
      advertise: { source: 'private-ipv4', elasticIp: undefined },
      drain: { healthCheck: { port: await freePort(PROXY) } },
      ...over,
    });
    const ds = def.dispatcher as Record<string, unknown> | undefined;
    if (ds) ds.backend = { type: 'file' };
    if ((def.media as { rtpproxy?: { enabled?: boolean } } | undefined)?.rtpproxy?.enabled) def.media = { rtpproxy: { enabled: true, controlSocket: rtp.url } };
    const img = await renderDefinition(dir, def, { privateIp: PROXY, publicIp: PROXY });
    const kam = await startKamailio({
      ...(bin ? { bin } : {}),
      tree: img.tree,
      sharedMb: 512,
      privateMb: 16,
      listeners: [{ host: PROXY, port, transport: 'udp' }],
    });
    await kam.stop();
  }

  it('runs the Kamailio it names', () => {
    const banner = execFileSync(bin ?? 'kamailio', ['-v'], { encoding: 'utf8' }).split('\n')[0] ?? '';
    if (bin === DEBIAN) expect(banner).toMatch(/kamailio 5\.6\./);
    else expect(banner).toMatch(process.env.SIPBAKE_UPSTREAM_DIR ? /kamailio 5\.5\.7/ : /kamailio \d/);
  });

  it('lists every shipped image, so the it.each below is never empty', () => {
    expect(listImagesForTest()).toEqual(expect.arrayContaining(['recorder-lb', 'twilio-relay']));
  });

  it.each(listImagesForTest())('%s as shipped', async (name) => {
    await startsWith(name, `${name}-shipped`, {});
  });

  it('recorder-lb with antiflood.exempt (is_in_subnet needs ipops)', async () => {
    await startsWith('recorder-lb', 'lb-exempt', {
      antiflood: { exempt: ['10.1.0.0/16'] },
      diagnostics: { jsonrpc: false },
    });
  });

  it('twilio-relay with widened initial methods, no header stripping, antiflood counting upstream too', async () => {
    await startsWith('twilio-relay', 'relay-dataplane', {
      relay: { initialMethods: ['INVITE', 'MESSAGE', 'OPTIONS'], stripHeaders: [], allowedSources: ['127.0.8.0/24'] },
      antiflood: { exemptUpstream: false, requestsDensity: 50 },
      capacity: { callsPerSecond: 20 },
    });
  });

  it('recorder-lb with its destinations counted by antiflood and a higher rated rate', async () => {
    await startsWith('recorder-lb', 'lb-dataplane', {
      antiflood: { exemptUpstream: false },
      dispatcher: { initialMethods: ['INVITE', 'OPTIONS'] },
      capacity: { callsPerSecond: 1000 },
      diagnostics: { jsonrpc: false },
    });
  });

  it('twilio-relay with RTPProxy (failure_route[MEDIA_FREE], route[MEDIA_ADMIT])', async () => {
    await startsWith('twilio-relay', 'relay-media', { media: { rtpproxy: { enabled: true, controlSocket: rtp.url } } });
  });

  it('twilio-relay with diagnostics.jsonrpc', async () => {
    await startsWith('twilio-relay', 'relay-jsonrpc', { diagnostics: { jsonrpc: true } });
  });

  it('fails loudly when the config is broken (the check itself can fail)', async () => {
    const dir = path.join(tmp.path, 'broken');
    await mkdir(path.join(dir, 'etc/kamailio'), { recursive: true });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, 'etc/kamailio/kamailio.cfg'), '#!KAMAILIO\nrequest_route { no_such_function(); }\n');
    // Runners start the unit's own command line (src/contract/kamailio-args.ts), so the tree needs its unit too.
    await mkdir(path.join(dir, path.dirname(KAMAILIO_UNIT)), { recursive: true });
    await writeFile(path.join(dir, KAMAILIO_UNIT), `[Service]\nExecStart=${kamailioUnitCommands({ sharedMb: 64, privateMb: 8 }).execStart}\n`);
    await expect(
      startKamailio({ ...(bin ? { bin } : {}), tree: dir, sharedMb: 64, privateMb: 8, listeners: [{ host: PROXY, port: 9, transport: 'udp' }] }),
    ).rejects.toThrow(/exited during start-up/);
  });
});
