import { describe, expect, it } from 'vitest';
import { deploySchema } from '../../src/definition/deploy-schema.js';
import { preflight } from '../../src/roll/preflight.js';
import { planBatches, planRoll } from '../../src/roll/plan.js';
import type { Observed } from '../../src/roll/types.js';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg/1';
const deploy = deploySchema.parse({ region: 'us-east-1', asgName: 'asg', targetGroupArns: [TG] });
const tags = (image: string) => ({ 'sipbake:image': image, 'sipbake:content-hash': 'h' });

function healthy(): Observed {
  return {
    group: {
      name: 'asg',
      desired: 2,
      min: 2,
      max: 10,
      healthCheckType: 'ELB',
      healthCheckGracePeriod: 0,
      targetGroupArns: [TG],
      launchTemplate: { id: 'lt-1', name: 'lt', version: '4' },
      mixedInstancesPolicy: false,
      instances: [],
      tags: {},
    },
    current: { ltId: 'lt-1', version: 4, imageId: 'ami-0000000a', httpTokens: 'required' },
    currentAmi: { imageId: 'ami-0000000a', name: 'a', state: 'available', architecture: 'x86_64', tags: tags('relay') },
    target: { imageId: 'ami-0000000b', name: 'b', state: 'available', architecture: 'x86_64', tags: tags('relay') },
    targetGroups: [{ arn: TG, name: 'tg', intervalSeconds: 10, healthyThreshold: 3, deregistrationDelay: 1000 }],
    missingTargetGroups: [],
    hooks: [
      {
        name: 'sipbake-drain',
        transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeout: 1000,
        defaultResult: 'CONTINUE',
      },
    ],
    refreshes: [],
    missingAlarms: [],
  };
}

const input = (obs: Observed) => ({ obs, image: 'relay', deploy, drainMaxSeconds: 900, amiId: 'ami-0000000b', nowMs: Date.parse('2026-01-01T00:00:00Z') });

describe('roll preflight (pure)', () => {
  it('passes a group like the reference deployment', () => {
    expect(preflight(input(healthy())).filter((f) => f.level !== 'ok')).toEqual([]);
  });

  it.each<[string, (o: Observed) => void, string, RegExp]>([
    ['no group', (o) => delete o.group, 'groupExists', /does not exist in us-east-1/],
    [
      'launch configuration',
      (o) => {
        delete o.group!.launchTemplate;
        o.group!.launchConfigurationName = 'lc';
      },
      'usesLaunchTemplate',
      /launch configuration lc/,
    ],
    ['$Latest', (o) => (o.group!.launchTemplate!.version = '$Latest'), 'pinnedVersion', /Version=4/],
    ['$Default', (o) => (o.group!.launchTemplate!.version = '$Default'), 'pinnedVersion', /Version=4/],
    ['EC2 health checks', (o) => (o.group!.healthCheckType = 'EC2'), 'healthCheckIsElb', /--health-check-type ELB/],
    ['no target group', (o) => (o.group!.targetGroupArns = []), 'targetGroupAttached', /attach-load-balancer-target-groups/],
    [
      'active foreign refresh',
      (o) => {
        const refresh = { id: 'r1', status: 'InProgress', percentageComplete: 0, instancesToUpdate: 2, checkpoints: [] };
        o.refreshes.push(refresh);
        o.active = { refresh }; // observe() derives it once from the refreshes
      },
      'noActiveRefresh',
      /cancel-instance-refresh/,
    ],
    ['AMI pending', (o) => (o.target!.state = 'pending'), 'amiUsable', /wait until the bake finishes/],
    ['AMI gone', (o) => (o.target!.state = 'missing'), 'amiUsable', /sipbake history relay/],
    ['AMI of another image', (o) => (o.target!.tags = tags('recorder')), 'amiOfThisImage', /sipbake history relay/],
    ['AMI without tags', (o) => (o.target!.tags = {}), 'amiOfThisImage', /sipbake history relay/],
    ['arm64 AMI on x86', (o) => (o.target!.architecture = 'arm64'), 'sameArchitecture', /same architecture/],
    ['IMDSv1 allowed', (o) => (o.current!.httpTokens = 'optional'), 'requiresImdsV2', /HttpTokens":"required"/],
    ['unknown alarm', (o) => (o.missingAlarms = ['x']), 'alarmsExist', /deploy.refresh.alarms/],
  ])('refuses %s with a fix', (_name, spoil, check, fix) => {
    const o = healthy();
    spoil(o);
    const found = preflight({
      ...input(o),
      deploy: check === 'alarmsExist' ? { ...deploy, refresh: { ...deploy.refresh, alarms: ['x'] } } : deploy,
    }).filter((f) => f.level === 'refuse');
    expect(found.map((f) => f.check)).toEqual([check]);
    expect(`${found[0]!.message}; fix: ${found[0]!.fix}`).toMatch(fix);
  });

  it('creates a missing hook with a timeout above drain.maxSeconds, or only warns when told not to', () => {
    const o = healthy();
    o.hooks = [];
    expect(preflight(input(o)).find((f) => f.check === 'terminationHook')).toMatchObject({
      level: 'act',
      message: expect.stringMatching(/heartbeat timeout 960 s ≥ drain.maxSeconds 900 s/),
    });
    const noCreate = { ...deploy, lifecycleHook: { name: 'h', create: false } };
    expect(preflight({ ...input(o), deploy: noCreate }).find((f) => f.check === 'terminationHook')).toMatchObject({
      level: 'warn',
      fix: expect.stringMatching(/put-lifecycle-hook/),
    });
  });

  it('warns when the deregistration delay is shorter than the drain', () => {
    const o = healthy();
    o.targetGroups[0]!.deregistrationDelay = 300;
    expect(preflight(input(o)).find((f) => f.check === 'deregistrationDelay')).toMatchObject({
      level: 'warn',
      fix: expect.stringMatching(/Value=900/),
    });
  });
});

describe('roll plan (pure)', () => {
  it.each([
    // desired, min, max, checkpoints → batches (launch/terminate)
    [2, 100, 200, [], [[2, 2]]],
    [10, 100, 200, [], [[10, 10]]],
    [
      10,
      100,
      150,
      [],
      [
        [5, 5],
        [5, 5],
      ],
    ],
    [
      4,
      100,
      200,
      [50, 100],
      [
        [2, 2],
        [2, 2],
      ],
    ],
    // terminate-first: one out of service and one extra at a time, so two replacements in flight
    [
      10,
      90,
      110,
      [],
      [
        [2, 3],
        [2, 2],
        [2, 2],
        [2, 2],
        [2, 1],
      ],
    ],
    [
      2,
      50,
      100,
      [],
      [
        [1, 2],
        [1, 0],
      ],
    ],
  ])('%i instances at min %i%% max %i%% checkpoints %j', (d, min, max, cps, want) => {
    expect(planBatches(d, d, min, max, cps).map((b) => [b.launch, b.terminate])).toEqual(want);
  });

  it('is a no-op when the AMI is already live, and sets every preference explicitly', () => {
    const o = healthy();
    const p = planRoll({ ...input(o), amiId: 'ami-0000000a', obs: { ...o, target: o.currentAmi! } });
    expect(p.mode).toBe('noop');
    expect(p.batches).toEqual([]);
    expect(Object.keys(p.preferences).sort()).toEqual(
      [
        'AutoRollback',
        'BakeTime',
        'InstanceWarmup',
        'MaxHealthyPercentage',
        'MinHealthyPercentage',
        'ScaleInProtectedInstances',
        'SkipMatching',
        'StandbyInstances',
      ].sort(),
    );
  });

  it('expects batches × (warm-up + healthy threshold × interval) + checkpoint delays + bake time', () => {
    const d = deploySchema.parse({
      region: 'us-east-1',
      asgName: 'asg',
      targetGroupArns: [TG],
      refresh: { checkpointPercentages: [50, 100], checkpointDelay: 300, bakeTime: 60, instanceWarmup: 120 },
    });
    const p = planRoll({ ...input(healthy()), deploy: d });
    expect(p.batches).toHaveLength(2);
    // Per batch: warm-up + health, then the old instance leaves in AWS's order: the whole 1000 s
    // deregistration delay, then one agent poll (5 s) until it completes the hook.
    expect(p.expectedSeconds).toBe(2 * (120 + 30 + 1000 + 5) + 300 + 60);
  });

  it('advises on the deregistration delay from the real order: media on the instance needs it to cover the drain; a relay wants it short', () => {
    const o = healthy();
    o.targetGroups[0]!.deregistrationDelay = 1000;
    expect(preflight({ ...input(o), mediaAnchored: false }).find((f) => f.check === 'deregistrationDelay')).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(/longer than drain.maxSeconds/),
      fix: expect.stringMatching(/Value=30\b/),
    });
    o.targetGroups[0]!.deregistrationDelay = 30;
    expect(preflight({ ...input(o), mediaAnchored: false }).find((f) => f.check === 'deregistrationDelay')).toMatchObject({ level: 'ok' });
    expect(preflight({ ...input(o), mediaAnchored: true }).find((f) => f.check === 'deregistrationDelay')).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(/cutting the RTP/),
    });
  });

  it('rejects checkpoints that do not end at 100, and min = max = 100', () => {
    expect(
      deploySchema.safeParse({
        region: 'us-east-1',
        asgName: 'a',
        targetGroupArns: [TG],
        refresh: { checkpointPercentages: [50] },
      }).success,
    ).toBe(false);
    expect(
      deploySchema.safeParse({
        region: 'us-east-1',
        asgName: 'a',
        targetGroupArns: [TG],
        refresh: { maxHealthyPercentage: 100 },
      }).success,
    ).toBe(false);
  });
});
