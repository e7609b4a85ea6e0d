// `sipbake drain INSTANCE-ID --image IMAGE` against the AWS model (IAM on: the roll role's policy): the plan first,
// then TerminateInstanceInAutoScalingGroup without decrementing, which starts the termination hook's wait (the agent's
// drain) and a replacement. Refusals change nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';
import type { FakeInstance } from '../../src/region/model.js';

let restore: (() => void) | undefined;
afterEach(() => restore?.());

function world(opts: Parameters<typeof seedWorld>[1] = {}) {
  // Nobody completes the hook: the instance stays in Terminating:Wait, as while the real agent drains.
  const fake = new FakeAws({ drainAgent: false });
  const w = seedWorld(fake, opts);
  restore = installFakeAws(fake);
  const members = [...fake.instances.values()].filter((i) => i.asg === w.asg.AutoScalingGroupName);
  return { fake, w, members };
}

async function drain(...args: string[]) {
  const reporter = new RecordingReporter(true);
  const code = await main(['drain', ...args], { reporter, env: { CI: 'true' }, signal: new AbortController().signal });
  return { code, reporter, text: reporter.lines.map((l) => l.message).join('\n') };
}

const terminations = (f: FakeAws) => f.calls.filter((c) => c.command === 'TerminateInstanceInAutoScalingGroup');

describe('sipbake drain', () => {
  it('--yes: shows the plan, terminates without decrementing; the hook holds the instance and a replacement launches', async () => {
    const { fake, w, members } = world({ heartbeat: 300 });
    const target: FakeInstance = members[0]!;
    const before = members.length;
    const r = await drain(target.InstanceId, '--image', 'twilio-relay', '--yes', '--json');
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(new RegExp(`^Drain ${target.InstanceId} of ${w.asg.AutoScalingGroupName} \\(twilio-relay, us-east-1\\):`, 'm'));
    expect(r.text).toMatch(/Lifecycle hook sipbake-drain: Terminating:Wait, heartbeat timeout 300 s/);
    expect(r.text).toMatch(/drain\.maxSeconds = \d+ s/);
    expect(terminations(fake).map((c) => c.input)).toEqual([{ InstanceId: target.InstanceId, ShouldDecrementDesiredCapacity: false }]);
    fake.advance(1000);
    expect(target.LifecycleState).toMatch(/^Terminating/);
    expect(w.asg.DesiredCapacity).toBe(before);
    const now = [...fake.instances.values()].filter((i) => i.asg === w.asg.AutoScalingGroupName && !i.LifecycleState.startsWith('Terminat'));
    expect(now).toHaveLength(before); // the replacement
    expect(r.reporter.results[0]).toMatchObject({ ok: true, drained: true, activity: { description: `Terminating EC2 instance: ${target.InstanceId}` } });
  });

  it('in CI without --yes: the plan, then exit 2 and nothing terminated', async () => {
    const { fake, members } = world();
    const r = await drain(members[0]!.InstanceId, '--image', 'twilio-relay');
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/^Drain i-/m);
    expect(r.text).toMatch(/add --yes: sipbake drain i-\S+ --image twilio-relay --yes/);
    expect(terminations(fake)).toHaveLength(0);
  });

  it.each([
    [
      'an instance already leaving',
      (f: FakeAws, m: FakeInstance[]) => (f.beginTermination(m[0]!), m[0]!.InstanceId),
      /is Terminating\S*, not InService: it is already leaving/,
    ],
    ['an instance of no group', () => 'i-0000000000000dead', /i-0000000000000dead is not in any Auto Scaling group in us-east-1/],
  ])('refuses %s, and changes nothing', async (_, pick, message) => {
    const { fake, members } = world();
    const r = await drain(pick(fake, members), '--image', 'twilio-relay', '--yes');
    expect(r.code).toBe(1);
    expect(r.text).toMatch(message);
    expect(terminations(fake)).toHaveLength(0);
  });

  it('refuses a group without the termination hook: the instance would go without waiting for its calls', async () => {
    const { fake, members } = world({ hook: false });
    const r = await drain(members[0]!.InstanceId, '--image', 'twilio-relay', '--yes');
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/has no termination lifecycle hook named sipbake-drain/);
    expect(terminations(fake)).toHaveLength(0);
  });

  it('a malformed id is a usage error (exit 2) before any AWS call', async () => {
    const { fake } = world();
    const r = await drain('web-1', '--image', 'twilio-relay', '--yes');
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/"web-1" is not an instance id/);
    expect(fake.calls).toHaveLength(0);
  });
});

// The model's TerminateInstanceInAutoScalingGroup, as the AWS API reference documents it
// (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TerminateInstanceInAutoScalingGroup.html).
describe('the AWS model: TerminateInstanceInAutoScalingGroup', () => {
  it('ShouldDecrementDesiredCapacity true: no replacement, the desired capacity drops; refused below MinSize; required', async () => {
    const { TerminateInstanceInAutoScalingGroupCommand } = await import('@aws-sdk/client-auto-scaling');
    const { createFakeAws } = await import('../fakes/aws/index.js');
    const h = createFakeAws({ drainAgent: false });
    try {
      const w = seedWorld(h.fake, { desired: 3 });
      w.asg.MinSize = 2;
      const ids = [...h.fake.instances.values()].filter((i) => i.asg === w.asg.AutoScalingGroupName).map((i) => i.InstanceId);
      const send = (InstanceId: string, ShouldDecrementDesiredCapacity?: boolean) =>
        h.clients.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId, ShouldDecrementDesiredCapacity }));
      await expect(send(ids[0]!)).rejects.toMatchObject({ name: 'ValidationError' });
      await send(ids[0]!, true);
      expect(w.asg.DesiredCapacity).toBe(2);
      expect(h.fake.instances.size).toBe(ids.length); // nothing launched
      await expect(send(ids[1]!, true)).rejects.toThrow(/desiredCapacity is 2 and minSize is 2/);
      await expect(send('i-0000000000000dead', false)).rejects.toThrow(/No managed instance found for instance ID: i-0000000000000dead/);
    } finally {
      h.restore();
    }
  });
});
