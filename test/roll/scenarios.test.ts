// Issue 14's numbered failures, each driven against the stateful fake with Auto Scaling health replacement on.
// Every scenario asserts the AMI of each instance, the launch template version, the tags, the exit code and the summary.
import { CancelInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { describe, expect, it } from 'vitest';
import { AbortError, UserError } from '../../src/core/errors.js';
import { healthReplacements } from '../../src/region/refresh-engine.js';
import { fleetOf, harness, run, type Harness } from './helpers.js';

const LEASE = 'sipbake:lease';
const rejectedKey = (ami: string) => `sipbake:rejected:${ami}`;

async function killedAfter(h: Harness, seconds: number) {
  const ac = new AbortController();
  const at = h.fake.elapsedSeconds + seconds;
  h.fake.when(
    () => h.fake.elapsedSeconds >= at,
    () => ac.abort(new AbortError('killed')),
  );
  return run(h, {}, ac.signal);
}

describe('1. a bad AMI while Auto Scaling replaces unhealthy instances', () => {
  it('counts every unhealthy or replaced new instance over the whole refresh and rolls back on the Nth', async () => {
    // One new instance at a time (max 125 %), grace 300 s < deadline 900 s: each replacement would restart a
    // per-instance deadline, so only counting over the whole refresh stops it.
    const h = harness({
      desired: 4,
      refresh: { maxHealthyPercentage: 125 },
      deploy: { healthyDeadlineSeconds: 900, maxReplacedInstances: 3 },
    });
    const { asg, oldAmi, newAmi } = h.world;
    h.fake.images.get(newAmi.ImageId)!.health = 'unhealthy';
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    expect(r.summary).toMatchObject({ outcome: 'rolled-back', groupVersion: '1', rollback: { how: 'aws-rollback' } });
    expect(r.summary!.reasons.join()).toMatch(/3 instance\(s\) of ami-\w+ went unhealthy or were replaced \(limit 3\)/);
    // Auto Scaling did replace some (the fake follows "Replace unhealthy instances"), and the bad AMI got 3 launches, not 74.
    expect(healthReplacements(h.fake).filter((x) => x.imageId === newAmi.ImageId).length).toBeGreaterThanOrEqual(2);
    const launches = [...h.fake.instances.values()].filter((i) => i.ImageId === newAmi.ImageId);
    expect(launches.length).toBe(3);
    // The rollback starts in the poll that sees the third one unhealthy.
    const thirdUnhealthy = Math.max(...launches.map((i) => i.healthAt));
    expect(r.summary!.rollback!.startedAtMs - thirdUnhealthy).toBeLessThanOrEqual(15_000);
    expect(fleetOf(h)).toEqual(Array(4).fill(oldAmi.ImageId));
    expect(r.summary!.instances.map((i) => i.ami)).toEqual(Array(4).fill(oldAmi.ImageId));
    expect(asg.launchTemplate!.Version).toBe('1');
    expect(asg.tags[rejectedKey(newAmi.ImageId)]).toMatch(/^2026-01-01T\S+Z 3 instance\(s\) of ami-\w+ went unhealthy/);
    expect(asg.tags['sipbake:last-roll']).toMatch(/^rolled-back twilio-relay/);
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 1 ${oldAmi.ImageId}`);
    expect(asg.tags[LEASE]).toBeUndefined();
  });
});

describe('1b. the count cannot be reset by Ctrl-C and a re-run', () => {
  it('a re-run attaching to the refresh goes on counting from the record on the group', async () => {
    const h = harness({
      desired: 4,
      refresh: { maxHealthyPercentage: 125 },
      deploy: { healthyDeadlineSeconds: 900, maxReplacedInstances: 3 },
      // The kill at 360 s is placed between the second and third bad launch: exact timings, so no boot time or lag.
      fake: { bootSeconds: 0, consistencyLagSeconds: 0 },
    });
    const { asg, oldAmi, newAmi } = h.world;
    h.fake.images.get(newAmi.ImageId)!.health = 'unhealthy';
    expect((await killedAfter(h, 360)).exitCode).toBe(130);
    expect(asg.tags['sipbake:gate']).toMatch(/^refresh=\S+ first=\S+ count=2 ids=i-\w+,i-\w+$/);
    const again = await run(h);
    expect(again.reporter.text()).toMatch(/attaching to it \(the gate already counts 2 bad instance\(s\)\)/);
    expect(again.exitCode).toBe(1);
    expect(again.summary).toMatchObject({ outcome: 'rolled-back', groupVersion: '1' });
    expect(again.summary!.reasons.join()).toMatch(/3 instance\(s\) of ami-\w+ went unhealthy or were replaced \(limit 3\)/);
    // Three launches of the bad AMI in all, as without the interruption (a fresh count would have needed a fourth).
    expect([...h.fake.instances.values()].filter((i) => i.ImageId === newAmi.ImageId)).toHaveLength(3);
    expect(fleetOf(h)).toEqual(Array(4).fill(oldAmi.ImageId));
    expect(asg.tags[rejectedKey(newAmi.ImageId)]).toBeDefined();
  });
});

describe('2. InvalidInstanceID.NotFound right after a launch', () => {
  it.each([
    ['naming the new instance', true],
    ['naming no instance', false],
  ])('is eventual consistency, not fatal (%s)', async (_what, named) => {
    const h = harness({ desired: 2 });
    const { asg, newAmi } = h.world;
    h.fake.when(
      () => [...h.fake.instances.values()].some((i) => i.ImageId === newAmi.ImageId),
      () => {
        const id = [...h.fake.instances.values()].find((i) => i.ImageId === newAmi.ImageId)!.InstanceId;
        h.fake.faults.add({
          command: 'DescribeInstances',
          error: 'InvalidInstanceID.NotFound',
          message: named ? `The instance ID '${id}' does not exist` : 'The instance IDs do not exist',
          times: 3,
        });
      },
    );
    const r = await run(h);
    expect(h.fake.faults.fired.filter((f) => f.error === 'InvalidInstanceID.NotFound')).toHaveLength(3);
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.summary).toMatchObject({
      outcome: 'succeeded',
      groupVersion: '2',
      to: { version: 2, ami: newAmi.ImageId },
    });
    expect(fleetOf(h)).toEqual(Array(2).fill(newAmi.ImageId));
    expect(asg.launchTemplate!.Version).toBe('2');
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 2 ${newAmi.ImageId}`);
    expect(h.fake.callsOf('RollbackInstanceRefresh')).toHaveLength(0);
  });
});

describe('3. a cancelled half roll, then rollback', () => {
  async function halfRolled() {
    const h = harness({ desired: 4, refresh: { checkpointPercentages: [50, 100], checkpointDelay: 600 } });
    expect((await killedAfter(h, 120)).exitCode).toBe(130);
    // What sipbake's own refusal text suggests: cancel the refresh. AWS leaves the instances as they are.
    await h.clients.autoScaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: h.world.asg.AutoScalingGroupName }));
    h.fake.advance(2000);
    expect(h.fake.refreshes[0]!.Status).toBe('Cancelled');
    expect(fleetOf(h)).toEqual([...Array(2).fill(h.world.oldAmi.ImageId), ...Array(2).fill(h.world.newAmi.ImageId)].sort());
    expect(h.world.asg.launchTemplate!.Version).toBe('1');
    return h;
  }

  it.each([
    ['--to OLD', (h: Harness) => ({ ami: h.world.oldAmi.ImageId }), /./],
    [
      '--previous',
      () => ({ previous: true }),
      /previous AMI of twilio-relay: ami-\w+ \(last-known-good \(version 1\); 2 instance\(s\) in service run another AMI \(ami-\w+\)\)/,
    ],
  ])('rollback %s rolls the mixed fleet to the target from the instances, not the launch template', async (_flag, req, said) => {
    const h = await halfRolled();
    const { asg, oldAmi } = h.world;
    const r = await run(h, { kind: 'rollback', ...req(h) });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.reporter.text()).toMatch(said);
    expect(r.summary).toMatchObject({
      kind: 'rollback',
      outcome: 'succeeded',
      groupVersion: '1',
      to: { ami: oldAmi.ImageId, version: 1 },
    });
    expect(r.summary!.instances.map((i) => i.ami)).toEqual(Array(4).fill(oldAmi.ImageId));
    expect(fleetOf(h)).toEqual(Array(4).fill(oldAmi.ImageId));
    // The live version already has the AMI: no new version, a refresh onto version 1.
    expect(h.fake.callsOf('CreateLaunchTemplateVersion')).toHaveLength(1);
    expect(h.fake.callsOf('StartInstanceRefresh').at(-1)!.input).toMatchObject({
      DesiredConfiguration: { LaunchTemplate: { Version: '1' } },
    });
    expect(asg.launchTemplate!.Version).toBe('1');
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 1 ${oldAmi.ImageId}`);
    expect(asg.tags[LEASE]).toBeUndefined();
  });
});

describe('4. re-rolling a rejected AMI', () => {
  it('refuses it, saying when and why, until --force', async () => {
    const h = harness({ desired: 2 });
    const { asg, oldAmi, newAmi } = h.world;
    h.fake.images.get(newAmi.ImageId)!.health = 'unhealthy';
    expect((await run(h)).exitCode).toBe(1);
    expect(asg.tags[rejectedKey(newAmi.ImageId)]).toBeDefined();

    const again = await run(h);
    expect(again.exitCode).toBe(1);
    expect(again.error).toBeInstanceOf(UserError);
    expect(again.reporter.text()).toMatch(
      new RegExp(`AMI ${newAmi.ImageId} was rejected on kamailio-lb-asg at 2026-01-01T\\S+Z: 2 instance\\(s\\) of ${newAmi.ImageId} went unhealthy`),
    );
    expect(again.reporter.text()).toMatch(/fix: bake a fixed image \(sipbake build twilio-relay\) and roll that, or roll this AMI anyway with --force/);
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(1); // the first roll only (its rollback was RollbackInstanceRefresh)
    expect(h.world.lt.versions).toHaveLength(2);
    expect(fleetOf(h)).toEqual(Array(2).fill(oldAmi.ImageId));
    expect(asg.launchTemplate!.Version).toBe('1');

    // The cause was outside the AMI (say, a security group); the operator forces it once more.
    h.fake.images.get(newAmi.ImageId)!.health = 'healthy';
    const forced = await run(h, { force: true });
    expect(forced.exitCode).toBe(0);
    expect(forced.reporter.text()).toMatch(/rolling it anyway: --force/);
    expect(forced.summary).toMatchObject({
      outcome: 'succeeded',
      groupVersion: '3',
      to: { ami: newAmi.ImageId, version: 3 },
    });
    expect(fleetOf(h)).toEqual(Array(2).fill(newAmi.ImageId));
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 3 ${newAmi.ImageId}`);
    expect(forced.reporter.text()).toMatch(/passed the gate: its rejection on kamailio-lb-asg is cleared/);
    expect(asg.tags[rejectedKey(newAmi.ImageId)]).toBeUndefined();
  });
});

describe('5. two rolls at once', () => {
  it('one takes the lease; the other refuses naming the holder and leaves no launch template version', async () => {
    const h = harness({ desired: 2 });
    const { asg, newAmi } = h.world;
    const signal = new AbortController().signal;
    const [a, b] = await Promise.all([run(h, {}, signal, 'alice@ci-a:101'), run(h, {}, signal, 'bob@ci-b:202')]);
    const [won, lost] = a.exitCode === 0 ? [a, b] : [b, a];
    expect(won.exitCode).toBe(0);
    expect(lost.exitCode).toBe(1);
    expect(lost.reporter.text()).toMatch(
      /another roll holds kamailio-lb-asg: (alice@ci-a:101|bob@ci-b:202) since 2026-01-01T\S+ \(lease expires 2026-01-01T\S+\)/,
    );
    expect(lost.reporter.text()).toMatch(/fix: wait for it \(sipbake status twilio-relay\)/);
    expect(won.summary).toMatchObject({ outcome: 'succeeded', groupVersion: '2' });
    expect(h.fake.callsOf('CreateLaunchTemplateVersion')).toHaveLength(1);
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(1);
    expect(h.world.lt.versions).toHaveLength(2);
    expect(fleetOf(h)).toEqual(Array(2).fill(newAmi.ImageId));
    expect(asg.launchTemplate!.Version).toBe('2');
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 2 ${newAmi.ImageId}`);
    expect(asg.tags[LEASE]).toBeUndefined();
  });

  it('refuses while a live lease is held, and takes over an expired one', async () => {
    const h = harness({ desired: 2 });
    const { asg, oldAmi, newAmi } = h.world;
    const later = new Date(h.fake.nowMs + 600_000).toISOString();
    asg.tags[LEASE] = `owner=carol@laptop:7 start=2026-01-01T00:00:00.000Z expires=${later} token=abc`;
    const held = await run(h);
    expect(held.exitCode).toBe(1);
    expect(held.reporter.text()).toMatch(/another roll holds kamailio-lb-asg: carol@laptop:7 since 2026-01-01T00:00:00.000Z/);
    expect(h.fake.callsOf('CreateLaunchTemplateVersion')).toHaveLength(0);
    expect(fleetOf(h)).toEqual(Array(2).fill(oldAmi.ImageId));
    expect(asg.tags[LEASE]).toContain('carol@laptop:7');

    h.fake.advance(601_000);
    const taken = await run(h);
    expect(taken.exitCode).toBe(0);
    expect(taken.reporter.text()).toMatch(/the lease of carol@laptop:7 expired at \S+; this run takes it over/);
    expect(taken.summary).toMatchObject({ outcome: 'succeeded', groupVersion: '2' });
    expect(fleetOf(h)).toEqual(Array(2).fill(newAmi.ImageId));
    expect(asg.tags[LEASE]).toBeUndefined();
  });
});

describe('5b. releasing the lease without tags:DeleteTags', () => {
  it('rewrites it as expired, so the next roll goes on at once', async () => {
    const h = harness({ desired: 2 });
    const { asg, oldAmi } = h.world;
    h.fake.faults.add({
      command: 'DeleteTags',
      error: 'AccessDenied',
      message: 'not authorized to perform autoscaling:DeleteTags',
    });
    expect((await run(h, {}, undefined, 'alice@ci:1')).exitCode).toBe(0);
    expect(asg.tags[LEASE]).toMatch(new RegExp(`^owner=alice@ci:1 start=\\S+ expires=${new Date(h.fake.nowMs).toISOString()} token=`));
    const back = await run(h, { kind: 'rollback', ami: oldAmi.ImageId }, undefined, 'bob@ci:2');
    expect(back.exitCode).toBe(0);
    expect(back.reporter.text()).toMatch(/the lease of alice@ci:1 expired at \S+; this run takes it over/);
    expect(fleetOf(h)).toEqual(Array(2).fill(oldAmi.ImageId));
    expect(asg.launchTemplate!.Version).toBe('3');
  });
});

describe('6. a throttled tag write after a successful refresh', () => {
  it('retries, reports what it could not record (exit 1), and a re-run repairs last-known-good', async () => {
    const h = harness({ desired: 2 });
    const { asg, oldAmi, newAmi } = h.world;
    h.fake.on('Successful', () =>
      h.fake.faults.add({
        command: 'CreateOrUpdateTags',
        error: 'Throttling',
        fromMs: h.fake.nowMs,
        untilMs: h.fake.nowMs + 120_000,
      }),
    );
    const first = await run(h);
    expect(first.exitCode).toBe(1);
    expect(first.summary).toMatchObject({ outcome: 'succeeded', groupVersion: '2' });
    expect(first.summary!.unrecorded!.join()).toMatch(/sipbake:last-known-good/);
    expect(first.reporter.text()).toMatch(/not fully recorded on kamailio-lb-asg .*run the same command again to record it/);
    expect(h.fake.faults.fired.filter((f) => f.command === 'CreateOrUpdateTags').length).toBe(5); // retried, then gave up
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 1 ${oldAmi.ImageId}`); // stale
    expect(fleetOf(h)).toEqual(Array(2).fill(newAmi.ImageId));

    h.fake.advance(120_000);
    const again = await run(h);
    expect(again.exitCode).toBe(0);
    expect(again.summary).toMatchObject({ outcome: 'noop' });
    expect(again.summary!.reasons.join()).toMatch(
      new RegExp(`repaired last-known-good: was version 1 ${oldAmi.ImageId}, refresh \\S+ made version 2 ${newAmi.ImageId} live`),
    );
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 2 ${newAmi.ImageId}`);
    expect(asg.tags['sipbake:last-roll']).toMatch(/^succeeded twilio-relay/);
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(1);
    expect(asg.launchTemplate!.Version).toBe('2');
    expect(fleetOf(h)).toEqual(Array(2).fill(newAmi.ImageId));
  });
});

describe('7. a rollback that never settles', () => {
  it('stops waiting at its deadline with a clear end state, the refresh id and what to run', async () => {
    // Terminate-first (min 50 %), so the rollback has to launch old-AMI instances again.
    const h = harness({
      desired: 2,
      refresh: { minHealthyPercentage: 50, maxHealthyPercentage: 100 },
      deploy: { rollbackDeadlineSeconds: 1200 },
    });
    const { asg, oldAmi, newAmi } = h.world;
    h.fake.images.get(newAmi.ImageId)!.health = 'unhealthy';
    // Whatever broke the new AMI breaks the old one too (a shared dependency): the rollback cannot finish.
    h.fake.on('rollback-started', () => (h.fake.images.get(oldAmi.ImageId)!.health = 'unhealthy'));
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    expect(r.summary!.outcome).toBe('rollback-failed');
    expect(r.summary!.reasons.join()).toMatch(
      /the rollback did not settle within 1200 s: refresh \S+ is still RollbackInProgress .*sipbake stopped waiting, AWS goes on/,
    );
    const rb = r.summary!.rollback!;
    expect(h.fake.nowMs - rb.startedAtMs).toBeLessThanOrEqual((1200 + 15) * 1000);
    expect(h.fake.refreshes[0]!.Status).toBe('RollbackInProgress');
    expect(r.reporter.text()).toMatch(/Follow it: sipbake status twilio-relay; then: sipbake rollback twilio-relay --to ami-\w+/);
    expect(r.summary!.instances.map((i) => i.ami).sort()).toEqual(fleetOf(h));
    expect(asg.launchTemplate!.Version).toBe('1');
    expect(asg.tags['sipbake:last-roll']).toMatch(/^rollback-failed twilio-relay/);
    expect(asg.tags[rejectedKey(newAmi.ImageId)]).toBeDefined();
    expect(asg.tags[LEASE]).toBeUndefined();
  });
});

describe('preflight: no healthy targets now', () => {
  it('refuses a roll onto a group that serves nothing, unless --force', async () => {
    const h = harness({ desired: 2 });
    const { asg, oldAmi, newAmi } = h.world;
    for (const i of h.fake.instancesOf(asg.AutoScalingGroupName)) i.health = 'unhealthy';
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    expect(r.reporter.text()).toMatch(/healthyTargets: kamailio-lb-asg has no healthy target in kamailio-lb-tg right now/);
    expect(r.reporter.text()).toMatch(/fix: find out why \(sipbake status twilio-relay\); roll anyway with --force/);
    expect(h.fake.callsOf('CreateLaunchTemplateVersion')).toHaveLength(0);
    expect(fleetOf(h)).toEqual(Array(2).fill(oldAmi.ImageId));
    const forced = await run(h, { force: true });
    expect(forced.exitCode).toBe(0);
    expect(forced.summary).toMatchObject({ outcome: 'succeeded', groupVersion: '2' });
    expect(fleetOf(h)).toEqual(Array(2).fill(newAmi.ImageId));
  });
});
