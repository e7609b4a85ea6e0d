// npm run bench:roll — rolls in simulated time against the AWS fake and writes bench/roll.json.
// 1. For 2, 10 and 50 instances: the tool's total time against the floor from the preferences,
//    batches × (warm-up + healthy threshold × health-check interval) + checkpoint delays + bake time.
//    overheadPolls = (tool − floor) / poll interval. Target ≤ 1.
// 2. With Auto Scaling health replacement on (grace period 300 s, as the fake reports): a bad AMI, one new
//    instance at a time. The time from the first unhealthy new-AMI instance to the rollback start, and from the
//    Nth (maxReplacedInstances) to it. Target: the rollback starts ≤ 1 poll interval after the Nth.
// 3. An alarm at the first checkpoint: time from the alarm to the rollback start. Target ≤ 1 poll interval.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordingReporter } from '../src/core/reporter.js';
import { loadImageOrThrow } from '../src/definition/load.js';
import type { DeployConfig } from '../src/definition/deploy-schema.js';
import { runRoll } from '../src/roll/run.js';
import { createFakeAws } from '../test/fakes/aws/index.js';
import { seedWorld } from '../src/region/scenario.js';
import { healthReplacements } from '../src/region/refresh-engine.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function roll(deploy: DeployConfig, desired: number, spoil?: (h: ReturnType<typeof createFakeAws>, w: ReturnType<typeof seedWorld>) => void) {
  const h = createFakeAws();
  const w = seedWorld(h.fake, { desired, targetGroupArn: deploy.targetGroupArns[0]! });
  w.asg.MaxSize = Math.max(w.asg.MaxSize, desired * 2);
  spoil?.(h, w);
  const t0 = h.fake.nowMs;
  const reporter = new RecordingReporter();
  const r = await runRoll(
    { kind: 'roll', image: 'twilio-relay', deploy, drainMaxSeconds: 900 },
    { clients: h.clients, clock: h.fake.clock, reporter, signal: new AbortController().signal, renderer: 'silent' },
  );
  const calls = h.fake.calls.length;
  h.restore();
  return { r, h, w, t0, calls };
}

async function main(): Promise<void> {
  const { image } = await loadImageOrThrow(root, 'twilio-relay');
  const deploy = image.deploy!;
  const poll = deploy.pollSeconds;
  // A second profile whose floor is not a multiple of the poll interval, so the rounding up to the next poll shows.
  const unaligned: DeployConfig = {
    ...deploy,
    healthyDeadlineSeconds: 607,
    refresh: {
      ...deploy.refresh,
      instanceWarmup: 97,
      maxHealthyPercentage: 150,
      checkpointPercentages: [],
      bakeTime: 0,
    },
  };
  const sizes = [];
  for (const [profile, d] of [
    ['images/twilio-relay.yaml', deploy],
    ['unaligned: warm-up 97 s, max 150 %, no checkpoints, no bake', unaligned],
  ] as const)
    for (const n of [2, 10, 50]) {
      const { r, h, w, t0, calls } = await roll(d, n);
      if (r.summary.outcome !== 'succeeded') throw new Error(`bench roll of ${n} ended ${r.summary.outcome}`);
      const tg = w.tg;
      const toolSeconds = (h.fake.nowMs - t0) / 1000;
      const floorSeconds = r.plan.expectedSeconds;
      sizes.push({
        profile,
        instances: n,
        batches: r.plan.batches.length,
        healthSeconds: tg.HealthyThresholdCount * tg.HealthCheckIntervalSeconds,
        floorSeconds,
        toolSeconds,
        overheadPolls: Math.round(((toolSeconds - floorSeconds) / poll) * 100) / 100,
        awsCalls: calls,
      });
    }
  // Failed gate 1: a bad AMI while Auto Scaling replaces its unhealthy instances (one new instance at a time).
  const replacing: DeployConfig = { ...unaligned, refresh: { ...unaligned.refresh, maxHealthyPercentage: 125 } };
  const sick = await roll(replacing, 4, (h, w) => (h.fake.images.get(w.newAmi.ImageId)!.health = 'unhealthy'));
  const bad = [...sick.h.fake.instances.values()].filter((i) => i.ImageId === sick.w.newAmi.ImageId).sort((a, b) => a.healthAt - b.healthAt);
  const firstUnhealthy = bad[0]!.healthAt;
  const nthUnhealthy = bad[replacing.maxReplacedInstances - 1]!.healthAt;
  const rbCall = sick.h.fake.callsOf('RollbackInstanceRefresh')[0]!.atMs;
  // Failed gate 2: an alarm fires at the first checkpoint (AutoRollback off, so sipbake's own gate acts).
  const alarmDeploy: DeployConfig = {
    ...deploy,
    refresh: { ...deploy.refresh, instanceWarmup: 97, autoRollback: false, alarms: ['sip-5xx'] },
  };
  let firedAt = 0;
  const alarm = await roll(alarmDeploy, 4, (h) => {
    h.fake.setAlarm('sip-5xx', 'OK');
    h.fake.on('checkpoint', () => {
      h.fake.setAlarm('sip-5xx', 'ALARM');
      firedAt = h.fake.nowMs;
    });
  });
  const alarmRb = alarm.r.summary.rollback!.startedAtMs;
  const result = {
    generatedAt: new Date().toISOString(),
    simulated: true,
    profiles: {
      'images/twilio-relay.yaml': {
        pollSeconds: poll,
        healthyDeadlineSeconds: deploy.healthyDeadlineSeconds,
        refresh: deploy.refresh,
      },
      unaligned: { healthyDeadlineSeconds: 607, refresh: unaligned.refresh },
    },
    fake: {
      bootSeconds: 0,
      healthCheckIntervalSeconds: 10,
      healthyThresholdCount: 3,
      deregistrationDelaySeconds: 0,
      drainSeconds: 0,
    },
    sizes,
    gateToRollback: {
      unhealthyAmiWithHealthReplacement: {
        gracePeriodSeconds: 300,
        maxReplacedInstances: replacing.maxReplacedInstances,
        newAmiLaunches: bad.length,
        healthReplacements: healthReplacements(sick.h.fake).length,
        firstUnhealthyToRollbackSeconds: (rbCall - firstUnhealthy) / 1000,
        nthUnhealthyToRollbackSeconds: (rbCall - nthUnhealthy) / 1000,
        polls: Math.round(((rbCall - nthUnhealthy) / 1000 / poll) * 100) / 100,
        outcome: sick.r.summary.outcome,
      },
      alarmAtFirstCheckpoint: {
        seconds: (alarmRb - firedAt) / 1000,
        polls: Math.round(((alarmRb - firedAt) / 1000 / poll) * 100) / 100,
        outcome: alarm.r.summary.outcome,
      },
      targetPolls: 1,
    },
  };
  await writeFile(path.join(root, 'bench/roll.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify({ sizes: result.sizes, gateToRollback: result.gateToRollback }, null, 2));
  const worst = Math.max(
    ...sizes.map((s) => s.overheadPolls),
    result.gateToRollback.unhealthyAmiWithHealthReplacement.polls,
    result.gateToRollback.alarmAtFirstCheckpoint.polls,
  );
  if (worst > 1) {
    console.error(`over target: ${worst} polls > 1`);
    process.exitCode = 1;
  }
}

await main();
