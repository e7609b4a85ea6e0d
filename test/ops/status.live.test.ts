// sipbake-status on a live instance while it drains: the pinned Kamailio (first on PATH in the live project) with
// the rendered twilio-relay config, SIPp calls through it, the bundled agent draining against the IMDS and Auto
// Scaling fakes, and the real RTPProxy 3.2.0 holding a session. The bundled `agent.mjs status` must show the drain's
// progress from drain.json, RTPProxy's own session count, and whether a live call is held here.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readKamailioUnit } from '../../src/contract/kamailio-args.js';
import { renderImage } from '../../src/render/index.js';
import { RealRtpproxy } from '../../src/try/rtpproxy.js';
import { rtpproxyBinary } from '../../src/try/upstream.js';
import { seed, repoRoot, variant } from '../render/fixtures.js';
import { startAutoScalingHttpFake, type AutoScalingHttpFake } from '../fakes/autoscaling-http.js';
import { FakeAws } from '../fakes/aws/fake-aws.js';
import { seedWorld } from '../../src/region/scenario.js';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { agentNode, FAKE_AWS_ENV } from '../agent/support.js';
import { activeDialogs, connects, freeSipPort, freeTcpPort, kamcmd, killAll, track, until } from '../agent/live-support.js';

const UAS_HOST = '127.0.0.2';
const SCENARIOS = path.join(import.meta.dirname, '../agent/scenarios');

let tmp: string | undefined;
let asg: AutoScalingHttpFake;
let imds: ImdsFake | undefined;
let rtp: RealRtpproxy | undefined;

beforeAll(async () => {
  asg = await startAutoScalingHttpFake();
});
afterAll(async () => {
  await killAll();
  await asg.close();
});
afterEach(async () => {
  await killAll();
  await rtp?.stop();
  await imds?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('sipbake-status on a draining instance', () => {
  it('shows the drain progress, RTPProxy sessions and the calls it holds', async () => {
    const bin = rtpproxyBinary();
    expect(bin, 'the pinned RTPProxy 3.2.0 (run .ci/setup: it compiles it)').toBeDefined();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sb-ops-'));
    const [kamPort, uasPort, healthPort, rtpPort] = [await freeSipPort(), await freeSipPort(UAS_HOST), await freeTcpPort(), await freeSipPort()];
    const def = variant(await seed('twilio-relay'), {
      name: 'ops-live',
      listen: { udp: kamPort, tcp: kamPort },
      relay: { destination: { domain: UAS_HOST, port: uasPort, transport: 'udp' }, allowedSources: ['127.0.0.0/8'] },
      antiflood: { enabled: false },
      diagnostics: { log: 'stderr', debugLevel: 1 },
      memory: { sharedMb: 64, privateMb: 8, children: 2 },
      drain: { pollSeconds: 1, maxSeconds: 300, healthCheck: { port: healthPort, behaviour: 'close' } },
    });
    def.advertise = { source: 'private-ipv4' };
    const file = path.join(tmp, 'ops-live.yaml');
    await writeFile(file, stringify(def));
    const out = path.join(tmp, 'out');
    await renderImage(repoRoot, file, { out, local: { privateIp: '127.0.0.1', publicIp: '127.0.0.1' } });
    // The media part of the manifest, as a media image's render writes it, pointed at the real RTPProxy below.
    const manifestFile = path.join(out, 'etc/sipbake/image.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, Record<string, unknown>>;
    manifest.rtpproxy = { ...manifest.rtpproxy, enabled: true, controlSocket: `udp:127.0.0.1:${rtpPort}` };
    await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
    rtp = await RealRtpproxy.start({ bin: bin!, host: '127.0.0.1', port: rtpPort, mediaIp: '127.0.0.1', rtpPorts: { min: 42000, max: 42100 }, dir: tmp });
    // One media session, as Kamailio's rtpproxy_offer makes it (U callid addr port from-tag).
    expect(await rtp.command('U ops-live-call 127.0.0.1 40000 ftag1')).toMatch(/^\d+/);

    const ctl = `unix:${out}/run/kamailio/kamailio_ctl`;
    // The image unit's own command line (memory.sharedMb/privateMb of the definition above), as on an instance.
    const [kam = 'kamailio', ...kamArgs] = await readKamailioUnit(out);
    void track(execa(kam, kamArgs, { reject: false, all: true, detached: true }));
    await until('Kamailio to answer on its ctl socket', async () => (await activeDialogs(ctl)) !== undefined, 20_000);
    void track(
      execa('sipp', ['-sf', path.join(SCENARIOS, 'uas-rr.xml'), '-i', UAS_HOST, '-p', String(uasPort), '-nostdin', '-timeout', '120s'], {
        reject: false,
        detached: true,
      }),
    );
    const fake = new FakeAws({ drainAgent: false });
    seedWorld(fake, { desired: 1, heartbeat: 30 });
    const inst = [...fake.instances.values()][0]!;
    asg.use(fake);
    imds = await startImdsFake({ instanceId: inst.InstanceId, lifecycleState: 'InService' });
    const agent = path.join(out, 'usr/local/lib/sipbake/agent.mjs');
    const env = {
      ...FAKE_AWS_ENV,
      SIPBAKE_ROOT: out,
      SIPBAKE_IMDS_ENDPOINT: imds.endpoint,
      SIPBAKE_AUTOSCALING_ENDPOINT: asg.endpoint,
      SIPBAKE_KAMCMD: 'kamcmd',
    };
    void track(execa(agentNode, [agent, 'drain'], { env, reject: false, detached: true }));
    await until('the health-check port to open', () => connects(healthPort), 15_000);
    void track(
      execa(
        'sipp',
        [
          '-sf',
          path.join(SCENARIOS, 'uac-rr.xml'),
          `127.0.0.1:${kamPort}`,
          '-i',
          '127.0.0.1',
          '-p',
          '0',
          '-m',
          '2',
          '-l',
          '2',
          '-r',
          '10',
          '-d',
          '60000',
          '-nostdin',
          '-timeout',
          '120s',
        ],
        { reject: false, detached: true },
      ),
    );
    await until('2 established dialogs', async () => ((await activeDialogs(ctl)) === 2 ? true : undefined), 20_000);
    const callId = /call-id:\s*(\S+)/.exec((await kamcmd(ctl, 'dlg.list')) ?? '')?.[1];
    expect(callId).toBeDefined();

    imds.setLifecycleState('Terminated');
    asg.fake.beginTermination(inst);
    const drainFile = path.join(out, 'run/sipbake/drain.json');
    await until('drain.json to say draining', async () => /"state": "draining"/.test(await readFile(drainFile, 'utf8').catch(() => '')), 15_000);

    const status = (...args: string[]) => execa(agentNode, [agent, 'status', ...args], { env, reject: false, timeout: 20_000 });
    const s = await status('--call', callId!);
    expect(s.exitCode, s.stdout + s.stderr).toBe(0);
    expect(s.stdout).toMatch(/^Kamailio\s+up \d+ s$/m);
    expect(s.stdout).toMatch(/^Active dialogs\s+2$/m);
    expect(s.stdout).toMatch(/^Drain\s+DRAINING/m);
    expect(s.stdout).toMatch(/^ {2}progress {7}agent draining, lifecycle Terminated, started .*deadline .*\(\d+ s left\)/m);
    expect(s.stdout).toMatch(/^ {2}calls {10}2 call\(s\) left/m);
    expect(s.stdout).toMatch(new RegExp(`^RTPProxy\\s+up: 1 active session\\(s\\).*\\(udp:127\\.0\\.0\\.1:${rtpPort}\\)$`, 'm'));
    expect(s.stdout).toMatch(new RegExp(`^Call\\s+${callId!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: HELD HERE, confirmed`, 'm'));
    const elsewhere = await status('--call', 'not-here@127.0.0.9');
    expect(elsewhere.exitCode).toBe(4);
    expect(elsewhere.stdout).toMatch(/^Call\s+not-here@127\.0\.0\.9: NOT HERE/m);
    console.log(s.stdout);
  });
});
