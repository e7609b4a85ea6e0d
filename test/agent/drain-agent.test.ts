import { chmod, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAutoScalingHttpFake, type AutoScalingHttpFake } from '../fakes/autoscaling-http.js';
import { FakeAws } from '../fakes/aws/fake-aws.js';
import type { FakeInstance } from '../../src/region/model.js';
import { seedWorld } from '../../src/region/scenario.js';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { agentNode, agentRoot, FAKE_AWS_ENV, image, type TempRoot } from './support.js';
import { writeBootResult, type BootResult } from '../../src/contract/boot-result.js';
import { setModelTargetHealth } from '../../src/rehearse/model-link.js';

// The bundled drain agent as a child process: IMDSv2 and Auto Scaling fakes on loopback (the latter a wire
// front for the shared AWS fake, its simulated drain agent off, clock following real time), and a stand-in
// kamcmd (a shell script over a state file) so the whole process runs in seconds without Kamailio.
// The live suite (drain.live.test.ts) does the same against real Kamailio and SIPp.

const ASG = 'kamailio-lb-asg';
const HOOK = 'sipbake-drain';

let imds: ImdsFake;
let asg: AutoScalingHttpFake;
let r: TempRoot;
let child: ResultPromise | undefined;
let inst: FakeInstance;
let peer: FakeInstance;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return p;
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

async function until(what: string, pred: () => boolean | Promise<boolean>, ms = 10_000): Promise<number> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return Date.now();
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const KAMCMD = `#!/bin/sh
# stand-in for kamcmd: -s SOCK CMD ARGS…; state in files beside this script
d=$(dirname "$0")
shift 2
case "$1" in
  core.uptime) [ -f "$d/alive" ] || { echo "ERROR: connect_unix_sock: No such file or directory" >&2; exit 255; }; printf '{\\n\\tuptime: 5\\n}\\n' ;;
  pv.shvSet) echo "$4" > "$d/$2"; echo "Ok. Variable set to new value." ;;
  tm.list) ;;
  dlg.stats_active) printf '{\\n\\tstarting: 0\\n\\tconnecting: 0\\n\\tanswering: 0\\n\\tongoing: %s\\n\\tall: %s\\n}\\n' "$(cat $d/dialogs)" "$(cat $d/dialogs)" ;;
  *) echo "error: 500 - command $1 not found" >&2; exit 1 ;;
esac
`;

beforeAll(async () => {
  asg = await startAutoScalingHttpFake();
});
afterAll(async () => {
  await asg.close();
});
afterEach(async () => {
  child?.kill('SIGKILL');
  await child?.catch(() => undefined);
  child = undefined;
  await imds?.close();
  await r?.cleanup();
});

async function startAgent(drain: Record<string, unknown>, boot?: BootResult, env: Record<string, string> = {}) {
  const port = await freePort();
  r = await agentRoot(await image('twilio-relay', { drain: { pollSeconds: 1, healthCheck: { port }, ...drain } }));
  if (boot) await writeBootResult(r.root, boot);
  const kamcmd = path.join(r.root, 'kamcmd');
  await writeFile(kamcmd, KAMCMD);
  await chmod(kamcmd, 0o755);
  await writeFile(path.join(r.root, 'alive'), '');
  await writeFile(path.join(r.root, 'dialogs'), '3\n');
  const fake = new FakeAws({ drainAgent: false });
  // Two instances: the other one is the serving peer new INVITEs are handed to.
  seedWorld(fake, { desired: 2, heartbeat: 60 });
  [inst, peer] = [...fake.instances.values()] as [FakeInstance, FakeInstance];
  asg.use(fake);
  imds = await startImdsFake({ instanceId: inst.InstanceId, lifecycleState: 'InService' });
  const c = execa(agentNode, [r.agent, 'drain'], {
    env: {
      ...FAKE_AWS_ENV,
      SIPBAKE_ROOT: r.root,
      SIPBAKE_IMDS_ENDPOINT: imds.endpoint,
      SIPBAKE_AUTOSCALING_ENDPOINT: asg.endpoint,
      SIPBAKE_EC2_ENDPOINT: asg.endpoint,
      SIPBAKE_KAMCMD: kamcmd,
      ...env,
    },
    reject: false,
    timeout: 60_000,
    all: true,
  });
  child = c;
  await until('the health-check port to open', () => connects(port));
  return { port, kamcmd, child: c };
}

function terminate() {
  imds.setLifecycleState('Terminated');
  asg.fake.beginTermination(inst);
}

/** Terminates the instance, waits for its drain to complete the lifecycle action, stops the agent: its output. */
async function drainToCompletion(c: ResultPromise) {
  terminate();
  await until('CompleteLifecycleAction', () => asg.calls.some((x) => x.action === 'CompleteLifecycleAction' && x.ok));
  c.kill('SIGTERM');
  return c;
}

describe('agent.mjs drain (bundled, child process)', () => {
  it('closes the health port at once, completes the hook only after the last call, and logs the count', async () => {
    const { port, child: c } = await startAgent({ maxSeconds: 60 });
    terminate();
    const flippedAt = Date.now();
    await until('the health-check port to close', async () => !(await connects(port)), 5000);
    expect(await readFile(path.join(r.root, 'draining'), 'utf8')).toBe('1\n');
    // The bundled Auto Scaling and EC2 clients found the peer: Kamailio hands new INVITEs to its private address.
    expect(await readFile(path.join(r.root, 'handoff'), 'utf8')).toBe(`${peer.PrivateIpAddress}\n`);
    expect(asg.calls.filter((x) => x.ok).map((x) => x.action)).toEqual(
      expect.arrayContaining(['DescribeAutoScalingInstances', 'DescribeAutoScalingGroups', 'DescribeInstances']),
    );
    await new Promise((res) => setTimeout(res, 2500));
    expect(asg.calls.some((x) => x.action === 'CompleteLifecycleAction')).toBe(false);
    await writeFile(path.join(r.root, 'dialogs'), '0\n');
    const lastCallEndedAt = Date.now();
    await until('CompleteLifecycleAction', () => asg.calls.some((x) => x.action === 'CompleteLifecycleAction' && x.ok));
    const complete = asg.calls.find((x) => x.action === 'CompleteLifecycleAction')!;
    expect(complete.atMs).toBeGreaterThanOrEqual(lastCallEndedAt);
    expect(complete.params).toMatchObject({
      AutoScalingGroupName: ASG,
      LifecycleHookName: HOOK,
      InstanceId: inst.InstanceId,
      LifecycleActionResult: 'CONTINUE',
    });
    // The shared fake took it: the action for this hook and group ended by that call, and the instance went.
    expect(asg.fake.callsOf('CompleteLifecycleAction').map((x) => x.input)).toEqual([
      {
        AutoScalingGroupName: ASG,
        LifecycleHookName: HOOK,
        InstanceId: inst.InstanceId,
        LifecycleActionResult: 'CONTINUE',
      },
    ]);
    expect(inst.lifecycleAction).toMatchObject({
      LifecycleHookName: HOOK,
      AutoScalingGroupName: ASG,
      endedBy: 'complete',
      result: 'CONTINUE',
    });
    expect(inst.LifecycleState).toBe('Terminated');
    expect(complete.atMs).toBeGreaterThan(flippedAt);
    // The port stays closed after completion (the agent idles until shutdown instead of restarting).
    expect(await connects(port)).toBe(false);
    c.kill('SIGTERM');
    const res = await c;
    expect(res.all).toMatch(/3 call\(s\) ended normally, 0 cut/);
    expect(res.all).toContain(`handing new INVITEs to ${peer.InstanceId} (${peer.PrivateIpAddress})`);
    expect(res.exitCode).toBe(0);
  });

  it('takes the peer network from boot.json: a peer outside it gets no hand-off, and the log names that network', async () => {
    const boot = { ok: true, at: new Date().toISOString(), durationMs: 1, peerNet: '192.0.2.0/24', files: [] };
    const { child: c } = await startAgent({ maxSeconds: 2 }, boot);
    const res = await drainToCompletion(c);
    expect(res.all).toContain('inside the peer network 192.0.2.0/24');
    expect(res.all).not.toContain(`handing new INVITEs to ${peer.InstanceId}`);
  });

  it("with SIPBAKE_ELBV2_ENDPOINT, reads the peers' target health and hands off to the peer's registered port", async () => {
    const { child: c } = await startAgent({ maxSeconds: 2 }, undefined, { SIPBAKE_ELBV2_ENDPOINT: asg.endpoint });
    peer.targetPort = 5080; // an image on another SIP port: the target is registered on it
    await drainToCompletion(c);
    expect(await readFile(path.join(r.root, 'handoff'), 'utf8')).toBe(`${peer.PrivateIpAddress}:5080\n`);
    expect(asg.calls.some((x) => x.action === 'DescribeTargetHealth' && x.ok)).toBe(true);
  });

  it('with SIPBAKE_ELBV2_ENDPOINT, hands no call to a peer its target group marks unhealthy while Auto Scaling still says Healthy', async () => {
    const { child: c } = await startAgent({ maxSeconds: 2 }, undefined, { SIPBAKE_ELBV2_ENDPOINT: asg.endpoint });
    // The NLB's checks failed (a killed Kamailio), written as the rehearsal writes them; Auto Scaling waits out its
    // grace period, so the peer still reads Healthy there.
    setModelTargetHealth(peer, 'unhealthy', asg.fake.nowMs);
    const res = await drainToCompletion(c);
    expect(res.all).toContain('is healthy in its target groups');
    expect(res.all).not.toContain(`handing new INVITEs to ${peer.InstanceId}`);
  });

  it('completes at drain.maxSeconds and reports the calls it cut', async () => {
    const { child: c } = await startAgent({ maxSeconds: 2 });
    terminate();
    await until('CompleteLifecycleAction', () => asg.calls.some((x) => x.action === 'CompleteLifecycleAction' && x.ok));
    expect(inst.lifecycleAction).toMatchObject({ endedBy: 'complete', result: 'CONTINUE' });
    c.kill('SIGTERM');
    const res = await c;
    expect(res.all).toMatch(/maxSeconds \(2 s\) ran out; 0 call\(s\) ended normally, 3 cut/);
  });
});
