// `sipbake status IMAGE` lists every instance: AMI, lifecycle state, Auto Scaling health, each target group's
// view, and DRAINING for one that is leaving (AWS's order: deregistration first, then the hook's wait).
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kamailio-lb-tg/0123456789abcdef';
let restore: (() => void) | undefined;
afterEach(() => restore?.());

describe('sipbake status: every instance', () => {
  it('shows AMI, lifecycle, health and target state, and marks the one that drains', async () => {
    const fake = new FakeAws({ drainAgent: false }); // nobody completes the hook: the instance stays leaving
    const w = seedWorld(fake, { targetGroupArn: TG, deregistrationDelay: 300 });
    restore = installFakeAws(fake);
    const [leaving, staying] = [...fake.instances.values()].filter((i) => i.asg === w.asg.AutoScalingGroupName);
    fake.beginTermination(leaving!);
    fake.advance(1000);
    const reporter = new RecordingReporter(true);
    const code = await main(['status', 'twilio-relay', '--json'], { reporter, env: {}, signal: new AbortController().signal });
    expect(code).toBe(0);
    const rows = (
      reporter.results[0] as { status: { rows: { id: string; ami: string; lifecycle: string; targets: Record<string, string>; draining: boolean }[] } }
    ).status.rows;
    expect(rows.find((r) => r.id === leaving!.InstanceId)).toMatchObject({
      ami: w.oldAmi.ImageId,
      lifecycle: 'Terminating',
      targets: { 'kamailio-lb-tg': 'draining' },
      draining: true,
    });
    expect(rows.find((r) => r.id === staying!.InstanceId)).toMatchObject({ lifecycle: 'InService', targets: { 'kamailio-lb-tg': 'healthy' }, draining: false });
    const text = reporter.lines.map((l) => l.message).join('\n');
    expect(text).toMatch(new RegExp(`${leaving!.InstanceId} ${w.oldAmi.ImageId} Terminating \\S+ kamailio-lb-tg=draining DRAINING`));
  });
});
