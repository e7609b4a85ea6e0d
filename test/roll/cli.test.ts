// The roll-family commands through main(), against the fake installed on the SDK client classes.
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { seedWorld, type World } from '../../src/region/scenario.js';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kamailio-lb-tg/0123456789abcdef';
let restore: (() => void) | undefined;
afterEach(() => restore?.());

function world(o: Parameters<typeof seedWorld>[1] = {}): { fake: FakeAws; w: World } {
  const fake = new FakeAws();
  const w = seedWorld(fake, { targetGroupArn: TG, ...o });
  restore = installFakeAws(fake);
  return { fake, w };
}

// The parts of each --json document these tests read.
interface PlanDoc {
  plan: { mode: string; findings: { level: string; check: string }[] };
}
interface SummaryDoc {
  summary: { instances: { ami: string }[] };
}
interface HistoryDoc {
  amis: { ami: string; live: boolean; lastKnownGood: boolean }[];
}
interface StatusDoc {
  status: { rejected: unknown[] };
}
interface PolicyDoc {
  Statement: {
    Sid?: string;
    Action: string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string>>;
  }[];
}

async function cli<Doc = unknown>(args: string[], json = false) {
  const reporter = new RecordingReporter(json);
  const code = await main(args, { reporter, cwd: process.cwd(), env: {}, signal: new AbortController().signal });
  return { code, reporter, out: reporter.text(), result: reporter.results[0] as Doc };
}

describe('sipbake roll/rollback/status/history/iam', () => {
  it('roll --plan shows the AMI diff, launch template diff, batches, duration and the drain checks, and changes nothing', async () => {
    const { fake, w } = world({ heartbeat: 300, deregistrationDelay: 30 });
    const r = await cli(['roll', 'twilio-relay', '--plan']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`ImageId: ${w.oldAmi.ImageId} → ${w.newAmi.ImageId}`);
    expect(r.out).toMatch(/kamailio-version\s+5\.8\.3 → 5\.8\.4/);
    expect(r.out).toMatch(/rtpproxy-version\s+3\.0\.1 \(same\)/);
    expect(r.out).toMatch(/batches \(2\):\n\s+1\. launch 1, then terminate 1; checkpoint 50%\n\s+2\. launch 1, then terminate 1/);
    // Each batch waits out the 30 s deregistration delay and one agent poll before its hook (AWS's order).
    expect(r.out).toMatch(/expected duration: 16 min 10 s \(up to 45 min 10 s while calls drain\)/);
    // Heartbeats keep a 300 s hook open up to 100 x 300 s; a relay without media needs no delay as long as the drain.
    expect(r.out).toMatch(/ok\s+terminationHook: termination hook sipbake-drain: heartbeat timeout 300 s, heartbeats keep it open up to 30000 s/);
    expect(r.out).toMatch(/ok\s+deregistrationDelay: deregistration delay kamailio-lb-tg 30 s: each replaced instance takes at least 30 s/);
    expect(fake.calls.filter((c) => !/^Describe/.test(c.command))).toEqual([]);
  });

  it('roll --plan --json is one document with every refusal, and exits 1 when it would refuse', async () => {
    const { fake } = world({ version: '$Default' });
    fake.asgs.get('kamailio-lb-asg')!.HealthCheckType = 'EC2';
    const r = await cli<PlanDoc>(['roll', 'twilio-relay', '--plan', '--json'], true);
    expect(r.code).toBe(1);
    expect(r.result.plan.mode).toBe('refuse');
    expect(r.result.plan.findings.filter((f) => f.level === 'refuse').map((f) => f.check)).toEqual(['pinnedVersion', 'healthCheckIsElb']);
  });

  it('roll --json prints one summary document (here: the newest AMI is already live, so nothing to wait for)', async () => {
    const { fake, w } = world();
    fake.images.get(w.newAmi.ImageId)!.Tags['sipbake:built-at'] = '2000-01-01T00:00:00.000Z';
    const r = await cli<SummaryDoc>(['roll', 'twilio-relay', '--json', '--yes'], true);
    expect(r.code).toBe(0);
    expect(r.reporter.results).toHaveLength(1);
    expect(r.result).toMatchObject({ ok: true, summary: { outcome: 'noop', to: { ami: w.oldAmi.ImageId } } });
    expect(r.result.summary.instances.map((i) => i.ami)).toEqual([w.oldAmi.ImageId, w.oldAmi.ImageId]);
    expect(fake.callsOf('StartInstanceRefresh')).toHaveLength(0);
  });

  it('status and history show the live AMI, last-known-good and the refresh', async () => {
    const { w } = world();
    w.asg.tags['sipbake:last-known-good'] = `version 1 ${w.oldAmi.ImageId}`;
    const s = await cli(['status', 'twilio-relay']);
    expect(s.code).toBe(0);
    expect(s.out).toContain(`version 1, live AMI ${w.oldAmi.ImageId}`);
    expect(s.out).toContain(`last-known-good: version 1 ${w.oldAmi.ImageId}`);
    const h = await cli<HistoryDoc>(['history', 'twilio-relay', '--json'], true);
    expect(h.code).toBe(0);
    expect(h.result.amis.map((a) => [a.ami, a.live, a.lastKnownGood])).toEqual([
      [w.newAmi.ImageId, false, false],
      [w.oldAmi.ImageId, true, true],
    ]);
  });

  it('status shows the roll holding the lease and the rejected AMIs', async () => {
    const { w } = world();
    const expires = new Date(Date.now() + 600_000).toISOString();
    w.asg.tags['sipbake:lease'] = `owner=alice@ci:7 start=2026-01-01T00:00:00.000Z expires=${expires} token=t1`;
    w.asg.tags[`sipbake:rejected:${w.newAmi.ImageId}`] = '2026-01-01T00:10:00.000Z 2 instance(s) went unhealthy';
    const s = await cli<StatusDoc>(['status', 'twilio-relay', '--json'], true);
    expect(s.code).toBe(0);
    expect(s.out).toContain(`roll in progress: alice@ci:7 since 2026-01-01T00:00:00.000Z (lease expires ${expires})`);
    expect(s.out).toContain(`rejected: ${w.newAmi.ImageId} at 2026-01-01T00:10:00.000Z: 2 instance(s) went unhealthy`);
    expect(s.result.status.rejected).toEqual([{ ami: w.newAmi.ImageId, at: '2026-01-01T00:10:00.000Z', reason: '2 instance(s) went unhealthy' }]);
  });

  it('an AWS failure becomes a sentence with a fix (exit 1), not an internal error', async () => {
    const { fake } = world();
    fake.faults.add({
      command: 'DescribeAutoScalingGroups',
      error: 'AccessDenied',
      message: 'not authorized to perform autoscaling:DescribeAutoScalingGroups',
    });
    const r = await cli(['status', 'twilio-relay']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('AWS denied describing kamailio-lb-asg');
    expect(r.out).toContain('fix: attach the policy printed by `sipbake iam roll`');
    const p = await cli(['roll', 'twilio-relay', '--plan']);
    expect(p.code).toBe(1);
    expect(p.out).toContain('AWS denied rolling twilio-relay onto kamailio-lb-asg');
  });

  it('rollback needs exactly one of --to and --previous (usage error, exit 2)', async () => {
    world();
    expect((await cli(['rollback', 'twilio-relay'])).code).toBe(2);
    const bad = await cli(['rollback', 'twilio-relay', '--to', 'latest']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--to latest is not an AMI id');
  });

  it('iam roll scopes writes to the group; iam build limits deregistering to this image', async () => {
    const roll = await cli<PolicyDoc>(['iam', 'roll', '--image', 'twilio-relay', '--account', '123456789012', '--json'], true);
    expect(roll.code).toBe(0);
    const writes = roll.result.Statement.find((s) => s.Sid === 'RefreshThisGroup')!;
    expect(writes.Resource).toBe('arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/kamailio-lb-asg');
    expect(writes.Action).toContain('autoscaling:RollbackInstanceRefresh');
    expect(JSON.stringify(roll.result)).not.toContain('UpdateAutoScalingGroup');
    const build = await cli<PolicyDoc>(['iam', 'build', '--image', 'twilio-relay', '--json'], true);
    const retire = build.result.Statement.find((s) => s.Sid === 'RetireOnlyThisImagesAmis')!;
    expect(retire.Condition!.StringEquals!['aws:ResourceTag/sipbake:image']).toBe('twilio-relay');
  });
});
