// The drain agent's progress file (run/sipbake/drain.json) as the loop runs: the real runDrain against the AWS
// fake (simulated clock), a scripted Kamailio, and the file writer the agent uses. Every write is a whole file.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainSchema } from '../../src/definition/drain-schema.js';
import { runDrain } from '../../src/agent/drain.js';
import { DRAIN_PROGRESS_PATH, drainProgressFile, type DrainProgress } from '../../src/agent/drain-progress.js';
import { lifecycleHook } from '../../src/agent/lifecycle.js';
import { formatStatus } from '../../src/agent/status.js';
import { callsEndingAt } from '../agent/support.js';
import { createFakeAws, type FakeAwsHandle } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';
import type { FakeInstance } from '../../src/region/model.js';

let h: FakeAwsHandle;
let inst: FakeInstance;
let root: string;

beforeEach(async () => {
  // The fake's simulated drain agent is off: the loop under test completes the lifecycle action itself.
  h = createFakeAws({ drainAgent: false });
  seedWorld(h.fake, { heartbeat: 60 });
  inst = [...h.fake.instances.values()][0]!;
  root = await mkdtemp(path.join(tmpdir(), 'sipbake-progress-'));
});
afterEach(async () => {
  h.restore();
  await rm(root, { recursive: true, force: true });
});

const imdsState = () => (inst.LifecycleState === 'InService' || inst.LifecycleState === 'Pending' ? 'InService' : 'Terminated');

describe('drain.json', () => {
  it('follows the drain: serving, draining with deadline and calls left, the lifecycle action, done', async () => {
    const cfg = drainSchema.parse({ maxSeconds: 900, pollSeconds: 5 });
    const k = callsEndingAt(h.fake, [10, 40]);
    const begin = h.fake.nowMs + 20_000;
    const writer = drainProgressFile(root, () => {});
    const seen: DrainProgress[] = [];
    const file = path.join(root, DRAIN_PROGRESS_PATH);
    const report = await runDrain(cfg, {
      now: h.fake.clock.now,
      sleep: (ms) => h.fake.clock.sleep(ms),
      lifecycleState: async () => {
        if (h.fake.clock.now() >= begin && inst.LifecycleState === 'InService') h.fake.beginTermination(inst);
        return imdsState();
      },
      kamailio: k,
      health: { open: async () => {}, fail: async () => {} },
      lifecycle: lifecycleHook({
        autoScaling: h.clients.autoScaling,
        instanceId: inst.InstanceId,
        hookName: 'sipbake-drain',
        fallbackHeartbeatTimeoutSeconds: 120,
        log: () => {},
      }),
      log: () => {},
      progress: async (s, o, p) => {
        await writer(s, o, p);
        seen.push(JSON.parse(await readFile(file, 'utf8')) as DrainProgress);
      },
    });
    expect(report).toMatchObject({ completed: true });
    expect(seen[0]).toMatchObject({ state: 'serving', lifecycle: 'InService', lifecycleAction: 'not-yet' });
    expect(seen[0]).not.toHaveProperty('deadline');
    const draining = seen.find((p) => p.state === 'draining' && p.callsLeft === 2)!;
    expect(draining).toMatchObject({ lifecycle: 'Terminated', lifecycleAction: 'not-yet' });
    expect(Date.parse(draining.deadline!) - Date.parse(draining.started!)).toBe(900_000);
    expect(seen.some((p) => p.state === 'draining' && p.callsLeft === 1)).toBe(true);
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ state: 'done', lifecycleAction: 'completed', outcome: { reason: 'no-calls-left', endedNormally: 2, cut: 0 } });
    // What the operator sees from the last file.
    const screen = formatStatus('twilio-relay', { kamailio: { up: true, uptimeSeconds: 5 }, drainState: last }, Date.parse(last.updated));
    expect(screen).toMatch(/^ {2}progress {7}agent done, lifecycle Terminated, started .*deadline/m);
    expect(screen).toMatch(/^ {2}lifecycle hook completed \(\d+ CompleteLifecycleAction attempt\(s\)\)/m);
    expect(screen).toMatch(/^ {2}outcome {8}no-calls-left: 2 ended normally, 0 cut/m);
  });

  it('a failed write is logged once and does not stop the drain', async () => {
    const log: string[] = [];
    // A root that is a file: the directory cannot be made.
    const bad = path.join(root, 'not-a-dir');
    await import('node:fs/promises').then((fs) => fs.writeFile(bad, ''));
    const w = drainProgressFile(bad, (l) => log.push(l));
    const s = { phase: 'serving' as const, healthOpen: true, peakDialogs: 0, rpcFailures: 0, completeAttempts: 0, noActionAnswers: 0 };
    const p = { maxMs: 1, heartbeatEveryMs: 1, downAfterFailures: 1, completeGraceMs: 1, peerCheckEveryMs: 1 };
    await w(s, { now: 0, kamailioAlive: true }, p);
    await w(s, { now: 1, kamailioAlive: true }, p);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/cannot write .*drain\.json.*sipbake-status will not show the drain/);
  });
});
