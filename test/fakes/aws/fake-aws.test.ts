import { describe, expect, it } from 'vitest';
import { DescribeInstanceRefreshesCommand, RollbackInstanceRefreshCommand, StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, CreateLaunchTemplateVersionCommand, DeregisterImageCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createFakeAws } from './index.js';
import { seedWorld } from '../../../src/region/scenario.js';

async function newVersion(h: ReturnType<typeof createFakeAws>, ltId: string, ami: string) {
  const r = await h.clients.ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: ltId,
      SourceVersion: '1',
      LaunchTemplateData: { ImageId: ami },
    }),
  );
  return String(r.LaunchTemplateVersion!.VersionNumber);
}

describe('the AWS fake', () => {
  it('replaces instances launch-before-terminate, honours the checkpoint and bake time, then updates the group', async () => {
    const h = createFakeAws({ bootSeconds: 0, consistencyLagSeconds: 0 }); // asserts exact timings and reads instances by id at once
    const w = seedWorld(h.fake, { desired: 4 });
    const v = await newVersion(h, w.lt.LaunchTemplateId, w.newAmi.ImageId);
    const events: string[] = [];
    h.fake.on('checkpoint', () => events.push(`checkpoint@${h.fake.elapsedSeconds}`));
    h.fake.on('Successful', () => events.push(`done@${h.fake.elapsedSeconds}`));
    await h.clients.autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: w.asg.AutoScalingGroupName,
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: w.lt.LaunchTemplateId, Version: v } },
        Preferences: {
          MinHealthyPercentage: 100,
          MaxHealthyPercentage: 200,
          InstanceWarmup: 60,
          CheckpointPercentages: [50, 100],
          CheckpointDelay: 100,
          BakeTime: 50,
          SkipMatching: true,
        },
      }),
    );
    h.fake.advance(10_000);
    // Two new instances beside the four old ones, never more than 200 %.
    expect(h.fake.instancesOf(w.asg.AutoScalingGroupName)).toHaveLength(6);
    const th = await h.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: w.tg.TargetGroupArn }));
    expect(th.TargetHealthDescriptions!.map((d) => d.TargetHealth!.State).sort()).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'initial', 'initial']);
    h.fake.advance(1000_000);
    // batch 1: 30 s health + 60 s warm-up; checkpoint 100 s; batch 2: 90 s; bake 50 s.
    expect(events).toEqual(['checkpoint@90', 'done@330']);
    expect(h.fake.amisOf(w.asg.AutoScalingGroupName)).toEqual(Array(4).fill(w.newAmi.ImageId));
    expect(w.asg.launchTemplate!.Version).toBe(v);
  });

  it('rolls back to the group configuration, refuses a second refresh, and says when no refresh is active', async () => {
    const h = createFakeAws({ bootSeconds: 0, consistencyLagSeconds: 0 }); // asserts exact timings and reads instances by id at once
    const w = seedWorld(h.fake, { desired: 2 });
    h.fake.images.get(w.newAmi.ImageId)!.health = 'unhealthy';
    const v = await newVersion(h, w.lt.LaunchTemplateId, w.newAmi.ImageId);
    const start = new StartInstanceRefreshCommand({
      AutoScalingGroupName: w.asg.AutoScalingGroupName,
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: w.lt.LaunchTemplateId, Version: v } },
      Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200 },
    });
    await h.clients.autoScaling.send(start);
    await expect(h.clients.autoScaling.send(start)).rejects.toMatchObject({ name: 'InstanceRefreshInProgressFault' });
    h.fake.advance(120_000);
    expect(h.fake.amisOf(w.asg.AutoScalingGroupName)).toEqual([w.oldAmi.ImageId, w.oldAmi.ImageId, w.newAmi.ImageId, w.newAmi.ImageId].sort());
    await h.clients.autoScaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: w.asg.AutoScalingGroupName }));
    h.fake.advance(60_000);
    const d = await h.clients.autoScaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: w.asg.AutoScalingGroupName }));
    expect(d.InstanceRefreshes![0]!.Status).toBe('RollbackSuccessful');
    expect(h.fake.amisOf(w.asg.AutoScalingGroupName)).toEqual([w.oldAmi.ImageId, w.oldAmi.ImageId]);
    expect(w.asg.launchTemplate!.Version).toBe('1');
    await expect(h.clients.autoScaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: w.asg.AutoScalingGroupName }))).rejects.toMatchObject({
      name: 'ActiveInstanceRefreshNotFoundFault',
    });
  });

  it('filters images by tag, hides deregistered ones from listings, and injects throttling in a window', async () => {
    // Retiring AMIs is the build role's job (RetireOnlyThisImagesAmis).
    const h = createFakeAws({ iam: { role: 'build' } });
    const w = seedWorld(h.fake);
    h.fake.addImage({ Name: 'other', Tags: { 'sipbake:image': 'recorder-lb' } });
    const list = async () =>
      (await h.clients.ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'tag:sipbake:image', Values: ['twilio-relay'] }] }))).Images!.map(
        (i) => i.ImageId,
      );
    expect((await list()).sort()).toEqual([w.oldAmi.ImageId, w.newAmi.ImageId].sort());
    await h.clients.ec2.send(new DeregisterImageCommand({ ImageId: w.oldAmi.ImageId }));
    expect(await list()).toEqual([w.newAmi.ImageId]);
    const byId = await h.clients.ec2.send(new DescribeImagesCommand({ ImageIds: [w.oldAmi.ImageId] }));
    expect(byId.Images![0]!.State).toBe('deregistered');
    h.fake.faults.throttleStorm(h.fake.nowMs, h.fake.nowMs + 5000, 'DescribeImages');
    await expect(list()).rejects.toMatchObject({ name: 'ThrottlingException' });
    h.fake.advance(5000);
    expect(await list()).toEqual([w.newAmi.ImageId]);
  });
});
