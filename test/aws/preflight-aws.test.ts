// The roll preflight against what AWS actually accepts (issue 13): comma-separated health-check types, AMIs that
// require IMDSv2 themselves, whose termination hook it is, and AWS's numeric limits before anything is created.
import { describe, expect, it } from 'vitest';
import { deploySchema } from '../../src/definition/deploy-schema.js';
import { preflight, REFRESH_LIMITS } from '../../src/roll/preflight.js';
import type { Observed } from '../../src/roll/types.js';
import { harness, run } from '../roll/helpers.js';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg/1';
const deployWith = (extra: Record<string, unknown> = {}) => deploySchema.parse({ region: 'us-east-1', asgName: 'asg', targetGroupArns: [TG], ...extra });
const tags = { 'sipbake:image': 'relay', 'sipbake:content-hash': 'h' };

function world(): Observed {
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
    currentAmi: { imageId: 'ami-0000000a', name: 'a', state: 'available', architecture: 'x86_64', tags },
    target: { imageId: 'ami-0000000b', name: 'b', state: 'available', architecture: 'x86_64', tags },
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

function findings(edit: (o: Observed) => void, extra: Partial<{ deploy: Record<string, unknown> }> = {}) {
  const obs = world();
  edit(obs);
  return preflight({
    obs,
    image: 'relay',
    deploy: deployWith(extra.deploy),
    drainMaxSeconds: 900,
    amiId: 'ami-0000000b',
  });
}
const level = (f: ReturnType<typeof findings>, check: string) => f.find((x) => x.check === check)?.level;

describe('roll preflight: AWS as it is', () => {
  it.each(['ELB', 'ELB,EBS', 'EBS,ELB', 'ELB,VPC_LATTICE'])('health check type %s is accepted', (t) => {
    expect(
      level(
        findings((o) => (o.group!.healthCheckType = t)),
        'healthCheckIsElb',
      ),
    ).toBe('ok');
  });

  it.each(['EC2', 'EBS', 'EC2,EBS'])('health check type %s (no ELB) is refused', (t) => {
    expect(
      level(
        findings((o) => (o.group!.healthCheckType = t)),
        'healthCheckIsElb',
      ),
    ).toBe('refuse');
  });

  it('an AMI with ImdsSupport v2.0 under a launch template that leaves HttpTokens unset is accepted; explicit optional is not', () => {
    const unset = findings((o) => {
      delete o.current!.httpTokens;
      Object.assign(o.target!, { imdsSupport: 'v2.0' });
    });
    expect(level(unset, 'requiresImdsV2')).toBe('ok');
    const explicit = findings((o) => {
      o.current!.httpTokens = 'optional';
      Object.assign(o.target!, { imdsSupport: 'v2.0' });
    });
    expect(level(explicit, 'requiresImdsV2')).toBe('refuse');
    expect(
      level(
        findings((o) => delete o.current!.httpTokens),
        'requiresImdsV2',
      ),
    ).toBe('refuse');
  });

  it('refuses a termination hook that is not the one the drain agent completes', () => {
    const foreign = findings((o) => (o.hooks[0]!.name = 'someone-elses-hook'));
    expect(foreign.find((f) => f.check === 'terminationHook')).toMatchObject({
      level: 'refuse',
      message: expect.stringMatching(/someone-elses-hook is not the one the drain agent completes \(sipbake-drain\)/),
    });
    const ours = findings((o) => (o.hooks[0]!.name = 'calls-drain'), {
      deploy: { lifecycleHook: { name: 'calls-drain' } },
    });
    expect(level(ours, 'terminationHook')).toBe('ok');
  });

  // Set after parsing: validate may refuse these values itself (the definition's own rules), the preflight must too.
  it.each<[string, (r: ReturnType<typeof deployWith>['refresh']) => void]>([
    ['11 alarms', (r) => (r.alarms = Array.from({ length: 11 }, (_, i) => `a${i}`))],
    ['checkpointDelay 172801 s', (r) => (r.checkpointDelay = REFRESH_LIMITS.checkpointDelay + 1)],
    ['bakeTime 172801 s', (r) => (r.bakeTime = REFRESH_LIMITS.bakeTime + 1)],
  ])('%s is refused before anything is created', (_n, edit) => {
    const deploy = deployWith();
    edit(deploy.refresh);
    const f = preflight({ obs: world(), image: 'relay', deploy, drainMaxSeconds: 900, amiId: 'ami-0000000b' });
    expect(level(f, 'refreshWithinLimits')).toBe('refuse');
  });

  it('10 alarms and 172800 s are within the limits', () => {
    const f = findings(() => {}, {
      deploy: {
        refresh: { alarms: Array.from({ length: 10 }, (_, i) => `a${i}`), checkpointDelay: 172800, bakeTime: 172800 },
      },
    });
    expect(level(f, 'refreshWithinLimits')).toBeUndefined();
  });
});

describe('roll on the fake: AWS limits are refused before a launch template version exists', () => {
  it.each<[string, (r: ReturnType<typeof deployWith>['refresh']) => void]>([
    ['11 alarms', (r) => (r.alarms = Array.from({ length: 11 }, (_, i) => `a${i}`))],
    ['bakeTime 172801 s', (r) => (r.bakeTime = REFRESH_LIMITS.bakeTime + 1)],
  ])('%s: exit 1, no CreateLaunchTemplateVersion, no StartInstanceRefresh', async (_n, edit) => {
    const h = harness({ desired: 2 });
    edit(h.deploy.refresh);
    for (const a of h.deploy.refresh.alarms) h.fake.setAlarm(a, 'OK');
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    expect(r.reporter.text()).toContain('refreshWithinLimits');
    expect(h.fake.callsOf('CreateLaunchTemplateVersion')).toEqual([]);
    expect(h.fake.callsOf('StartInstanceRefresh')).toEqual([]);
    expect(h.world.lt.versions).toHaveLength(1);
    h.restore();
  });
});
