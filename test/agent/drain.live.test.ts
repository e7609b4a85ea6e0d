import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readKamailioUnit } from '../../src/contract/kamailio-args.js';
import { renderImage } from '../../src/render/index.js';
import { seed, repoRoot, variant } from '../render/fixtures.js';
import { startAutoScalingHttpFake, type AutoScalingHttpFake } from '../fakes/autoscaling-http.js';
import { FakeAws } from '../fakes/aws/fake-aws.js';
import type { FakeInstance } from '../../src/region/model.js';
import { seedWorld } from '../../src/region/scenario.js';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { agentNode, FAKE_AWS_ENV } from './support.js';
import { activeDialogs, connects, kamcmd, freeSipPort, freeTcpPort, killAll, sendInvite, track, until } from './live-support.js';

// Issue 7 with real Kamailio and SIPp on loopback: calls through the rendered twilio-relay config to a
// SIPp UAS, the bundled agent from the rendered tree, IMDSv2 and Auto Scaling fakes. One Kamailio per test.

const ASG = 'kamailio-lb-asg';
const HOOK = 'sipbake-drain';
const UAS_HOST = '127.0.0.2';
// SIPp's built-in uac/uas ignore Record-Route; these keep ACK and BYE on the proxy, as real phones do.
const SCENARIOS = path.join(import.meta.dirname, 'scenarios');

let tmp: string;
let asg: AutoScalingHttpFake;
let imds: ImdsFake;
let inst: FakeInstance;
let agentLog = '';

beforeAll(async () => {
  asg = await startAutoScalingHttpFake();
});
afterAll(async () => {
  await killAll();
  await asg.close();
});
afterEach(async () => {
  await killAll();
  await imds?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Rig {
  out: string;
  ctl: string;
  kamPort: number;
  uasPort: number;
  healthPort: number;
  agent: ResultPromise<{ reject: false; all: true }>;
}

async function rig(drain: Record<string, unknown>): Promise<Rig> {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sipbake-drain-live-'));
  const [kamPort, uasPort, healthPort] = [await freeSipPort(), await freeSipPort(UAS_HOST), await freeTcpPort()];
  const def = variant(await seed('twilio-relay'), {
    name: 'drain-live',
    listen: { udp: kamPort, tcp: kamPort },
    advertise: { source: 'private-ipv4' },
    relay: { destination: { domain: UAS_HOST, port: uasPort, transport: 'udp' }, allowedSources: ['127.0.0.0/8'] },
    antiflood: { enabled: false },
    diagnostics: { log: 'stderr', debugLevel: 1 },
    memory: { sharedMb: 256, privateMb: 16, children: 4 },
    drain: { pollSeconds: 1, healthCheck: { port: healthPort, behaviour: 'close' }, ...drain },
  });
  def.advertise = { source: 'private-ipv4' }; // replace, not merge: the seed's elasticIp must go
  const file = path.join(tmp, 'drain-live.yaml');
  await writeFile(file, stringify(def));
  const out = path.join(tmp, 'out');
  await renderImage(repoRoot, file, { out, local: { privateIp: '127.0.0.1', publicIp: '127.0.0.1' } }).catch((e: unknown) => {
    throw new Error(`render failed: ${String(e)} ${JSON.stringify((e as { details?: unknown }).details)}`);
  });
  const ctl = `unix:${out}/run/kamailio/kamailio_ctl`;
  // The image unit's own command line (memory.sharedMb/privateMb of the definition above), as on an instance.
  const [kamBin = 'kamailio', ...kamArgs] = await readKamailioUnit(out);
  const kam = track(
    execa(kamBin, kamArgs, {
      reject: false,
      all: true,
      detached: true,
    }),
  );
  let kamLog = '';
  kam.all?.on('data', (d: Buffer) => (kamLog = (kamLog + d.toString()).slice(-4000)));
  await until('Kamailio to answer on its ctl socket', async () => (await activeDialogs(ctl)) !== undefined, 20_000).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${kamLog}`);
  });
  // Stopped by killAll in afterAll; track() already handles its settling.
  void track(
    execa('sipp', ['-sf', path.join(SCENARIOS, 'uas-rr.xml'), '-i', UAS_HOST, '-p', String(uasPort), '-nostdin', '-timeout', '170s'], {
      reject: false,
      all: true,
      detached: true,
    }),
  );

  // The shared AWS fake behind the loopback Auto Scaling API: its clock follows real time, so the 30 s hook
  // times out unless the agent's heartbeats extend it; its own simulated drain agent is off.
  const fake = new FakeAws({ drainAgent: false });
  seedWorld(fake, { desired: 1, heartbeat: 30 });
  inst = [...fake.instances.values()][0]!;
  asg.use(fake);
  imds = await startImdsFake({ instanceId: inst.InstanceId, lifecycleState: 'InService' });
  const agent = track(
    execa(agentNode, [path.join(out, 'usr/local/lib/sipbake/agent.mjs'), 'drain'], {
      env: {
        ...FAKE_AWS_ENV,
        SIPBAKE_ROOT: out,
        SIPBAKE_IMDS_ENDPOINT: imds.endpoint,
        SIPBAKE_AUTOSCALING_ENDPOINT: asg.endpoint,
        SIPBAKE_KAMCMD: 'kamcmd',
      },
      reject: false,
      all: true,
      detached: true,
    }),
  );
  agentLog = '';
  agent.all?.on('data', (d: Buffer) => (agentLog = (agentLog + d.toString()).slice(-6000)));
  await until('the health-check port to open', () => connects(healthPort), 15_000);
  return { out, ctl, kamPort, uasPort, healthPort, agent };
}

function uac(r: Rig, calls: number, durationMs: number): ResultPromise<{ reject: false; all: true }> {
  return track(
    execa(
      'sipp',
      [
        '-sf',
        path.join(SCENARIOS, 'uac-rr.xml'),
        `127.0.0.1:${r.kamPort}`,
        '-i',
        '127.0.0.1',
        '-p',
        String(0),
        '-m',
        String(calls),
        '-l',
        String(calls),
        '-r',
        '10',
        '-d',
        String(durationMs),
        '-nostdin',
        '-timeout',
        '170s',
        '-timeout_error',
      ],
      { reject: false, all: true, detached: true },
    ),
  );
}

function startTermination(): number {
  imds.setLifecycleState('Terminated');
  asg.fake.beginTermination(inst);
  return Date.now();
}

const completion = () => asg.calls.find((c) => c.action === 'CompleteLifecycleAction' && c.ok);

describe('drain with real Kamailio and SIPp', () => {
  it('20 calls of 60 s all end with BYE/200; new INVITEs get 503; the hook completes after the last call', async () => {
    const r = await rig({
      maxSeconds: 300,
      newInvites: { code: 503, reason: 'Service Unavailable - draining', retryAfter: 30 },
    });
    const calls = uac(r, 20, 60_000);
    await until('20 established dialogs', async () => ((await activeDialogs(r.ctl)) === 20 ? true : undefined), 20_000);
    const drainAt = startTermination();

    // The health-check port stops accepting as soon as the drain starts (one poll).
    const closedAt = await until('the health-check port to close', async () => (!(await connects(r.healthPort)) ? Date.now() : undefined), 5_000, 50);
    // A new call is turned away with 503 and Retry-After, and never reaches the UAS.
    const probe = await until(
      'a drained INVITE answer',
      async () => {
        const a = await sendInvite({ host: '127.0.0.1', port: r.kamPort }, { host: '127.0.0.1' });
        return a && a.status !== 100 ? a : undefined;
      },
      5_000,
    );
    expect(probe.status).toBe(503);
    expect(probe.text).toMatch(/^Retry-After: 30\r$/m);

    // Watch the dialog count: the last moment a call was still up.
    let lastUpAt = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const n = await activeDialogs(r.ctl);
        if (n !== undefined && n > 0) lastUpAt = Date.now();
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const uacResult = await calls;
    const done = await until('CompleteLifecycleAction', () => completion(), 15_000).catch(async (e: unknown) => {
      throw new Error(`${String(e)}; dialogs now ${await kamcmd(r.ctl, 'dlg.stats_active')}\nagent:\n${agentLog}`);
    });
    watching = false;
    await watcher;

    expect(uacResult.exitCode, uacResult.all).toBe(0); // every call ended with BYE/200, none failed
    const cumulative = (name: string) => Number(new RegExp(`${name}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`).exec(uacResult.all)?.[1]);
    expect(cumulative('Successful call')).toBe(20);
    expect(cumulative('Failed call')).toBe(0);
    expect(uacResult.all).toMatch(/BYE ---------->\s+20\s+0\s+0\s+200 <----------\s+20/);
    expect(done.atMs).toBeGreaterThan(lastUpAt);
    expect(done.atMs - drainAt).toBeGreaterThan(50_000);
    expect(done.params).toMatchObject({
      AutoScalingGroupName: ASG,
      LifecycleHookName: HOOK,
      InstanceId: inst.InstanceId,
      LifecycleActionResult: 'CONTINUE',
    });
    expect(asg.calls.filter((c) => c.action === 'RecordLifecycleActionHeartbeat' && c.ok).length).toBeGreaterThanOrEqual(2);
    // Completed, not timed out: over 50 s against a 30 s hook, so the heartbeats kept the action open.
    expect(inst.lifecycleAction).toMatchObject({
      LifecycleHookName: HOOK,
      AutoScalingGroupName: ASG,
      endedBy: 'complete',
      result: 'CONTINUE',
    });
    r.agent.kill('SIGTERM');
    const log = (await r.agent).all;
    expect(log).toMatch(/20 call\(s\) ended normally, 0 cut/);
    console.log(
      `drain: health port closed ${closedAt - drainAt} ms after the flip; hook completed ${done.atMs - drainAt} ms after the flip, ${done.atMs - lastUpAt} ms after the last call was seen up`,
    );
  });

  it('calls longer than drain.maxSeconds: completes at the deadline and reports them as cut', async () => {
    const r = await rig({ maxSeconds: 5 });
    void uac(r, 5, 120_000);
    await until('5 established dialogs', async () => ((await activeDialogs(r.ctl)) === 5 ? true : undefined), 20_000);
    const drainAt = startTermination();
    const done = await until('CompleteLifecycleAction', () => completion(), 20_000);
    expect(done.atMs - drainAt).toBeGreaterThanOrEqual(5_000);
    expect(await activeDialogs(r.ctl)).toBe(5);
    r.agent.kill('SIGTERM');
    expect((await r.agent).all).toMatch(/maxSeconds \(\d+ s\) ran out; 0 call\(s\) ended normally, 5 cut/);
  });
});
