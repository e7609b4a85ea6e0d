// Issue 15's roll parts: NDJSON progress during a roll, the confirmation, --yes off a terminal, --detailed-exitcode.
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ConsoleReporter, RecordingReporter } from '../../src/core/reporter.js';
import { canPrompt, terminalConfirm } from '../../src/cli/roll-confirm.js';
import { runRoll } from '../../src/roll/run.js';
import { FakeAws, installFakeAws } from '../fakes/aws/index.js';
import { seedWorld } from '../../src/region/scenario.js';
import { harness } from './helpers.js';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kamailio-lb-tg/0123456789abcdef';
let restore: (() => void) | undefined;
afterEach(() => restore?.());

function sink(onWrite: (text: string) => void): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      onWrite(String(chunk));
      done();
    },
  });
}

describe('--json progress: one JSON event per line on stderr while the roll runs, one document on stdout', () => {
  it('streams stage, instance, health, checkpoint and drain events during a faked roll', async () => {
    const h = harness({
      desired: 4,
      fake: { drainSeconds: 40 },
      refresh: { checkpointPercentages: [50, 100], checkpointDelay: 60 },
    });
    const lines: { stream: 'out' | 'err'; text: string; simSeconds: number }[] = [];
    const at = () => h.fake.elapsedSeconds;
    const reporter = new ConsoleReporter(
      true,
      false,
      sink((t) => lines.push({ stream: 'out', text: t, simSeconds: at() })),
      sink((t) => lines.push({ stream: 'err', text: t, simSeconds: at() })),
    );
    const r = await runRoll(
      { kind: 'roll', image: 'twilio-relay', deploy: h.deploy, drainMaxSeconds: 900 },
      {
        clients: h.clients,
        clock: h.fake.clock,
        reporter,
        signal: new AbortController().signal,
        renderer: 'silent',
        owner: 'ci@runner:1',
      },
    );
    reporter.result({ ok: r.exitCode === 0, summary: r.summary });
    expect(r.exitCode).toBe(0);
    const err = lines.filter((l) => l.stream === 'err');
    const events = err
      .filter((l) => l.text.startsWith('{'))
      .map((l): Record<string, unknown> & { simSeconds: number } => ({ ...(JSON.parse(l.text) as Record<string, unknown>), simSeconds: l.simSeconds }));
    // Every stderr line that is JSON is exactly one event with a kind and a time.
    for (const e of events) expect(e).toMatchObject({ event: expect.any(String), at: expect.any(String) });
    const kinds = new Set(events.map((e) => e['event']));
    for (const k of ['stage', 'refresh', 'refresh-progress', 'instance', 'checkpoint', 'drain']) expect(kinds).toContain(k);
    // The refresh id and launch template version are announced when the refresh starts, not at the end.
    const started = events.find((e) => e['event'] === 'refresh' && e['version'] === 2)!;
    expect(started).toMatchObject({
      refreshId: r.summary.refreshId,
      launchTemplate: h.world.lt.LaunchTemplateId,
      ami: h.world.newAmi.ImageId,
    });
    expect(started.simSeconds).toBeLessThan(10);
    // They arrive during the roll: spread over the simulated minutes it takes, drains included.
    const times = events.map((e) => e.simSeconds);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(200);
    expect(events.filter((e) => e['event'] === 'drain' && e['state'] === 'Terminating:Wait').length).toBeGreaterThanOrEqual(4);
    expect(events.some((e) => e['event'] === 'stage' && e['stage'] === 'wait' && e['state'] === 'done' && typeof e['seconds'] === 'number')).toBe(true);
    // stdout holds only the one result document, written last.
    const out = lines
      .filter((l) => l.stream === 'out')
      .map((l) => l.text)
      .join('');
    expect(JSON.parse(out)).toMatchObject({ ok: true, summary: { outcome: 'succeeded' } });
    expect(lines.at(-1)!.stream).toBe('out');
  });

  it('a failed gate is a health event with the reasons, and the wait stage ends failed', async () => {
    const h = harness({ desired: 2 });
    h.fake.images.get(h.world.newAmi.ImageId)!.health = 'unhealthy';
    const reporter = new RecordingReporter(true);
    await runRoll(
      { kind: 'roll', image: 'twilio-relay', deploy: h.deploy, drainMaxSeconds: 900 },
      {
        clients: h.clients,
        clock: h.fake.clock,
        reporter,
        signal: new AbortController().signal,
        renderer: 'silent',
        owner: 'ci@runner:1',
      },
    );
    expect(reporter.events.find((e) => e.event === 'health')).toMatchObject({
      gate: 'failed',
      reasons: [expect.stringMatching(/went unhealthy or were replaced/)],
    });
    expect(reporter.events.find((e) => e.event === 'stage' && e['stage'] === 'wait' && e['state'] === 'failed')).toMatchObject({
      reason: expect.stringMatching(/^gate failed: /),
    });
    expect(reporter.events.find((e) => e.event === 'rollback' && e.how === 'aws-rollback')).toBeDefined();
  });
});

describe('confirmation', () => {
  function world() {
    const fake = new FakeAws();
    const w = seedWorld(fake, { targetGroupArn: TG });
    restore = installFakeAws(fake);
    return { fake, w };
  }
  const cli = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const reporter = new RecordingReporter(args.includes('--json'));
    const code = await main(args, { reporter, cwd: process.cwd(), env, signal: new AbortController().signal });
    return { code, out: reporter.text(), reporter };
  };

  it.each([
    ['off a terminal', {}],
    ['with CI=true', { CI: 'true' }],
  ])('roll and rollback refuse to go on without --yes %s (usage error, exit 2), before touching AWS', async (_where, env) => {
    const { fake, w } = world();
    for (const args of [
      ['roll', 'twilio-relay'],
      ['rollback', 'twilio-relay', '--to', w.oldAmi.ImageId],
    ]) {
      const r = await cli(args, env);
      expect(r.code).toBe(2);
      expect(r.out).toMatch(
        /changes the Auto Scaling group and there is no terminal to confirm in \(not a TTY, or CI is set\): pass --yes to go ahead, or --plan/,
      );
    }
    expect(fake.calls).toEqual([]);
    // With --yes it goes on (here the newest AMI is already live, so the CLI's real clock never has to wait).
    fake.images.get(w.newAmi.ImageId)!.Tags['sipbake:built-at'] = '2000-01-01T00:00:00.000Z';
    const ok = await cli(['roll', 'twilio-relay', '--yes'], env);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/already runs ami-\w+ \(launch template and every instance\); nothing to roll/);
  });

  it('prompts only on a terminal without CI', () => {
    expect(canPrompt({}, { isTTY: true }, { isTTY: true })).toBe(true);
    expect(canPrompt({ CI: 'true' }, { isTTY: true }, { isTTY: true })).toBe(false);
    expect(canPrompt({}, { isTTY: false }, { isTTY: true })).toBe(false);
  });

  it.each([
    ['y', true],
    ['yes', true],
    ['', false],
    ['n', false],
  ])('shows the plan first, then asks; answer %j → %s', async (answer, want) => {
    const input = new PassThrough();
    let shown = '';
    const output = sink((t) => {
      shown += t;
      if (t.includes('[y/N]')) input.write(`${answer}\n`);
    });
    const h2 = harness({ desired: 2 });
    const reporter = new RecordingReporter();
    const result = await runRoll(
      { kind: 'roll', image: 'twilio-relay', deploy: h2.deploy, drainMaxSeconds: 900 },
      {
        clients: h2.clients,
        clock: h2.fake.clock,
        reporter,
        signal: new AbortController().signal,
        renderer: 'silent',
        owner: 'me@tty:1',
        confirm: terminalConfirm('roll', input, output),
      },
    ).catch((e: unknown) => e);
    expect(shown).toMatch(/roll plan for twilio-relay → kamailio-lb-asg: start[\s\S]*batches[\s\S]*Roll kamailio-lb-asg onto ami-\w+\? \[y\/N\]/);
    if (want) expect(result).toMatchObject({ exitCode: 0 });
    else {
      expect((result as Error).message).toMatch(/roll of twilio-relay not confirmed; nothing changed/);
      expect(h2.fake.calls.filter((c) => !/^Describe/.test(c.command))).toEqual([]);
    }
  });

  it('--plan --detailed-exitcode: 0 nothing to change, 3 changes, 1 refused; without --plan a usage error', async () => {
    const { fake, w } = world();
    expect((await cli(['roll', 'twilio-relay', '--plan', '--detailed-exitcode'])).code).toBe(3);
    expect((await cli(['roll', 'twilio-relay', '--plan'])).code).toBe(0);
    expect((await cli(['rollback', 'twilio-relay', '--to', w.oldAmi.ImageId, '--plan', '--detailed-exitcode'])).code).toBe(0);
    expect((await cli(['roll', 'twilio-relay', '--detailed-exitcode', '--yes'])).code).toBe(2);
    fake.asgs.get('kamailio-lb-asg')!.HealthCheckType = 'EC2';
    expect((await cli(['roll', 'twilio-relay', '--plan', '--detailed-exitcode'])).code).toBe(1);
    expect(fake.calls.filter((c) => !/^Describe/.test(c.command))).toEqual([]);
  });
});

describe('interrupt', () => {
  it('registers recovery lines once the refresh runs: the refresh id and the exact status and rollback commands', async () => {
    const h = harness({ desired: 2, fake: { drainSeconds: 40 } });
    const ac = new AbortController();
    let provider: (() => readonly string[]) | undefined;
    let unregistered = false;
    const reporter = new RecordingReporter(true);
    const done = runRoll(
      { kind: 'roll', image: 'twilio-relay', deploy: h.deploy, drainMaxSeconds: 900 },
      {
        clients: h.clients,
        clock: h.fake.clock,
        reporter: {
          json: reporter.json,
          line: (m, l) => reporter.line(m, l),
          result: (v) => reporter.result(v),
          // Interrupt as soon as the refresh has started: sipbake stops watching, AWS goes on.
          event: (e) => {
            reporter.event(e);
            if (e.event === 'refresh') ac.abort();
          },
        },
        signal: ac.signal,
        renderer: 'silent',
        owner: 'ci@runner:1',
        onInterrupt: (lines) => {
          provider = lines;
          return () => {
            unregistered = true;
          };
        },
      },
    ).catch((e: unknown) => e);
    const err = await done;
    expect(err).toBeInstanceOf(Error);
    const refreshId = reporter.events.find((e) => e.event === 'refresh')?.refreshId as string;
    expect(refreshId).toBeTruthy();
    const lines = provider?.() ?? [];
    expect(lines[0]).toContain(`instance refresh ${refreshId} of kamailio-lb-asg`);
    expect(lines.join('\n')).toContain('sipbake status twilio-relay');
    expect(lines.join('\n')).toMatch(/sipbake rollback twilio-relay --to ami-/);
    // Still registered: the CLI reads them after runRoll has returned (issue 19 item 6: they used to be gone by then).
    expect(unregistered).toBe(false);
  });
});
