// Every image as shipped (only loopback addresses, free ports and the file backend swapped in) must
// start under the real Kamailio, and so must the documented options. Failures here are template
// findings: see test/sip/FINDINGS.md.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpproxyResponder } from '../fakes/rtpproxy.js';
import { freePort, listImagesForTest, makeTmpDir, renderDefinition, seedDefinition, startKamailio, type TmpDir } from './images-start.support.js';

const PROXY = '127.0.8.2';

describe('rendered images start under the real Kamailio', () => {
  let tmp: TmpDir;
  let rtp: RtpproxyResponder;
  beforeAll(async () => {
    tmp = await makeTmpDir('sipbake-start-');
    rtp = await new RtpproxyResponder({ host: '127.0.8.50', port: await freePort('127.0.8.50') }).start();
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
      tree: img.tree,
      sharedMb: 512,
      privateMb: 16,
      listeners: [{ host: PROXY, port, transport: 'udp' }],
    });
    await kam.stop();
  }

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

  it('twilio-relay with diagnostics.jsonrpc', async () => {
    await startsWith('twilio-relay', 'relay-jsonrpc', { diagnostics: { jsonrpc: true } });
  });

  it('fails loudly when the config is broken (the check itself can fail)', async () => {
    const dir = path.join(tmp.path, 'broken');
    await mkdir(path.join(dir, 'etc/kamailio'), { recursive: true });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, 'etc/kamailio/kamailio.cfg'), '#!KAMAILIO\nrequest_route { no_such_function(); }\n');
    await expect(startKamailio({ tree: dir, sharedMb: 64, privateMb: 8, listeners: [{ host: PROXY, port: 9, transport: 'udp' }] })).rejects.toThrow(
      /exited during start-up/,
    );
  });
});
