import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { parseRtpproxyArgv, replyAddress, RtpproxyArgvError, RtpproxyResponder } from '../fakes/rtpproxy.js';
import { freePort, makeTmpDir, renderDefinition, seedDefinition, type TmpDir } from '../support/index.js';
import { runAgent } from './support.js';
import { unitArgv } from './boot-unit-argv.js';
import { rtpproxyArgv, rtpproxyFdLimit } from '../../src/contract/rtpproxy-args.js';

// RTPProxy's command line as the image runs it: the rendered unit + rtpproxy.env, and the rtpproxy-boot.env
// the bundled agent writes at boot, expanded the way systemd does. The responder reads that argv as
// RTPProxy 3.2.0 does and answers U with the address 3.2.0 would put in the SDP.

const PRIVATE = '10.0.9.2';
const PUBLIC = '198.51.100.77';
const CTL = '127.0.9.50';

let tmp: TmpDir;
let tree: string;
let imds: ImdsFake;
let ctlPort: number;

async function offer(r: RtpproxyResponder): Promise<string> {
  const s = dgram.createSocket('udp4');
  try {
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
    return await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply')), 2000);
      s.once('message', (m) => (clearTimeout(t), resolve(m.toString())));
      // As Kamailio's rtpproxy module sends an offer (rtpproxy_manage on an INVITE with SDP).
      s.send('7_1 Uc0,8,101 call-1@x 10.1.1.1 4000 from-1;1\n', r.opts.port, r.opts.host);
    });
  } finally {
    s.close();
  }
}

beforeAll(async () => {
  tmp = await makeTmpDir('sipbake-rtpargv-');
  ctlPort = await freePort(CTL);
  const def = await seedDefinition('recorder-lb', {
    listen: { udp: 5080, tcp: 5080 },
    advertise: { source: 'elastic-ip', elasticIp: PUBLIC },
    media: {
      rtpproxy: { enabled: true, controlSocket: `udp:${CTL}:${ctlPort}`, rtpPorts: { min: 20000, max: 29999 } },
    },
  });
  (def.dispatcher as Record<string, unknown>).backend = { type: 'file' };
  tree = (await renderDefinition(tmp.path, def, { privateIp: '127.0.9.2', publicIp: '127.0.9.2' })).tree;
  imds = await startImdsFake({ localIpv4: PRIVATE });
  const res = await runAgent(path.join(tree, 'usr/local/lib/sipbake/agent.mjs'), 'boot', {
    SIPBAKE_ROOT: tree,
    SIPBAKE_IMDS_ENDPOINT: imds.endpoint,
  });
  expect(res.exitCode, res.stderr).toBe(0);
});
afterAll(async () => {
  await imds?.close();
  await tmp?.remove();
});

describe('RTPProxy argv (unit + env files + boot)', () => {
  it('is what src/contract/rtpproxy-args.ts builds: -l PRIVATE=PUBLIC, -d WARN, -L from the calls, -p in the RuntimeDirectory', async () => {
    const { binary, argv, directives } = await unitArgv(tree, 'rtpproxy.service');
    expect(binary).toBe('/usr/local/bin/rtpproxy');
    const settings = {
      controlSocket: `udp:${CTL}:${ctlPort}`,
      rtpPorts: { min: 20000, max: 29999 },
      logLevel: 'WARN' as const,
    };
    expect(argv).toEqual(rtpproxyArgv(settings, { privateIp: PRIVATE, publicIp: PUBLIC }));
    const a = parseRtpproxyArgv(argv);
    expect(a.listen).toEqual([{ address: PRIVATE, advertised: PUBLIC, v6: false }]);
    expect(a.logLevel).toBe('WARN');
    // 10,000 ports hold 2,500 calls; 4 descriptors per call (rtpproxy issue #75) + headroom; the unit grants exactly that.
    expect(a.nofile).toBe(rtpproxyFdLimit(settings));
    expect(a.nofile).toBe(2500 * 4 + 256);
    expect(directives.LimitNOFILE).toEqual([String(a.nofile)]);
    // The pidfile lives in the unit's RuntimeDirectory, which systemd creates owned by User=rtpproxy.
    expect(a.pidFile).toBe('/run/rtpproxy/rtpproxy.pid');
    expect(directives.RuntimeDirectory).toEqual(['rtpproxy']);
    expect(directives.User).toEqual(['rtpproxy']);
    expect(await readFile(path.join(tree, 'etc/sipbake/rtpproxy-boot.env'), 'utf8')).toBe(`RTPPROXY_ADDR_OPTS="-l ${PRIVATE}=${PUBLIC}"\n`);
  });

  it('the responder started with the unit argv answers the public address (what goes into SDP c=)', async () => {
    const { argv } = await unitArgv(tree, 'rtpproxy.service');
    const r = await RtpproxyResponder.fromArgv(argv).start();
    try {
      expect(r.opts.host).toBe(CTL);
      const reply = await offer(r);
      expect(reply).toMatch(new RegExp(`^7_1 \\d+ ${PUBLIC.replace(/\./g, '\\.')}\\n$`));
    } finally {
      await r.stop();
    }
  });

  it('the old argv (-l PRIVATE -A PUBLIC) gets the private address back: 3.2.0 ignores -A outside bridge mode', async () => {
    const { argv } = await unitArgv(tree, 'rtpproxy.service');
    const i = argv.indexOf('-l');
    const old = [...argv.slice(0, i), '-l', PRIVATE, '-A', PUBLIC];
    const r = await RtpproxyResponder.fromArgv(old).start();
    try {
      const reply = await offer(r);
      expect(reply.trim().split(' ')[2]).toBe(PRIVATE);
      expect(reply).not.toContain(PUBLIC);
    } finally {
      await r.stop();
    }
  });
});

describe('parseRtpproxyArgv (3.2.0 rules)', () => {
  it.each([
    [['-l', '10.0.0.1'], '10.0.0.1'],
    [['-l', '10.0.0.1=1.2.3.4'], '1.2.3.4'],
    [['-l', '10.0.0.1', '-A', '1.2.3.4'], '10.0.0.1'],
    [['-l', '10.0.0.1/10.1.0.1', '-A', '1.2.3.4/5.6.7.8'], '1.2.3.4'],
    [['-l', '*'], undefined],
    [[], undefined],
  ])('%j answers %s', (argv, addr) => {
    expect(replyAddress(parseRtpproxyArgv(argv))).toBe(addr);
  });

  it('bridge mode: the e flag picks the external side', () => {
    expect(replyAddress(parseRtpproxyArgv(['-l', '10.0.0.1/10.1.0.1', '-A', '1.2.3.4/5.6.7.8']), 'ei')).toBe('5.6.7.8');
  });

  it.each([
    [['-x'], /invalid option/],
    [['-l'], /requires an argument/],
    [['-d', 'NOISY'], /invalid log level/],
    [['-l', '10.0.0.1/10.1.0.1=1.2.3.4'], /cannot have an advertized/],
    [['-l', '10.0.0.1', '-l', '10.0.0.2'], /label is missing/],
  ])('refuses %j as 3.2.0 does', (argv, msg) => {
    expect(() => parseRtpproxyArgv(argv)).toThrow(RtpproxyArgvError);
    expect(() => parseRtpproxyArgv(argv)).toThrow(msg);
  });
});
