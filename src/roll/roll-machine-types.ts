// The refresh machine's data (pure types): its parameters, its state and the actions it returns (machine.ts).
import type { ProgressEvent } from '../core/reporter.js';
import type { GateParams } from './gate.js';

export type Phase = 'rolling' | 'rolling-back' | 'done';
/** mixed: AWS reports the refresh Successful but instances in service still run another AMI (the end stage says). */
export type Outcome = 'succeeded' | 'mixed' | 'rolled-back' | 'rollback-failed';

export interface MachineParams extends GateParams {
  image: string;
  /** The launch template version the forward refresh heads to. */
  toVersion: number;
  previous: { ltId: string; version: number; ami: string };
  /** false: no health gate (a rollback of sipbake's own active roll only waits). */
  gated: boolean;
  rollbackDeadlineMs: number;
}

export interface MachineState {
  phase: Phase;
  refreshId: string;
  firstNewLaunchMs?: number;
  /** A new-AMI instance was healthy in every target group at least once. */
  proven: boolean;
  /** New-AMI instances that went unhealthy or were replaced, with why (never forgotten during the refresh). */
  bad: Record<string, string>;
  seenNew: string[];
  reasons: string[];
  gateFailedAtMs?: number;
  rollback?: { how: 'aws-rollback' | 'new-refresh'; refreshId: string; startedAtMs: number };
  outcome?: Outcome;
  /** Last shown state per instance/refresh, so progress events fire on changes only. */
  shown: Record<string, string>;
}

export type Action =
  | { type: 'rollback'; reason: string }
  | { type: 'tag'; tags: Record<string, string> }
  | { type: 'log'; line: string; level: 'info' | 'warn' | 'error' }
  | { type: 'event'; event: ProgressEvent }
  | { type: 'done'; outcome: Outcome; reasons: string[] };
