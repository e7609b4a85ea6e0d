// Issue 12: outside callers must get the public media address. Seed 004 on loopback through real Kamailio and
// SIPp; RTPProxy is started with the image's own command line (rendered unit + rtpproxy.env + the
// rtpproxy-boot.env boot writes, expanded as systemd does): the real 3.2.0 when built, else the stand-in that
// reads it the way 3.2.0 does.
// With that argv the SDP both sides get carries the public address; with the old `-l PRIVATE -A PUBLIC` it
// carries the private one (what 3.2.0 did on AWS: 23 of 23 SDPs with a 10.x address).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRtpproxyBootEnv } from '../../src/contract/rtpproxy-args.js';
import { RtpproxyResponder } from '../fakes/rtpproxy.js';
import { RealRtpproxy } from '../../src/try/rtpproxy.js';
import { rtpproxyBinary } from '../../src/try/upstream.js';
import { freePort, runCalls, type LoggedMessage } from '../support/index.js';
import { upRecorderLb, type Lb } from '../sip/recorder-lb.setup.js';
import { unitArgv } from './boot-unit-argv.js';

const PRIVATE = '127.0.43.2';
// A second loopback address stands in for the Elastic IP: SIPp sends nothing to it, and nothing leaves the host.
const PUBLIC = '127.0.43.99';

const sdpC = (m: LoggedMessage | undefined): string | undefined => m?.text.match(/^c=IN IP4 (\S+)$/m)?.[1];

let lb: Lb;
let n = 0;
const mine: { stop(): Promise<unknown> }[] = [];

async function callWith(argv: string[]): Promise<{ toRecorder: string | undefined; toCaller: string | undefined }> {
  await lb.rtpproxy.stop();
  for (const m of mine) await m.stop();
  const bin = rtpproxyBinary();
  const r = bin ? await RealRtpproxy.fromArgv(bin, argv, lb.dir) : await RtpproxyResponder.fromArgv(argv).start();
  mine.push(r);
  const caller = lb.addr.callers[0]!;
  const run = await runCalls({
    dir: lb.dir,
    name: `uac-argv-${++n}`,
    localIp: caller,
    localPort: await freePort(caller),
    remote: `${lb.addr.proxy}:${lb.sipPort}`,
    calls: 1,
    rate: 1,
    timeoutS: 30,
    uac: { holdMs: 50 },
  });
  expect(run.stats?.successful, run.output).toBe(1);
  const callId = run.messages.find((m) => m.direction === 'sent' && m.method === 'INVITE')!.headers['call-id']![0]!;
  const inv = (await Promise.all(lb.recorders.map((u) => u.messages())))
    .flat()
    .find((m) => m.direction === 'received' && m.method === 'INVITE' && m.headers['call-id']?.[0] === callId);
  const ok = run.messages.find((m) => m.direction === 'received' && m.status === 200 && m.headers.cseq?.[0]?.includes('INVITE'));
  return { toRecorder: sdpC(inv), toCaller: sdpC(ok) };
}

beforeAll(async () => {
  lb = await upRecorderLb({
    net: 43,
    // What boot writes on an instance whose 1:1 NAT / Elastic IP is PUBLIC (the function boot uses).
    beforeStart: async ({ tree }) =>
      writeFile(path.join(tree, 'etc/sipbake/rtpproxy-boot.env'), renderRtpproxyBootEnv({ privateIp: PRIVATE, publicIp: PUBLIC })),
  });
});
afterAll(async () => {
  for (const m of mine) await m.stop();
  await lb?.down();
});

describe('RTPProxy started with the unit argv, through real Kamailio', () => {
  it('puts the public address in the SDP both sides get', async () => {
    const { argv } = await unitArgv(lb.tree, 'rtpproxy.service');
    expect(argv).toContain(`${PRIVATE}=${PUBLIC}`);
    const got = await callWith(argv);
    expect(got).toEqual({ toRecorder: PUBLIC, toCaller: PUBLIC });
  });

  it('the old argv (-l PRIVATE -A PUBLIC) would not: the SDP carries the private address', async () => {
    const { argv } = await unitArgv(lb.tree, 'rtpproxy.service');
    const i = argv.indexOf('-l');
    const got = await callWith([...argv.slice(0, i), '-l', PRIVATE, '-A', PUBLIC]);
    expect(got).toEqual({ toRecorder: PRIVATE, toCaller: PRIVATE });
  });
});
