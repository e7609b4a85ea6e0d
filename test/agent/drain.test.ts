import { DescribeAutoScalingInstancesCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainSchema } from '../../src/definition/drain-schema.js';
import { runDrain, type DrainEffects } from '../../src/agent/drain.js';
import { lifecycleHook } from '../../src/agent/lifecycle.js';
import type { KamailioRpc } from '../../src/agent/kamailio-rpc.js';
import { createFakeAws, FAKE_EPOCH, type FakeAwsHandle } from '../fakes/aws/index.js';
import { seedWorld } from '../fakes/aws/scenario.js';
import type { FakeInstance } from '../fakes/aws/model.js';

// The drain loop against the shared stateful AWS fake (simulated clock), a scripted Kamailio and a
// recorded health port. The fake does not model DescribeAutoScalingInstances, so a thin adapter answers
// it from the fake's own instances and passes every other command to the fake.

let h: FakeAwsHandle;
let inst: FakeInstance;
const HOOK = 'sipbake-drain';

beforeEach(() => {
  h = createFakeAws({ drainSeconds: 7200 });
  seedWorld(h.fake, { heartbeat: 60 });
  inst = [...h.fake.instances.values()][0]!;
});
afterEach(() => h.restore());

function autoScaling(): Pick<AutoScalingClient, 'send'> {
  const real = h.clients.autoScaling;
  return {
    send: (async (cmd: { input: { InstanceIds?: string[] } }) => {
      if (cmd instanceof DescribeAutoScalingInstancesCommand) {
        const found = (cmd.input.InstanceIds ?? []).map((id) => h.fake.instances.get(id)).filter((i) => i !== undefined);
        return { AutoScalingInstances: found.map((i) => ({ InstanceId: i.InstanceId, AutoScalingGroupName: i.asg, LifecycleState: i.LifecycleState })) };
      }
      const out = await real.send(cmd as never);
      // Real Auto Scaling restarts the hook timeout on a heartbeat; the shared fake does not model that yet.
      if (cmd.constructor.name === 'RecordLifecycleActionHeartbeatCommand') {
        const hook = h.fake.asgs.get(inst.asg)!.hooks.find((x) => x.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING');
        if (hook) inst.terminateAt = h.fake.nowMs + hook.HeartbeatTimeout * 1000;
      }
      return out;
    }) as AutoScalingClient['send'],
  };
}

/** Calls end at the given simulated seconds after the drain starts; `up` is how many are up before. */
function scriptedKamailio(endAtSeconds: number[]): KamailioRpc & { drainingSetAt?: number; startedAt?: number } {
  const k: KamailioRpc & { drainingSetAt?: number } = {
    alive: async () => true,
    setDraining: async () => {
      k.drainingSetAt ??= h.fake.nowMs;
    },
    activeDialogs: async () => {
      const since = k.drainingSetAt === undefined ? 0 : (h.fake.nowMs - k.drainingSetAt) / 1000;
      return endAtSeconds.filter((t) => t > since).length;
    },
  };
  return k;
}

function effects(kamailio: KamailioRpc, log: string[], health: string[], fallbackHeartbeatTimeoutSeconds = 120): DrainEffects {
  return {
    now: h.fake.clock.now,
    sleep: (ms) => h.fake.clock.sleep(ms),
    // What IMDS says: the *target* state, Terminated, once the instance is picked for termination.
    lifecycleState: async () => (inst.LifecycleState.startsWith('Terminating') ? 'Terminated' : 'InService'),
    kamailio,
    health: { open: async () => void health.push(`open@${h.fake.elapsedSeconds}`), fail: async () => void health.push(`fail@${h.fake.elapsedSeconds}`) },
    lifecycle: lifecycleHook({ autoScaling: autoScaling(), instanceId: inst.InstanceId, hookName: HOOK, fallbackHeartbeatTimeoutSeconds, log: (l) => log.push(l) }),
    log: (l) => log.push(l),
  };
}

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
      return inst.LifecycleState.startsWith('Terminating') ? 'Terminated' : 'InService';
    };
    const report = await runDrain(cfg, fx);
    const drainStart = k.drainingSetAt!;
    expect(report).toMatchObject({ completed: true, reason: 'no-calls-left', endedNormally: 3, cut: 0 });
    const calls = lifecycleCalls();
    const complete = calls.filter((c) => c.command === 'CompleteLifecycleAction');
    expect(complete).toHaveLength(1);
    expect(complete[0]!.input).toEqual({ AutoScalingGroupName: 'kamailio-lb-asg', LifecycleHookName: HOOK, InstanceId: inst.InstanceId, LifecycleActionResult: 'CONTINUE' });
    // Not before the last call (95 s after the drain started) ended.
    expect(complete[0]!.atMs - drainStart).toBeGreaterThanOrEqual(95_000);
    // Hook timeout 60 s → a heartbeat every 30 s while waiting.
    const beats = calls.filter((c) => c.command === 'RecordLifecycleActionHeartbeat');
    expect(beats.map((b) => (b.atMs - drainStart) / 1000)).toEqual([30, 60, 90]);
    expect(beats.every((b) => b.input.InstanceId === inst.InstanceId && b.input.LifecycleHookName === HOOK)).toBe(true);
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
    expect(log.join('\n')).toMatch(/maxSeconds \(60 s\) ran out; 1 call\(s\) ended normally, 2 cut/);
  });

  it('keeps retrying CompleteLifecycleAction through throttling', async () => {
    const cfg = drainSchema.parse({ maxSeconds: 60, pollSeconds: 5 });
    h.fake.beginTermination(inst);
    h.fake.faults.add({ command: 'CompleteLifecycleAction', error: 'ThrottlingException', times: 2 });
    const report = await runDrain(cfg, effects(scriptedKamailio([]), [], []));

    expect(report?.completed).toBe(true);
    expect(lifecycleCalls().filter((c) => c.command === 'CompleteLifecycleAction')).toHaveLength(3);
  });

  it('falls back to the configured heartbeat timeout when the hook is missing, and says so', async () => {
    h.fake.asgs.get('kamailio-lb-asg')!.hooks = [];
    inst.LifecycleState = 'Terminating:Wait';
    const cfg = drainSchema.parse({ maxSeconds: 200, pollSeconds: 5, heartbeatTimeoutSeconds: 100 });
    const log: string[] = [];
    const k = scriptedKamailio([120]);
    await runDrain(cfg, effects(k, log, [], cfg.heartbeatTimeoutSeconds));
    expect(log.join('\n')).toMatch(/lifecycle hook sipbake-drain not found on kamailio-lb-asg/);
    const beats = lifecycleCalls().filter((c) => c.command === 'RecordLifecycleActionHeartbeat');
    expect(beats.map((b) => (b.atMs - k.drainingSetAt!) / 1000)).toEqual([50, 100]);
  });
});
