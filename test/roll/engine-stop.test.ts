// Issue 19 items 5-6 through main(): a stopped roll prints its recovery lines (and --json carries them), the lease
// can be released with its holder shown, an empty --ami is a usage error, and preflight refuses a deregistration
// delay the drain cannot outlast.
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter, type ProgressEvent } from '../../src/core/reporter.js';
import { formatLease } from '../../src/roll/tags.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';
import { harness, run } from './helpers.js';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kamailio-lb-tg/0123456789abcdef';
let restore: (() => void) | undefined;
afterEach(() => restore?.());

function world(o: Parameters<typeof seedWorld>[1] = {}) {
  const fake = new FakeAws();
  const w = seedWorld(fake, { targetGroupArn: TG, ...o });
  restore = installFakeAws(fake);
  return { fake, w };
}

async function cli(args: string[], o: { json?: boolean; abortOn?: (e: ProgressEvent) => boolean } = {}) {
  const rec = new RecordingReporter(o.json ?? false);
  const ac = new AbortController();
  const reporter = Object.assign(Object.create(Object.getPrototypeOf(rec) as object) as RecordingReporter, rec, {
    event: (e: ProgressEvent) => {
      rec.event(e);
      if (o.abortOn?.(e)) ac.abort();
    },
  });
  const code = await main(args, { reporter, cwd: process.cwd(), env: {}, signal: ac.signal });
  return { code, out: rec.text(), results: rec.results as Record<string, unknown>[] };
}

describe('stopping a roll', () => {
  it('Ctrl-C after the refresh started prints the refresh id and the status/rollback commands; --json carries them', async () => {
    const { fake } = world({ desired: 2 });
    const r = await cli(['roll', 'twilio-relay', '--yes', '--json'], { json: true, abortOn: (e) => e.event === 'refresh' });
    expect(r.code).toBe(130);
    const id = fake.refreshes[0]!.InstanceRefreshId;
    expect(r.out).toContain(`instance refresh ${id} of kamailio-lb-asg (us-east-1) goes on in AWS`);
    expect(r.out).toMatch(/sipbake status twilio-relay/);
    expect(r.out).toMatch(/sipbake rollback twilio-relay --to ami-/);
    const doc = r.results.at(-1) as { recovery: string[] };
    expect(doc.recovery.length).toBeGreaterThan(0);
    // The lease was released on the way out.
    expect(fake.asgs.get('kamailio-lb-asg')!.tags['sipbake:lease']).toBeUndefined();
  });

  it('sipbake unlock releases a lease left by a dead roll and names its holder', async () => {
    const { fake } = world({ desired: 2 });
    const asg = fake.asgs.get('kamailio-lb-asg')!;
    const held = {
      owner: 'ci@runner-9:42',
      token: 'abc',
      startedAt: new Date(fake.nowMs).toISOString(),
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    };
    asg.tags['sipbake:lease'] = formatLease(held);
    const refused = await cli(['roll', 'twilio-relay', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/another roll holds kamailio-lb-asg: ci@runner-9:42/);
    expect(refused.out).toMatch(/sipbake unlock twilio-relay/);
    const u = await cli(['unlock', 'twilio-relay']);
    expect(u.code).toBe(0);
    expect(u.out).toMatch(/released the roll lease on kamailio-lb-asg: held by ci@runner-9:42/);
    expect(asg.tags['sipbake:lease']).toBeUndefined();
  });

  it.each([[''], ['latest']])('roll --ami %j is a usage error (exit 2) and touches nothing', async (ami) => {
    const { fake } = world({ desired: 2 });
    const r = await cli(['roll', 'twilio-relay', '--ami', ami, '--yes']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/is not an AMI id/);
    expect(fake.callsOf('StartInstanceRefresh')).toHaveLength(0);
  });
});

describe('preflight: the deregistration delay', () => {
  it('refuses a delay longer than drain.maxSeconds + the hook timeout (the agent would give up first)', async () => {
    const h = harness({ desired: 2, heartbeat: 960, deregistrationDelay: 2000 });
    const r = await run(h);
    expect(r.exitCode).toBe(1);
    expect(r.reporter.text()).toMatch(/deregistrationDelay: deregistration delay kamailio-lb-tg 2000 s outlasts the drain/);
    expect(r.reporter.text()).toMatch(/deregistration_delay.timeout_seconds,Value=900/);
    expect(h.fake.callsOf('StartInstanceRefresh')).toHaveLength(0);
  });
});
