// A Spot interruption notice (IMDS spot/instance-action) drains the instance within EC2's two-minute notice,
// although Auto Scaling has not picked it (its target lifecycle state stays InService).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callsEndingAt } from './support.js';
import { drainSchema } from '../../src/definition/drain-schema.js';
import { runDrain, type DrainEffects } from '../../src/agent/drain.js';
import { SPOT_MARGIN_MS, SPOT_NOTICE_MS } from '../../src/agent/drain-machine.js';
import { spotInterruptionAt } from '../../src/agent/imds.js';
import { lifecycleHook } from '../../src/agent/lifecycle.js';
import type { KamailioRpc } from '../../src/agent/kamailio-rpc.js';
import { createFakeAws, type FakeAwsHandle } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';
import type { FakeInstance } from '../../src/region/model.js';

let h: FakeAwsHandle;
let inst: FakeInstance;
beforeEach(() => {
  // No simulated agent on the instance: the one under test is the only drain.
  h = createFakeAws({ drainAgent: false });
  seedWorld(h.fake, { heartbeat: 60 });
  inst = [...h.fake.instances.values()][0]!;
});
afterEach(() => h.restore());

const kamailio = (endAtSeconds: number[]) => callsEndingAt(h.fake, endAtSeconds);

/** IMDS as the agent reads it: InService throughout; spot/instance-action 404 until the notice at `noticeAt`. */
function effects(k: KamailioRpc, log: string[], health: string[], noticeAt: number): DrainEffects {
  const reclaimAt = noticeAt + SPOT_NOTICE_MS;
  const imds = {
    find: async (p: string) =>
      p === 'spot/instance-action' && h.fake.nowMs >= noticeAt ? JSON.stringify({ action: 'terminate', time: new Date(reclaimAt).toISOString() }) : undefined,
  };
  return {
    now: h.fake.clock.now,
    sleep: (ms) => h.fake.clock.sleep(ms),
    lifecycleState: async () => 'InService',
    spotInterruption: () => spotInterruptionAt(imds),
    kamailio: k,
    health: { open: async () => void health.push('open'), fail: async () => void health.push(`fail@${h.fake.nowMs - noticeAt}`) },
    lifecycle: lifecycleHook({
      autoScaling: h.clients.autoScaling,
      instanceId: inst.InstanceId,
      hookName: 'sipbake-drain',
      fallbackHeartbeatTimeoutSeconds: 60,
      log: (l) => log.push(l),
    }),
    log: (l) => log.push(l),
  };
}

describe('drain on a Spot interruption notice', () => {
  it('drains within the two-minute notice: health fails at the notice, calls past it are cut before EC2 reclaims', async () => {
    const cfg = drainSchema.parse({ maxSeconds: 900, pollSeconds: 5 });
    const noticeAt = h.fake.nowMs + 20_000;
    const log: string[] = [];
    const health: string[] = [];
    const k = kamailio([30, 60, 300]);
    const report = await runDrain(cfg, effects(k, log, health, noticeAt));
    // The drain started at the first poll that saw the notice, and ended SPOT_MARGIN_MS before the reclaim.
    expect(k.drainingSetAt! - noticeAt).toBeLessThanOrEqual(5000);
    expect(report).toMatchObject({ reason: 'deadline', endedNormally: 2, cut: 1 });
    expect(k.drainingSetAt! + report!.drainMs).toBe(noticeAt + SPOT_NOTICE_MS - SPOT_MARGIN_MS);
    expect(health).toEqual(['open', `fail@${k.drainingSetAt! - noticeAt}`]);
    expect(log.join('\n')).toMatch(/Spot interruption notice: EC2 reclaims this instance in \d+ s/);
    expect(log.join('\n')).toMatch(/the Spot interruption notice's two minutes ran out/);
    // Auto Scaling never put it into Terminating:Wait: CompleteLifecycleAction is offered until the reclaim only.
    expect(report!.completed).toBe(false);
    expect(h.fake.nowMs).toBeLessThanOrEqual(noticeAt + SPOT_NOTICE_MS + cfg.pollSeconds * 1000);
  });

  it('calls that end inside the notice end normally', async () => {
    const cfg = drainSchema.parse({ maxSeconds: 900, pollSeconds: 5 });
    const noticeAt = h.fake.nowMs + 10_000;
    const k = kamailio([15, 45]);
    const report = await runDrain(cfg, effects(k, [], [], noticeAt));
    expect(report).toMatchObject({ reason: 'no-calls-left', endedNormally: 2, cut: 0 });
  });

  it('a malformed spot/instance-action is refused with what it was', async () => {
    await expect(spotInterruptionAt({ find: async () => 'not json' })).rejects.toThrow(/spot\/instance-action is not .*"not json"/);
  });
});
