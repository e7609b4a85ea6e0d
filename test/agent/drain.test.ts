import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainSchema } from '../../src/definition/drain-schema.js';
import { runDrain, type DrainEffects } from '../../src/agent/drain.js';
import { lifecycleHook } from '../../src/agent/lifecycle.js';
import type { KamailioRpc } from '../../src/agent/kamailio-rpc.js';
import { callsEndingAt } from './support.js';
import { createFakeAws, FAKE_EPOCH, type FakeAwsHandle } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';
import type { FakeInstance } from '../../src/region/model.js';

// The drain loop against the shared stateful AWS fake (simulated clock), a scripted Kamailio and a
// recorded health port. The fake's own simulated drain agent is off: the agent under test is the only one
// that completes the lifecycle action, and the hook (60 s) times out unless its heartbeats extend it.

let h: FakeAwsHandle;
let inst: FakeInstance;
const HOOK = 'sipbake-drain';
const ASG = 'kamailio-lb-asg';

beforeEach(() => {
  h = createFakeAws({ drainAgent: false });
  seedWorld(h.fake, { heartbeat: 60 });
  inst = [...h.fake.instances.values()][0]!;
});
afterEach(() => h.restore());

const scriptedKamailio = (endAtSeconds: number[]) => callsEndingAt(h.fake, endAtSeconds);

function effects(kamailio: KamailioRpc, log: string[], health: string[], fallbackHeartbeatTimeoutSeconds = 120): DrainEffects {
  return {
    now: h.fake.clock.now,
    sleep: (ms) => h.fake.clock.sleep(ms),
    // What IMDS says: the *target* state, Terminated, once the instance is picked for termination.
    lifecycleState: async () => imdsState(),
    kamailio,
    health: {
      open: async () => void health.push(`open@${h.fake.elapsedSeconds}`),
      fail: async () => void health.push(`fail@${h.fake.elapsedSeconds}`),
    },
    lifecycle: lifecycleHook({
      autoScaling: h.clients.autoScaling,
      instanceId: inst.InstanceId,
      hookName: HOOK,
      fallbackHeartbeatTimeoutSeconds,
      log: (l) => log.push(l),
    }),
    log: (l) => log.push(l),
  };
}

const imdsState = () => (inst.LifecycleState === 'InService' || inst.LifecycleState === 'Pending' ? 'InService' : 'Terminated');
const lifecycleCalls = () => h.fake.calls.filter((c) => /LifecycleAction/.test(c.command));

describe('runDrain against the AWS fake', () => {
  it('waits for the last call, heartbeats past the hook timeout, then completes CONTINUE for its own instance and hook', async () => {
    const cfg = drainSchema.parse({ maxSeconds: 900, pollSeconds: 5 });
    const log: string[] = [];
    const health: string[] = [];
    h.fake.advance(10_000);
    const k = scriptedKamailio([10, 40, 95]);
    // Termination starts at t=30 s of simulated time.
    const begin = h.fake.nowMs + 20_000;
    const origNow = h.fake.clock.now;
    const fx = effects(k, log, health);
    fx.lifecycleState = async () => {
      if (origNow() >= begin && inst.LifecycleState === 'InService') h.fake.beginTermination(inst);
      return imdsState();
    };
    const report = await runDrain(cfg, fx);
    const drainStart = k.drainingSetAt!;
    expect(report).toMatchObject({ completed: true, reason: 'no-calls-left', endedNormally: 3, cut: 0 });
    const calls = lifecycleCalls();
    const complete = calls.filter((c) => c.command === 'CompleteLifecycleAction');
    expect(complete).toHaveLength(1);
    expect(complete[0]!.input).toEqual({
      AutoScalingGroupName: ASG,
      LifecycleHookName: HOOK,
      InstanceId: inst.InstanceId,
      LifecycleActionResult: 'CONTINUE',
    });
    // The fake accepted it: the action the termination started (this hook, this group) ended by that call.
    expect(inst.lifecycleAction).toMatchObject({
      LifecycleHookName: HOOK,
      AutoScalingGroupName: ASG,
      endedBy: 'complete',
      result: 'CONTINUE',
      endedAt: complete[0]!.atMs,
    });
    expect(inst.LifecycleState).toBe('Terminated');
    // It waited past the hook's 60 s HeartbeatTimeout: only the heartbeats kept the action open that long.
    expect(complete[0]!.atMs - inst.lifecycleAction!.startedAt).toBeGreaterThan(60_000);
    // Not before the last call (95 s after the drain started) ended.
    expect(complete[0]!.atMs - drainStart).toBeGreaterThanOrEqual(95_000);
    // Hook timeout 60 s → a heartbeat every 30 s while waiting.
    const beats = calls.filter((c) => c.command === 'RecordLifecycleActionHeartbeat');
    expect(beats.map((b) => (b.atMs - drainStart) / 1000)).toEqual([30, 60, 90]);
    expect(beats.map((b) => b.input)).toEqual(beats.map(() => ({ AutoScalingGroupName: ASG, LifecycleHookName: HOOK, InstanceId: inst.InstanceId })));
    expect(inst.lifecycleAction!.heartbeats).toEqual(beats.map((b) => b.atMs));
    // Open while serving; failed in the same poll that saw the termination, never reopened.
    expect(health).toEqual(['open@10', `fail@${(drainStart - FAKE_EPOCH) / 1000}`]);
    expect(log.join('\n')).toMatch(/3 call\(s\) ended normally, 0 cut/);
  });

  it('completes at drain.maxSeconds and reports the calls it cut', async () => {
    const cfg = drainSchema.parse({ maxSeconds: 60, pollSeconds: 5 });
    h.fake.beginTermination(inst);
    const log: string[] = [];
    const k = scriptedKamailio([10, 500, 600]);
    const report = await runDrain(cfg, effects(k, log, []));
    expect(report).toMatchObject({ completed: true, reason: 'deadline', endedNormally: 1, cut: 2 });
    const complete = lifecycleCalls().find((c) => c.command === 'CompleteLifecycleAction')!;
    expect((complete.atMs - k.drainingSetAt!) / 1000).toBe(60);
    // The heartbeat at 30 s moved the hook's timeout from 60 s to 90 s, so the completion at 60 s was in time.
    expect(inst.lifecycleAction).toMatchObject({
      endedBy: 'complete',
      heartbeats: [k.drainingSetAt! + 30_000],
      timeoutAt: k.drainingSetAt! + 90_000,
    });
    expect(log.join('\n')).toMatch(/maxSeconds \(60 s\) ran out; 1 call\(s\) ended normally, 2 cut/);
  });

  it("AWS's order: calls end during the deregistration delay; completes only once Terminating:Wait comes, never giving up at a small count", async () => {
    const cfg = drainSchema.parse({ maxSeconds: 900, pollSeconds: 5 });
    const log: string[] = [];
    // Step 1: target state Terminated (IMDS); the load balancer deregisters for 300 s; only then the hook's action.
    let imds = 'InService';
    h.fake.at(h.fake.nowMs + 300_000, () => h.fake.beginTermination(inst));
    imds = 'Terminated';
    const k = scriptedKamailio([10, 20]);
    const fx = effects(k, log, []);
    fx.lifecycleState = async () => imds;
    const report = await runDrain(cfg, fx);
    const complete = lifecycleCalls().filter((c) => c.command === 'CompleteLifecycleAction');
    expect(report).toMatchObject({ completed: true, reason: 'no-calls-left', endedNormally: 2, cut: 0 });
    // Refused ("No active Lifecycle Action") from the last call (20 s) to the action (300 s), offered with a
    // back-off (half the 5 s poll, 2.5 s, doubling to 15 s), then accepted: under 20 calls, not one per poll (56).
    expect(complete.length).toBeGreaterThan(5);
    expect(complete.length).toBeLessThan(20);
    const accepted = complete.at(-1)!;
    expect((accepted.atMs - k.drainingSetAt!) / 1000).toBeGreaterThanOrEqual(300);
    expect((accepted.atMs - k.drainingSetAt!) / 1000).toBeLessThanOrEqual(340);
    expect(inst.lifecycleAction).toMatchObject({ endedBy: 'complete', result: 'CONTINUE' });
    expect(log.join('\n')).toMatch(/no lifecycle action yet/);
    expect(log.join('\n')).not.toMatch(/giving up/);
  });

  it('a Kamailio that answers slowly (timeouts) but is still running is waited for, not declared down', async () => {
    const cfg = drainSchema.parse({ maxSeconds: 900, pollSeconds: 5 });
    h.fake.beginTermination(inst);
    const k = scriptedKamailio([60]);
    const slowUntil = h.fake.nowMs + 40_000;
    k.alive = async () => h.fake.nowMs >= slowUntil;
    const report = await runDrain(cfg, effects(k, [], []));
    expect(report).toMatchObject({ completed: true, reason: 'no-calls-left', cut: 0 });
  });

  it('keeps retrying CompleteLifecycleAction through throttling', async () => {
    const cfg = drainSchema.parse({ maxSeconds: 60, pollSeconds: 5 });
    h.fake.beginTermination(inst);
    h.fake.faults.add({ command: 'CompleteLifecycleAction', error: 'ThrottlingException', times: 2 });
    const report = await runDrain(cfg, effects(scriptedKamailio([]), [], []));

    expect(report?.completed).toBe(true);
    expect(lifecycleCalls().filter((c) => c.command === 'CompleteLifecycleAction')).toHaveLength(3);
    expect(inst.lifecycleAction).toMatchObject({ endedBy: 'complete', result: 'CONTINUE' });
  });

  it('falls back to the configured heartbeat timeout when the hook is missing, and says so', async () => {
    h.fake.asgs.get(ASG)!.hooks = [];
    for (const tg of h.fake.targetGroups.values()) tg.deregistrationDelay = 300;
    // Without a hook Auto Scaling does not wait for the agent: Terminating only for the deregistration delay.
    h.fake.beginTermination(inst);
    expect(inst.LifecycleState).toBe('Terminating');
    const cfg = drainSchema.parse({ maxSeconds: 200, pollSeconds: 5, heartbeatTimeoutSeconds: 100 });
    const log: string[] = [];
    const k = scriptedKamailio([120]);
    const report = await runDrain(cfg, effects(k, log, [], cfg.heartbeatTimeoutSeconds));
    expect(log.join('\n')).toMatch(/lifecycle hook sipbake-drain not found on kamailio-lb-asg/);
    // There is no lifecycle action to heartbeat or complete: AWS refuses both; the agent offers the completion
    // until the drain deadline plus one hook timeout, then gives up cleanly.
    expect(report).toMatchObject({ completed: false });
    expect(log.join('\n')).toMatch(/giving up on CompleteLifecycleAction/);
    const beats = lifecycleCalls().filter((c) => c.command === 'RecordLifecycleActionHeartbeat');
    expect(beats.slice(0, 2).map((b) => (b.atMs - k.drainingSetAt!) / 1000)).toEqual([50, 100]);
    expect((h.fake.nowMs - k.drainingSetAt!) / 1000).toBeLessThanOrEqual(300);
  });
});
