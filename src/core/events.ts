// Every NDJSON progress event sipbake emits, in one typed registry (the shape of aws-cdk-cli's
// toolkit-lib/lib/api/io/private/messages.ts): its code (the `event` field), level, description and payload.
// Reporter.event accepts only these; docs/events.md is generated from EVENTS (npm run docs:events).

type EventLevel = 'info' | 'debug';
type StageState = 'started' | 'done' | 'failed';

/** A step of a command (build, roll) starts, ends or fails: one shape for all of them. */
interface StagePayload {
  stage: string;
  state: StageState;
  title?: string;
  seconds?: number;
  reason?: string;
}

interface EventPayloads {
  stage: StagePayload;
  packer: { stage?: string; kind: string; text: string };
  refresh: { refreshId: string; mode: string; launchTemplate: string; version: number; ami: string };
  'refresh-progress': {
    refreshId: string;
    status: string;
    percentage: number | undefined;
    instancesToUpdate: number | undefined;
    rollbackPercentage?: number;
  };
  checkpoint: { refreshId: string; percentage: number | undefined; reason: string };
  instance: { instanceId: string; ami: string | null; state: string; targets: unknown; health: string | null };
  drain: { instanceId: string; ami: string | null; state: string };
  health: { gate: 'failed'; reasons: string[]; refreshId: string };
  rollback: { refreshId: string; how: string; toVersion: number; toAmi: string };
  rehearsal: { t: number; id: string; what: string };
  'rehearsal-note': { message: string };
  'rehearsal-failed': { reasons: string[] };
}

export type EventCode = keyof EventPayloads;

/** One NDJSON progress line: `{"event":"stage","at":"…",…}`; `at` is added when it is written. */
export type ProgressEvent = { [C in EventCode]: { event: C } & EventPayloads[C] }[EventCode];

export interface EventDefinition<C extends EventCode> {
  level: EventLevel;
  /** Which command emits it, and when. */
  description: string;
  /** Every payload field, documented (the type makes a new field without a line here a compile error). */
  fields: { readonly [K in keyof EventPayloads[C]]-?: string };
}

export const EVENTS: { readonly [C in EventCode]: EventDefinition<C> } = {
  stage: {
    level: 'info',
    description: 'build and roll: a step starts, ends or fails.',
    fields: {
      stage: "the step: a roll stage's name (lease, start, wait, …) or a build step's title",
      state: 'started, done or failed',
      title: 'roll: the stage as the terminal shows it',
      seconds: 'done and failed: how long the step took',
      reason: 'failed: why',
    },
  },
  packer: {
    level: 'debug',
    description: "build: one of Packer's own UI lines (from -machine-readable).",
    fields: { stage: "Packer's step, when the line names one", kind: "Packer's message type (say, message, error, …)", text: 'the line' },
  },
  refresh: {
    level: 'info',
    description: 'roll: the instance refresh is started (or resumed, or undone).',
    fields: {
      refreshId: "AWS's instance refresh id",
      mode: 'new, resume or undo',
      launchTemplate: 'the launch template id',
      version: 'the launch template version the group rolls onto',
      ami: 'the AMI the group rolls onto',
    },
  },
  'refresh-progress': {
    level: 'info',
    description: "roll: the refresh's status or percentage changed.",
    fields: {
      refreshId: "AWS's instance refresh id",
      status: 'Pending, InProgress, Successful, RollbackInProgress, …',
      percentage: 'percentage complete',
      instancesToUpdate: 'instances still to replace',
      rollbackPercentage: "during AWS's rollback: its percentage complete",
    },
  },
  checkpoint: {
    level: 'info',
    description: 'roll: the refresh waits at a checkpoint.',
    fields: { refreshId: "AWS's instance refresh id", percentage: 'percentage complete', reason: "AWS's status reason" },
  },
  instance: {
    level: 'info',
    description: "roll: an instance's lifecycle state, target health or ASG health changed.",
    fields: {
      instanceId: 'the instance',
      ami: 'its AMI (null when not known yet)',
      state: 'its ASG lifecycle state',
      targets: 'its target health per target group',
      health: 'its ASG health status (null when not known)',
    },
  },
  drain: {
    level: 'info',
    description: 'roll: an instance is terminating, its drain agent finishing its calls.',
    fields: { instanceId: 'the instance', ami: 'its AMI (null when not known)', state: 'its lifecycle state (Terminating:Wait, …)' },
  },
  health: {
    level: 'info',
    description: 'roll: the health gate failed; the roll rolls back.',
    fields: { gate: 'failed', reasons: 'what failed, one sentence each', refreshId: "AWS's instance refresh id" },
  },
  rollback: {
    level: 'info',
    description: 'roll: a rollback is started.',
    fields: {
      refreshId: 'the refresh that rolls back',
      how: "aws-rollback (AWS's RollbackInstanceRefresh) or a new refresh back",
      toVersion: 'the launch template version rolled back to',
      toAmi: 'the AMI rolled back to',
    },
  },
  rehearsal: {
    level: 'info',
    description: "rehearse: one line of the rehearsal's timeline.",
    fields: { t: 'seconds since the rehearsal started', id: 'what it is about (an instance, asg, calls, …)', what: 'what happened' },
  },
  'rehearsal-note': {
    level: 'info',
    description: 'rehearse: a line of its own (set-up, which binaries run, what it cleaned up) outside the timeline.',
    fields: { message: 'the line' },
  },
  'rehearsal-failed': {
    level: 'info',
    description: 'rehearse --json: the rehearsal failed; every reason for its non-zero exit.',
    fields: { reasons: 'why, one sentence each (refused, dropped, unplaced calls, hook timeouts, …)' },
  },
};
