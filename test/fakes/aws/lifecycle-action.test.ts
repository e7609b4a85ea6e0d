import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { createFakeAws } from './index.js';
import { seedWorld } from '../../../src/region/scenario.js';

const ASG = 'kamailio-lb-asg';
const HOOK = 'sipbake-drain';

function world(o: { heartbeat?: number; defaultResult?: 'CONTINUE' | 'ABANDON'; deregistrationDelay?: number } = {}) {
  // IAM off: these tests exercise the API's own validation (a wrong group would be an AccessDenied first).
  const h = createFakeAws({ drainAgent: false, iam: false });
  const w = seedWorld(h.fake, {
    desired: 2,
    heartbeat: o.heartbeat ?? 60,
    deregistrationDelay: o.deregistrationDelay ?? 0,
  });
  if (o.defaultResult) w.asg.hooks[0]!.DefaultResult = o.defaultResult;
  const inst = [...h.fake.instances.values()][0]!;
  return { h, w, inst };
}

const ids = (instanceId: string, over: Record<string, string> = {}) => ({
  AutoScalingGroupName: ASG,
  LifecycleHookName: HOOK,
  InstanceId: instanceId,
  ...over,
});

describe('the AWS fake: termination lifecycle actions', () => {
  it('holds a leaving instance in Terminating:Wait until the hook times out, then applies the DefaultResult', () => {
    const { h, inst } = world({ heartbeat: 60, defaultResult: 'ABANDON' });
    h.fake.beginTermination(inst);
    h.fake.advance(59_000);
    expect(inst.LifecycleState).toBe('Terminating:Wait');
    h.fake.advance(1000);
    expect(inst.LifecycleState).toBe('Terminated');
    expect(inst.lifecycleAction).toMatchObject({ result: 'ABANDON', endedBy: 'timeout', endedAt: h.fake.nowMs });
  });

  it('restarts the timeout on each heartbeat, up to GlobalTimeout = 100 × HeartbeatTimeout', async () => {
    const { h, inst } = world({ heartbeat: 30 });
    h.fake.beginTermination(inst);
    const t0 = h.fake.nowMs;
    // A heartbeat every 20 s keeps it waiting long past 30 s …
    for (let n = 0; n < 10; n++) {
      h.fake.advance(20_000);
      await h.clients.autoScaling.send(new RecordLifecycleActionHeartbeatCommand(ids(inst.InstanceId)));
    }
    expect(inst.LifecycleState).toBe('Terminating:Wait');
    expect(inst.lifecycleAction!.heartbeats).toHaveLength(10);
    expect(inst.lifecycleAction!.timeoutAt).toBe(h.fake.nowMs + 30_000);
    // … and 30 s after the last one it times out.
    h.fake.advance(30_000);
    expect(inst.lifecycleAction).toMatchObject({ endedBy: 'timeout', result: 'CONTINUE', endedAt: t0 + 230_000 });

    // GlobalTimeout: 3000 s for a 30 s hook, however often it heartbeats.
    const other = [...h.fake.instances.values()][1]!;
    h.fake.beginTermination(other);
    const t1 = h.fake.nowMs;
    while (other.LifecycleState === 'Terminating:Wait') {
      await h.clients.autoScaling.send(new RecordLifecycleActionHeartbeatCommand(ids(other.InstanceId)));
      h.fake.advance(10_000);
    }
    expect(other.lifecycleAction).toMatchObject({ endedBy: 'timeout' });
    expect(other.lifecycleAction!.endedAt! - t1).toBe(3000_000);
  });

  it('follows AWS’s order: Terminating and IMDS Terminated at once, deregistration delay first, only then Terminating:Wait', async () => {
    const { h, w, inst } = world({ heartbeat: 600, deregistrationDelay: 30 });
    const events: string[] = [];
    h.fake.onInstance((e, i) => i === inst && events.push(`${e}@${h.fake.elapsedSeconds}`));
    h.fake.beginTermination(inst);
    expect(inst.LifecycleState).toBe('Terminating');
    expect(inst.targetLifecycleState).toBe('Terminated');
    const health = async () =>
      (await h.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: w.tg.TargetGroupArn, Targets: [{ Id: inst.InstanceId }] })))
        .TargetHealthDescriptions![0]!.TargetHealth!.State;
    expect(await health()).toBe('draining');
    // No lifecycle action exists yet: completing it now is AWS's "No active Lifecycle Action" (issue 10).
    await expect(
      h.clients.autoScaling.send(new CompleteLifecycleActionCommand({ ...ids(inst.InstanceId), LifecycleActionResult: 'CONTINUE' })),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: `No active Lifecycle Action found with instance ID ${inst.InstanceId}`,
    });
    h.fake.advance(29_000);
    expect(inst.LifecycleState).toBe('Terminating');
    h.fake.advance(1000);
    expect(inst.LifecycleState).toBe('Terminating:Wait');
    expect(await health()).toBe('unused');
    // The hook's timeout counts from Terminating:Wait, not from the start of the termination.
    expect(inst.lifecycleAction).toMatchObject({ startedAt: h.fake.nowMs, timeoutAt: h.fake.nowMs + 600_000 });
    h.fake.advance(10_000);
    await h.clients.autoScaling.send(new CompleteLifecycleActionCommand({ ...ids(inst.InstanceId), LifecycleActionResult: 'CONTINUE' }));
    expect(inst.LifecycleState).toBe('Terminated');
    expect(inst.lifecycleAction).toMatchObject({ result: 'CONTINUE', endedBy: 'complete', endedAt: h.fake.nowMs });
    expect(events).toEqual(['terminating@0', 'deregistered@30', 'wait@30', 'terminated@40']);
  });

  it('rejects a wrong hook, a wrong group, an instance not waiting and a second completion with AWS’s ValidationError', async () => {
    const { h, w, inst } = world();
    const other = [...h.fake.instances.values()][1]!;
    h.fake.addAsg({
      AutoScalingGroupName: 'other-asg',
      desired: 0,
      launchTemplate: w.asg.launchTemplate!,
      hooks: [...w.asg.hooks],
    });
    h.fake.beginTermination(inst);
    const send = (cmd: 'heartbeat' | 'complete', over: Record<string, string> = {}, id = inst.InstanceId): Promise<unknown> =>
      cmd === 'heartbeat'
        ? h.clients.autoScaling.send(new RecordLifecycleActionHeartbeatCommand(ids(id, over)))
        : h.clients.autoScaling.send(new CompleteLifecycleActionCommand({ ...ids(id, over), LifecycleActionResult: 'CONTINUE' }));
    const noAction = (id: string) => ({
      name: 'ValidationError',
      message: `No active Lifecycle Action found with instance ID ${id}`,
    });
    for (const cmd of ['heartbeat', 'complete'] as const) {
      await expect(send(cmd, { LifecycleHookName: 'other-hook' })).rejects.toMatchObject(noAction(inst.InstanceId));
      await expect(send(cmd, { AutoScalingGroupName: 'other-asg' })).rejects.toMatchObject(noAction(inst.InstanceId));
      await expect(send(cmd, {}, other.InstanceId)).rejects.toMatchObject(noAction(other.InstanceId));
      await expect(send(cmd, { AutoScalingGroupName: 'nope' })).rejects.toMatchObject({
        name: 'ValidationError',
        message: /AutoScalingGroup 'nope' not found/,
      });
    }
    await expect(
      h.clients.autoScaling.send(new CompleteLifecycleActionCommand({ ...ids(inst.InstanceId), LifecycleActionResult: 'MAYBE' })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    // None of the rejected calls touched the action.
    expect(inst.lifecycleAction).toMatchObject({ heartbeats: [] });
    expect(inst.lifecycleAction!.endedBy).toBeUndefined();
    await send('complete');
    await expect(send('complete')).rejects.toMatchObject(noAction(inst.InstanceId));
    await expect(send('heartbeat')).rejects.toMatchObject(noAction(inst.InstanceId));
  });

  it('DescribeAutoScalingInstances gives group, lifecycle state and launch template; terminated instances drop out', async () => {
    const { h, w, inst } = world();
    const other = [...h.fake.instances.values()][1]!;
    h.fake.beginTermination(inst);
    const out = await h.clients.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [inst.InstanceId, 'i-0unknown'] }));
    expect(out.AutoScalingInstances).toEqual([
      {
        InstanceId: inst.InstanceId,
        InstanceType: 't3.small',
        AutoScalingGroupName: ASG,
        AvailabilityZone: 'us-east-1a',
        LifecycleState: 'Terminating:Wait',
        HealthStatus: 'HEALTHY',
        LaunchTemplate: { LaunchTemplateId: w.lt.LaunchTemplateId, LaunchTemplateName: 'kamailio-lb', Version: '1' },
        ProtectedFromScaleIn: false,
      },
    ]);
    const all = await h.clients.autoScaling.send(new DescribeAutoScalingInstancesCommand({}));
    expect(all.AutoScalingInstances!.map((i) => i.InstanceId).sort()).toEqual([inst.InstanceId, other.InstanceId].sort());
    h.fake.advance(60_000);
    const gone = await h.clients.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [inst.InstanceId] }));
    expect(gone.AutoScalingInstances).toEqual([]);
  });

  it('an instance refresh waits for each replaced instance’s lifecycle action (no drain agent: the hook timeout)', async () => {
    const { h, w } = world({ heartbeat: 120 });
    const old = [...h.fake.instances.values()];
    const v = await h.clients.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: w.lt.LaunchTemplateId,
        SourceVersion: '1',
        LaunchTemplateData: { ImageId: w.newAmi.ImageId },
      }),
    );
    await h.clients.autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: ASG,
        DesiredConfiguration: {
          LaunchTemplate: {
            LaunchTemplateId: w.lt.LaunchTemplateId,
            Version: String(v.LaunchTemplateVersion!.VersionNumber),
          },
        },
        Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, SkipMatching: true },
      }),
    );
    h.fake.advance(100_000);
    expect(old.map((i) => i.LifecycleState)).toEqual(['Terminating:Wait', 'Terminating:Wait']);
    h.fake.advance(100_000);
    expect(old.map((i) => i.LifecycleState)).toEqual(['Terminated', 'Terminated']);
    expect(old.map((i) => i.lifecycleAction!.endedBy)).toEqual(['timeout', 'timeout']);
  });
});
