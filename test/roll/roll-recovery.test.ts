import { StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { describe, expect, it } from 'vitest';
import { AbortError, UserError } from '../../src/core/errors.js';
import { sipbakeTags } from '../../src/region/scenario.js';
import { history } from '../../src/roll/status.js';
import { harness, run, type Harness } from './helpers.js';

/** Runs a roll and kills it (as Ctrl-C / a dead CI runner would) once `seconds` of simulated time have passed. */
async function runKilledAfter(h: Harness, seconds: number) {
  const ac = new AbortController();
  const killAt = h.fake.elapsedSeconds + seconds;
  h.fake.when(
    () => h.fake.elapsedSeconds >= killAt,
    () => ac.abort(new AbortError('killed')),
  );
  return run(h, {}, ac.signal);
}

describe('roll: recovery and refusals', () => {
  it('resumes the refresh it started when run again after being killed mid-roll', async () => {
    const h = harness({ desired: 4, refresh: { checkpointPercentages: [50, 100], checkpointDelay: 120 } });
    const first = await runKilledAfter(h, 100);
    expect(first.exitCode).toBe(130);
    expect(first.reporter.text()).toMatch(/instance refresh [0-9a-f-]{36} of kamailio-lb-asg \(us-east-1\) goes on in AWS; sipbake only stopped watching it/);
    expect(first.reporter.text()).toMatch(
      /follow it: +sipbake status twilio-relay\n.*watch again: +sipbake roll twilio-relay --ami ami-\w+ .*\n.*roll back: +sipbake rollback twilio-relay --to ami-/,
    );
    expect(h.fake.activeRefresh(h.world.asg.AutoScalingGroupName)?.Status).toBe('InProgress');
    const second = await run(h);
    expect(second.exitCode).toBe(0);
    expect(second.reporter.text()).toMatch(/resuming: refresh .* is still active; attaching to it/);
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(1);
    expect(h.fake.callsOf('CreateLaunchTemplateVersion')).toHaveLength(1);
    expect(second.summary).toMatchObject({ outcome: 'succeeded', groupVersion: '2', from: { version: 1 } });
    expect(h.fake.amisOf(h.world.asg.AutoScalingGroupName)).toEqual(Array(4).fill(h.world.newAmi.ImageId));
    expect(h.world.asg.tags['sipbake:last-known-good']).toBe(`version 2 ${h.world.newAmi.ImageId}`);
  });

  it('refuses a second roll to another AMI while one is active, and a refresh it did not start', async () => {
    const h = harness({ desired: 2 });
    await runKilledAfter(h, 30);
    const third = h.fake.addImage({ Name: 'twilio-relay-3', Tags: sipbakeTags('twilio-relay', 3) });
    const r = await run(h, { ami: third.ImageId });
    expect(r.exitCode).toBe(1);
    expect(r.error).toBeInstanceOf(UserError);
    expect(r.reporter.text()).toMatch(/refused: 1 check failed/);
    expect(r.reporter.text()).toMatch(/noActiveRefresh: instance refresh \S+ \(sipbake's roll of twilio-relay to ami-\w+\) is InProgress/);
    expect(r.reporter.text()).toMatch(
      /fix: wait for it \(sipbake status twilio-relay\), attach to it \(sipbake roll twilio-relay --ami ami-\w+\), or cancel it/,
    );
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(1);
    // The first roll is untouched: still mid-way, the group still on version 1, nothing of the third AMI.
    expect(h.world.asg.launchTemplate!.Version).toBe('1');
    expect(h.fake.amisOf(h.world.asg.AutoScalingGroupName)).not.toContain(third.ImageId);
    expect(h.fake.activeRefresh(h.world.asg.AutoScalingGroupName)?.Status).toBe('InProgress');

    const other = harness({ desired: 2 });
    await other.clients.autoScaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: other.world.asg.AutoScalingGroupName }));
    const r2 = await run(other);
    expect(r2.exitCode).toBe(1);
    expect(r2.reporter.text()).toMatch(/a refresh sipbake did not start/);
    expect(other.fake.amisOf(other.world.asg.AutoScalingGroupName)).toEqual(Array(2).fill(other.world.oldAmi.ImageId));
  });

  it('rollback --previous while its own roll is still active rolls that refresh back', async () => {
    const h = harness({ desired: 4, refresh: { checkpointPercentages: [50, 100], checkpointDelay: 300 } });
    const { asg, oldAmi } = h.world;
    expect((await runKilledAfter(h, 100)).exitCode).toBe(130);
    const r = await run(h, { kind: 'rollback', previous: true });
    expect(r.exitCode).toBe(0);
    expect(r.reporter.text()).toMatch(/previous AMI of twilio-relay: ami-\w+ \(the AMI the active roll to ami-\w+ started from\)/);
    expect(r.summary).toMatchObject({
      kind: 'rollback',
      outcome: 'rolled-back',
      groupVersion: '1',
      rollback: { how: 'aws-rollback' },
    });
    expect(h.fake.callsOf('RollbackInstanceRefresh')).toHaveLength(1);
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(1);
    expect(h.fake.amisOf(asg.AutoScalingGroupName)).toEqual(Array(4).fill(oldAmi.ImageId));
    expect(asg.launchTemplate!.Version).toBe('1');
  });

  it('refuses a $Latest group and gives the exact fix', async () => {
    const h = harness({ desired: 2, version: '$Latest' });
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    const lt = h.world.lt.LaunchTemplateId;
    expect(r.reporter.text()).toContain('references launch template version $Latest');
    expect(r.reporter.text()).toContain(
      `fix: pin the version it runs today: aws autoscaling update-auto-scaling-group --auto-scaling-group-name kamailio-lb-asg --launch-template LaunchTemplateId=${lt},Version=1`,
    );
    expect(h.fake.callsOf('CreateLaunchTemplateVersion')).toHaveLength(0);
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(0);
    expect(h.fake.amisOf(h.world.asg.AutoScalingGroupName)).toEqual(Array(2).fill(h.world.oldAmi.ImageId));
    expect(h.world.asg.launchTemplate!.Version).toBe('$Latest');
  });

  it('rolls back to a pinned AMI after a successful roll, and --previous finds the same one', async () => {
    const h = harness({ desired: 2 });
    const { asg, oldAmi, newAmi } = h.world;
    expect((await run(h)).exitCode).toBe(0);
    expect(h.fake.amisOf(asg.AutoScalingGroupName)).toEqual([newAmi.ImageId, newAmi.ImageId]);
    const back = await run(h, { kind: 'rollback', ami: oldAmi.ImageId });
    expect(back.exitCode).toBe(0);
    expect(back.summary).toMatchObject({
      kind: 'rollback',
      outcome: 'succeeded',
      groupVersion: '3',
      from: { version: 2, ami: newAmi.ImageId },
      to: { ami: oldAmi.ImageId },
    });
    expect(h.fake.amisOf(asg.AutoScalingGroupName)).toEqual([oldAmi.ImageId, oldAmi.ImageId]);
    expect(asg.tags['sipbake:last-known-good']).toBe(`version 3 ${oldAmi.ImageId}`);
    // --previous now means the AMI version 3 was rolled from.
    const again = await run(h, { kind: 'rollback', previous: true });
    expect(again.exitCode).toBe(0);
    expect(again.reporter.text()).toMatch(
      new RegExp(`previous AMI of twilio-relay: ${newAmi.ImageId} \\(launch template version 3 was rolled from version 2\\)`),
    );
    expect(h.fake.amisOf(asg.AutoScalingGroupName)).toEqual([newAmi.ImageId, newAmi.ImageId]);
    // history needs no local state: live and last-known-good come from AWS.
    const hist = await history(h.clients, 'twilio-relay', asg.AutoScalingGroupName, 'us-east-1');
    expect(hist.map((e) => [e.ami, e.live, e.lastKnownGood, e.running])).toEqual([
      [newAmi.ImageId, true, true, 2],
      [oldAmi.ImageId, false, false, 0],
    ]);
  });

  it.each([
    [
      'deregistered',
      (h: Harness) => {
        h.fake.images.get(h.world.oldAmi.ImageId)!.State = 'deregistered';
        h.fake.images.get(h.world.oldAmi.ImageId)!.deregisteredAt = h.fake.nowMs;
      },
      /AMI ami-\w+ does not exist or was deregistered/,
    ],
    [
      'disabled',
      (h: Harness) => {
        h.fake.images.get(h.world.oldAmi.ImageId)!.State = 'disabled';
      },
      /AMI ami-\w+ is disabled/,
    ],
    [
      'of another image',
      (h: Harness) => {
        h.fake.images.get(h.world.oldAmi.ImageId)!.Tags['sipbake:image'] = 'recorder-lb';
      },
      /is an AMI of image recorder-lb, not of twilio-relay/,
    ],
  ])('refuses a rollback to an AMI that is %s', async (_what, spoil, message) => {
    const h = harness({ desired: 2 });
    expect((await run(h)).exitCode).toBe(0);
    spoil(h);
    const r = await run(h, { kind: 'rollback', ami: h.world.oldAmi.ImageId });
    expect(r.exitCode).toBe(1);
    expect(r.reporter.text()).toMatch(message);
    expect(r.reporter.text()).toMatch(/fix: /);
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(1);
    expect(h.fake.amisOf(h.world.asg.AutoScalingGroupName)).toEqual(Array(2).fill(h.world.newAmi.ImageId));
    expect(h.world.asg.launchTemplate!.Version).toBe('2');
  });
});
