// The performer (effects): takes snapshots, steps the pure machine, runs its actions, sleeps one poll, again.
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { RefreshPreferences } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients.js';
import type { Clock } from '../aws/clock.js';
import { aws, awsErrorKind, type Retryable } from '../aws/errors.js';
import { UserError } from '../core/errors.js';
import type { ProgressEvent, Reporter } from '../core/reporter.js';
import { beginRollback, tagGroup } from './apply.js';
import { describeFleet } from './fleet.js';
import { rollbackStarted, step, type Action, type MachineParams, type MachineState, type Snap } from './roll-machine.js';
import { describeGroup, describeRefreshes } from './observe.js';
import { retryThrottled } from './retry.js';
import { ACTIVE_STATUSES, type TargetGroupInfo } from './types.js';

export interface PerformDeps {
  clients: AwsClients;
  clock: Clock;
  signal: AbortSignal;
  reporter: Reporter;
  asgName: string;
  targetGroups: TargetGroupInfo[];
  alarms: string[];
  pollSeconds: number;
  preferences: RefreshPreferences;
  /** Each progress event (listr2 output), besides the reporter's NDJSON. */
  onEvent?: (e: ProgressEvent) => void;
  /** Each snapshot (listr2 shows the refresh line and every instance). */
  onSnap?: (o: Snap) => void;
  /** Runs once per poll (the lease renewal). */
  onPoll?: () => Promise<void>;
  /** Each new machine state, as soon as it is known (so an error or interrupt mid-watch leaves ctx.state current). */
  onState?: (s: MachineState) => void;
  /** How long polls may keep failing with retryable errors before the watch gives up (default 10 minutes). */
  watchErrorBoundMs?: number;
}

export interface Driven {
  state: MachineState;
  /** Tag writes that still failed after the retries (the record a re-run repairs). */
  tagFailures: string[];
}

async function snapshot(d: PerformDeps, refreshId: string): Promise<Snap> {
  const [refresh] = await describeRefreshes(d.clients, d.asgName, [refreshId]);
  const group = await describeGroup(d.clients, d.asgName);
  const instances = group ? await describeFleet(d.clients, group, d.targetGroups) : [];
  let alarms: Snap['alarms'] = [];
  if (d.alarms.length) {
    // Composite alarms come back only when AlarmTypes asks for them (CloudWatch API reference, DescribeAlarms).
    const out = await d.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: d.alarms, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    alarms = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].map((a) => ({
      name: a.AlarmName ?? '',
      state: a.StateValue ?? 'INSUFFICIENT_DATA',
    }));
  }
  return { atMs: d.clock.now(), ...(refresh ? { refresh } : {}), instances, alarms };
}

export async function tagWithRetry(d: PerformDeps, tags: Record<string, string>): Promise<void> {
  await retryThrottled({ clock: d.clock, signal: d.signal }, () => tagGroup(d.clients, d.asgName, tags));
}

/** After CancelInstanceRefresh: wait until no refresh is active, at most 15 minutes (then say so). */
async function waitInactive(d: PerformDeps): Promise<void> {
  const until = d.clock.now() + 15 * 60_000;
  for (;;) {
    const rs = await describeRefreshes(d.clients, d.asgName);
    const active = rs.find((r) => ACTIVE_STATUSES.includes(r.status));
    if (!active) return;
    if (d.clock.now() >= until)
      throw new UserError(
        `refresh ${active.id} of ${d.asgName} is still ${active.status} 15 minutes after it was cancelled; no rollback was started`,
        `watch it (aws autoscaling describe-instance-refreshes --auto-scaling-group-name ${d.asgName}), then: sipbake rollback IMAGE --previous`,
      );
    await d.clock.sleep(d.pollSeconds * 1000, d.signal);
  }
}

async function perform(d: PerformDeps, p: MachineParams, s: MachineState, a: Action, failures: string[]): Promise<MachineState> {
  switch (a.type) {
    case 'log':
      d.reporter.line(a.line, a.level);
      return s;
    case 'event':
      d.reporter.event(a.event);
      d.onEvent?.(a.event);
      return s;
    case 'tag':
      try {
        await tagWithRetry(d, a.tags);
      } catch (e) {
        failures.push(`${Object.keys(a.tags).join(', ')}: ${(e as Error).message}`);
        d.reporter.line(`could not record ${Object.keys(a.tags).join(', ')} on ${d.asgName}: ${(e as Error).message}`, 'warn');
      }
      return s;
    case 'rollback': {
      const prev = p.previous;
      const start = await aws(`rolling ${d.asgName} back`, () =>
        retryThrottled({ clock: d.clock, signal: d.signal }, () => beginRollback(d.clients, d.asgName, prev, d.preferences, () => waitInactive(d))),
      );
      d.reporter.line(
        start.kind === 'aws-rollback'
          ? `RollbackInstanceRefresh accepted: AWS rolls ${d.asgName} back to version ${prev.version} (${prev.ami})`
          : `${start.why}: started refresh ${start.refreshId} back to version ${prev.version} (${prev.ami})`,
        'warn',
      );
      d.reporter.event({
        event: 'rollback',
        refreshId: start.refreshId,
        how: start.kind,
        toVersion: prev.version,
        toAmi: prev.ami,
      });
      return rollbackStarted(s, { how: start.kind, refreshId: start.refreshId, startedAtMs: d.clock.now() });
    }
    case 'done':
      return s;
  }
}

const RETRY_TEXT: Record<Retryable, string> = {
  throttle: 'AWS is throttling the status poll',
  consistency: 'AWS does not know a just-launched instance yet (eventual consistency)',
  transient: 'AWS failed on its side or could not be reached',
};

/** Polls that failed with retryable errors in a row: the watch skips them, within a bound. */
class SkippedPolls {
  private since: number | undefined;
  private count = 0;
  constructor(private readonly d: PerformDeps) {}

  ok(): void {
    if (this.count) this.d.reporter.line(`AWS answered again after ${this.count} skipped poll(s)`, 'warn');
    this.since = undefined;
    this.count = 0;
  }

  /** Throws when the error is not retryable, or when polls have failed for longer than the bound. */
  skip(e: unknown): void {
    const kind = awsErrorKind(e);
    if (!kind) throw e;
    const now = this.d.clock.now();
    this.since ??= now;
    if (this.count++ === 0) this.d.reporter.line(`${RETRY_TEXT[kind]}: skipping polls until it answers`, 'warn');
    const bound = this.d.watchErrorBoundMs ?? 10 * 60_000;
    if (now - this.since < bound) return;
    const err = e as Error;
    throw new UserError(
      `could not read the refresh's state for ${Math.round((now - this.since) / 1000)} s: ${RETRY_TEXT[kind]} (${err.name}: ${err.message})`,
      'the refresh goes on in AWS: follow it and resume or roll back with the commands below',
      { cause: e },
    );
  }
}

/**
 * Steps the machine until `until(state)` holds or it is done. A poll that fails with a retryable error (throttling,
 * eventual consistency, a 5xx) is skipped, the next comes one poll later, for at most `watchErrorBoundMs`;
 * anything else AWS says is thrown. Every state change is reported through `onState` at once.
 */
export async function drive(
  d: PerformDeps,
  p: MachineParams,
  start: MachineState,
  pending: Action[] = [],
  until: (s: MachineState) => boolean = () => false,
): Promise<Driven> {
  const failures: string[] = [];
  let s = start;
  const seen = (next: MachineState): MachineState => {
    d.onState?.(next);
    return next;
  };
  for (const a of pending) s = seen(await perform(d, p, s, a, failures));
  const skipped = new SkippedPolls(d);
  while (s.phase !== 'done' && !until(s)) {
    d.signal.throwIfAborted();
    let o: Snap | undefined;
    try {
      o = await snapshot(d, s.phase === 'rolling-back' && s.rollback ? s.rollback.refreshId : s.refreshId);
      skipped.ok();
    } catch (e) {
      skipped.skip(e);
    }
    if (o) {
      d.onSnap?.(o);
      const r = step(s, o, p);
      s = seen(r.state);
      for (const a of r.actions) s = seen(await perform(d, p, s, a, failures));
      if (s.phase === 'done' || until(s)) break;
    }
    await d.onPoll?.();
    await d.clock.sleep(d.pollSeconds * 1000, d.signal);
  }
  return { state: s, tagFailures: failures };
}
