// The AWS fake's fidelity gaps closed by issue 13, each against the behaviour AWS documents
// (src/region/README.md names the page for each).
import { DescribeAutoScalingGroupsCommand, StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateLaunchTemplateVersionCommand, DescribeImagesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { createFakeAws } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';

async function newVersion(h: ReturnType<typeof createFakeAws>, ltId: string, ami: string): Promise<string> {
  const v = await h.clients.ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: ltId,
      SourceVersion: '1',
      LaunchTemplateData: { ImageId: ami },
    }),
  );
  return String(v.LaunchTemplateVersion!.VersionNumber);
}

describe('the AWS fake, as strict as AWS', () => {
  it('DescribeAlarms lists composite alarms only when AlarmTypes asks for them', async () => {
    const h = createFakeAws();
    h.fake.setAlarm('p99-latency', 'OK');
    h.fake.setAlarm('sip-health', 'OK', { composite: true });
    const names = { AlarmNames: ['p99-latency', 'sip-health'] };
    const plain = await h.clients.cloudwatch.send(new DescribeAlarmsCommand(names));
    expect(plain.MetricAlarms!.map((a) => a.AlarmName)).toEqual(['p99-latency']);
    expect(plain.CompositeAlarms).toEqual([]);
    const both = await h.clients.cloudwatch.send(new DescribeAlarmsCommand({ ...names, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    expect(both.CompositeAlarms!.map((a) => a.AlarmName)).toEqual(['sip-health']);
    h.restore();
  });

  it.each([
    ['11 alarms', { AlarmSpecification: { Alarms: Array.from({ length: 11 }, (_, i) => `a${i}`) } }, /length less than or equal to 10/],
    ['CheckpointDelay 172801', { CheckpointPercentages: [50, 100], CheckpointDelay: 172801 }, /checkpointDelay/],
    ['BakeTime 172801', { BakeTime: 172801 }, /bakeTime/],
  ])('StartInstanceRefresh rejects %s (after a launch template version may already exist: the caller must check first)', async (_n, prefs, msg) => {
    const h = createFakeAws();
    const w = seedWorld(h.fake);
    const v = await newVersion(h, w.lt.LaunchTemplateId, w.newAmi.ImageId);
    await expect(
      h.clients.autoScaling.send(
        new StartInstanceRefreshCommand({
          AutoScalingGroupName: w.asg.AutoScalingGroupName,
          DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: w.lt.LaunchTemplateId, Version: v } },
          Preferences: prefs,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(msg) });
    expect(w.lt.versions).toHaveLength(2);
    h.restore();
  });

  it('keeps a comma-separated HealthCheckType as the group has it', async () => {
    const h = createFakeAws();
    const w = seedWorld(h.fake);
    w.asg.HealthCheckType = 'ELB,EBS';
    const g = await h.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [w.asg.AutoScalingGroupName] }));
    expect(g.AutoScalingGroups![0]!.HealthCheckType).toBe('ELB,EBS');
    h.restore();
  });

  it('eventual consistency: an instance just launched is InvalidInstanceID.NotFound and InvalidTargetException for the lag, then known', async () => {
    const h = createFakeAws({ consistencyLagSeconds: 5 });
    const w = seedWorld(h.fake);
    const fresh = h.fake.launchInstance(w.asg.AutoScalingGroupName, h.fake.resolveGroupTarget(w.asg));
    await expect(h.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [fresh.InstanceId] }))).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
    });
    await expect(
      h.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: w.tg.TargetGroupArn, Targets: [{ Id: fresh.InstanceId }] })),
    ).rejects.toMatchObject({
      name: 'InvalidTargetException',
    });
    h.fake.advance(5000);
    const d = await h.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [fresh.InstanceId] }));
    expect(d.Reservations![0]!.Instances![0]!.InstanceId).toBe(fresh.InstanceId);
    h.restore();
  });

  it('DescribeImages lags a fresh AMI: NotFound by id, absent from listings, then pending, then available', async () => {
    const h = createFakeAws({ consistencyLagSeconds: 3, amiSeconds: 10, iam: { role: 'build' } });
    const img = h.fake.addImage({
      Name: 'fresh',
      Tags: { 'sipbake:image': 'twilio-relay' },
      State: 'pending',
      availableAt: h.fake.nowMs + 10_000,
      visibleAt: h.fake.nowMs + 3000,
    });
    await expect(h.clients.ec2.send(new DescribeImagesCommand({ ImageIds: [img.ImageId] }))).rejects.toMatchObject({
      name: 'InvalidAMIID.NotFound',
    });
    const listed = async () =>
      (await h.clients.ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: ['fresh'] }] }))).Images!.map((i) => i.State);
    expect(await listed()).toEqual([]);
    h.fake.advance(3000);
    expect(await listed()).toEqual(['pending']);
    h.fake.advance(7000);
    expect(await listed()).toEqual(['available']);
    h.restore();
  });

  it('a denied call names the action, resource and condition, and the statement that came close', async () => {
    const h = createFakeAws({ region: 'eu-west-1', iam: { role: 'roll', expectDenials: true } });
    const w = seedWorld(h.fake);
    const err = await h.clients.autoScaling
      .send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [w.asg.AutoScalingGroupName] }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AccessDenied' });
    expect((err as Error).message).toContain('denies autoscaling:DescribeAutoScalingGroups on * [aws:RequestedRegion=eu-west-1]');
    expect((err as Error).message).toContain('ReadState: condition {"StringEquals":{"aws:RequestedRegion":"us-east-1"}} does not hold');
    h.restore();
  });
});
