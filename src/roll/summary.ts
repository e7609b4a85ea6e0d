// The roll's end (pure text): the JSON summary's shape and its human line (interrupts: recovery.ts).
import type { Reporter } from '../core/reporter.js';
import { duration } from './format.js';

export type Outcome = 'succeeded' | 'mixed' | 'rolled-back' | 'rollback-failed' | 'noop' | 'planned';

export interface RollSummary {
  image: string;
  asgName: string;
  kind: 'roll' | 'rollback';
  outcome: Outcome;
  refreshId?: string;
  from?: { version: number; ami?: string };
  to: { version?: number; ami: string };
  reasons: string[];
  rollback?: { how: 'aws-rollback' | 'new-refresh'; refreshId: string; gateFailedAtMs: number; startedAtMs: number };
  /** The launch template version the group references at the end. */
  groupVersion?: string;
  instances: { id: string; ami: string }[];
  /** Tag writes that failed after retries (a re-run repairs them). */
  unrecorded?: string[];
  seconds: number;
}

export function reportSummary(reporter: Reporter, s: RollSummary): void {
  const what = `${s.kind} of ${s.image} (${s.asgName})`;
  const where = `group on launch template version ${s.groupVersion ?? '?'}; instances: ${s.instances.map((i) => `${i.id} ${i.ami}`).join(', ') || 'none'}`;
  if (s.outcome === 'succeeded') reporter.line(`${what} succeeded in ${duration(s.seconds)}: ${s.to.ami} is live and last-known-good; ${where}`, 'success');
  else if (s.outcome === 'mixed')
    reporter.line(
      `${what} did NOT finish: the refresh succeeded and ${s.to.ami} is healthy, but ${s.reasons.join('; ')}; ${where}. Run the same roll again to refresh them onto it: sipbake roll ${s.image} --ami ${s.to.ami}`,
      'error',
    );
  else if (s.outcome === 'rolled-back')
    reporter.line(
      `${what} FAILED and was rolled back to version ${s.from?.version} (${s.from?.ami}) in ${duration(s.seconds)}: ${s.reasons.join('; ')}; ${where}`,
      'error',
    );
  else if (s.outcome === 'rollback-failed')
    reporter.line(
      `${what} FAILED and the rollback did not finish: ${s.reasons.join('; ')}; ${where}. Follow it: sipbake status ${s.image}; then: sipbake rollback ${s.image} --to ${s.from?.ami}`,
      'error',
    );
  if (s.unrecorded?.length)
    reporter.line(`the outcome is not fully recorded on ${s.asgName} (${s.unrecorded.join('; ')}); run the same command again to record it`, 'error');
}
