// The rehearsal's AWS side without namespaces: the region seeded from twilio-relay's deploy section
// (src/rehearse/region-seed.ts), `sipbake roll`'s engine (runRoll) through real SDK clients on the region's wire
// server (region-clients.ts), and a stand-in for the rig that plays what reflect.ts does: each instance the model launches
// is `initial` at the NLB, then healthy or unhealthy as its image behaves (setModelTargetHealth), and each
// Terminating:Wait instance's drain agent completes its lifecycle action.
// The model's documented behaviours stay on (eventual consistency, lifecycle order); bootSeconds is 0 as in the
// rehearsal (the rig's own boot is the model's Pending).
//
// Negative controls (each run once, then restored):
// - grace 0 in rollWith (grace not set from the measured boot): the slow image, and the good one whose first checks
//   fail while it boots, were rolled back.
// - the "never healthy" image made healthy in play(): the 'rolled back' case failed (outcome succeeded).
// - gateReasons() returning no reason (the gate off): the 'never turn healthy' case failed (the roll ran 2
//   simulated days: the model keeps replacing the unhealthy instances, nobody rolls back).
// - src/region/wire/dispatch.ts with the region's fault check removed: the throttling case failed (one request, ok).
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { realClock, type Clock } from '../../src/aws/clock.js';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { RecordingReporter } from '../../src/core/reporter.js';
import { loadImageOrThrow } from '../../src/definition/load.js';
import { asgHandlers } from '../../src/region/handlers-asg.js';
import { runRoll } from '../../src/roll/run.js';
import { linkClock, setModelTargetHealth } from '../../src/rehearse/model-link.js';
import { wireClients } from '../../src/rehearse/region-clients.js';
import { fleetBootSeconds, graceFromBoot, seedRegion, type SeededRegion } from '../../src/rehearse/region-seed.js';

const root = path.resolve(import.meta.dirname, '../..');
type Behaviour = 'good' | 'never-healthy' | 'slow';
const BOOT_S = 30;
const SLOW_S = 90;

async function seeded(instances = 2): Promise<{ s: SeededRegion; def: Awaited<ReturnType<typeof loadImageOrThrow>>['image'] }> {
  const { image: def } = await loadImageOrThrow(root, 'twilio-relay');
  if (!def.deploy) throw new Error('twilio-relay has no deploy section');
  return { s: seedRegion({ image: def.name, deploy: def.deploy, instances, deregistrationDelaySeconds: 30, hookTimeoutSeconds: 120 }), def };
}

/** The rig's part, once per simulated second: targets follow the image's behaviour; drain agents complete. */
function play(s: SeededRegion, behaviour: Behaviour, seen: Map<string, string>): void {
  const { region, amis } = s;
  const hc = s.tg;
  for (const i of region.instances.values()) {
    if (i.ImageId !== amis.new || i.LifecycleState !== 'InService') continue;
    const age = (region.nowMs - i.launchedAt) / 1000;
    const failsBy = hc.UnhealthyThresholdCount * hc.HealthCheckIntervalSeconds;
    const upAt = BOOT_S + (behaviour === 'slow' ? SLOW_S : 0);
    const healthyBy = upAt + hc.HealthyThresholdCount * hc.HealthCheckIntervalSeconds;
    const state = behaviour !== 'never-healthy' && age >= healthyBy ? 'healthy' : age >= failsBy ? 'unhealthy' : 'initial';
    if (seen.get(i.InstanceId) !== state) setModelTargetHealth(i, state, region.nowMs);
    seen.set(i.InstanceId, state);
  }
  for (const i of region.instances.values())
    if (i.LifecycleState === 'Terminating:Wait' && i.lifecycleAction !== undefined)
      asgHandlers(region).CompleteLifecycleAction?.({
        AutoScalingGroupName: i.asg,
        LifecycleHookName: i.lifecycleAction.LifecycleHookName,
        InstanceId: i.InstanceId,
        LifecycleActionResult: 'CONTINUE',
      });
}

/** Simulated time that plays the rig at every second (deterministic, no real sleeps). */
function drivingClock(s: SeededRegion, behaviour: Behaviour): Clock {
  const seen = new Map<string, string>();
  return {
    now: () => s.region.nowMs,
    sleep: async (ms, signal) => {
      // A roll that never ends (the gate off) fails here rather than spinning: 2 simulated days is far past any bound.
      if (s.region.elapsedSeconds > 2 * 86400) throw new Error('the roll ran for 2 simulated days without ending');
      for (let left = ms; left > 0; left -= 1000) {
        s.region.advance(Math.min(1000, left));
        play(s, behaviour, seen);
      }
      await Promise.resolve();
      signal?.throwIfAborted();
    },
  };
}

function setGrace(s: SeededRegion, seconds: number): void {
  s.asg.HealthCheckGracePeriod = seconds;
}

async function rollWith(behaviour: Behaviour, grace = graceFromBoot(BOOT_S, behaviour === 'slow' ? SLOW_S : 0)) {
  const { s, def } = await seeded();
  setGrace(s, grace);
  const reporter = new RecordingReporter();
  const deploy = def.deploy!;
  const wire = await wireClients(s.region);
  const r = await runRoll(
    { kind: 'roll', image: def.name, deploy, drainMaxSeconds: def.drain.maxSeconds, ami: s.amis.new },
    {
      clients: wire.clients,
      clock: drivingClock(s, behaviour),
      reporter,
      signal: new AbortController().signal,
      renderer: 'silent',
      owner: `sipbake-rehearse@${os.hostname()}:${process.pid}`,
    },
  ).finally(() => wire.close());
  const serving = s.region
    .instancesOf(s.asg.AutoScalingGroupName)
    .filter((i) => i.LifecycleState === 'InService')
    .map((i) => i.ImageId);
  return { r, s, serving, reporter };
}

describe('the rehearsal drives `sipbake roll` on the region model', () => {
  it('a good image: the engine starts a refresh through the wire clients and succeeds; every instance on the new AMI', async () => {
    const { r, s, serving } = await rollWith('good');
    expect(r.summary.outcome, r.summary.reasons.join('; ')).toBe('succeeded');
    expect(r.exitCode).toBe(0);
    expect(serving).toEqual([s.amis.new, s.amis.new]);
    expect(s.region.callsOf('StartInstanceRefresh')).toHaveLength(1);
    expect(s.region.callsOf('CreateLaunchTemplateVersion')).toHaveLength(1);
  });

  it('an image whose instances never turn healthy (--break start, 503): the real gate rolls back; every instance on the old AMI', async () => {
    const { r, s, serving } = await rollWith('never-healthy');
    expect(r.summary.outcome).toBe('rolled-back');
    expect(r.exitCode).toBe(1);
    expect(serving).toEqual([s.amis.old, s.amis.old]);
  });

  it('a slow but good boot (--break slow-boot): within the grace set from the measured boot, the gate accepts it', async () => {
    const { r, s, serving } = await rollWith('slow');
    expect(r.summary.outcome, r.summary.reasons.join('; ')).toBe('succeeded');
    expect(serving).toEqual([s.amis.new, s.amis.new]);
  });

  it('the engine reaches the region over the wire: a throttled call crosses it as Throttling, and the SDK retries it', async () => {
    const { s } = await seeded();
    s.region.faults.add({ command: 'DescribeAutoScalingGroups', error: 'Throttling', message: 'Rate exceeded', times: 1 });
    const wire = await wireClients(s.region);
    try {
      const out = await wire.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [s.asg.AutoScalingGroupName] }));
      expect(out.AutoScalingGroups?.[0]?.Instances).toHaveLength(2);
      const asked = wire.server.requests.filter((q) => q.action === 'DescribeAutoScalingGroups');
      expect(asked.map((q) => q.ok)).toEqual([false, true]);
      expect(asked[0]).toMatchObject({ code: 'Throttling' });
    } finally {
      await wire.close();
    }
  });

  it("the model's clock follows real time at the scale, and the engine's sleeps are scaled down", async () => {
    const { s } = await seeded();
    const link = linkClock(s.region, 100);
    const t0 = link.clock.now();
    const real0 = Date.now();
    await link.clock.sleep(5000);
    const real = Date.now() - real0;
    // 5 model seconds took about 50 ms: the model moved 100× the real time that passed (never less than 5 s).
    expect(link.clock.now() - t0).toBeGreaterThanOrEqual(5000);
    expect(link.clock.now() - t0).toBeGreaterThanOrEqual(real * 100 - 1000);
    expect(realClock).toBeDefined();
  });
});

describe("the grace follows the old fleet's measured boot (--baked: the report's bootSeconds)", () => {
  const fleet = [
    { id: 'i-1', launchedAt: 0, inServiceAt: 4000 },
    { id: 'i-2', launchedAt: 0, inServiceAt: 6500 },
  ];
  it('the slowest launch to InService, without booted images', () => {
    expect(fleetBootSeconds(fleet, new Map())).toBe(6.5);
  });
  it("at least the slowest image's own boot, so the grace covers the reported bootSeconds", () => {
    expect(fleetBootSeconds(fleet, new Map([['i-1', 9.2]]))).toBe(9.2);
    expect(graceFromBoot(fleetBootSeconds(fleet, new Map([['i-1', 9.2]])) * 10, 0)).toBeGreaterThan(2 * 92);
  });
  it('an instance never InService counts as booted at launch (0), not as a negative time', () => {
    expect(fleetBootSeconds([{ id: 'i-1', launchedAt: 5000 }], new Map())).toBe(0);
  });
});
