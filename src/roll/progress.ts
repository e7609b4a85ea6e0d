// Progress as events (pure): what changed since the last poll, as NDJSON-ready events and one display line.
import type { ProgressEvent } from '../core/events.js';
import type { Snap } from './types.js';

type EventAction = { type: 'event'; event: ProgressEvent };

/** Per-instance state as people read it: AMI, lifecycle, target health; drain while Terminating:Wait. */
export function instanceLine(i: Snap['instances'][number]): string {
  const health = Object.values(i.targets).join('/') || i.asgHealth || '-';
  const drain = i.lifecycleState === 'Terminating:Wait' ? ' (draining calls)' : '';
  return `${i.id} ${i.ami ?? 'ami-?'} ${i.lifecycleState} ${health}${drain}`;
}

export function refreshLine(o: Snap): string {
  const r = o.refresh;
  if (!r) return 'refresh not listed yet';
  const parts = [`${r.id} ${r.status} ${r.percentageComplete}%`, `${r.instancesToUpdate} to update`];
  if (r.rollback) parts.push(`rollback ${r.rollback.percentageComplete ?? 0}% (${r.rollback.instancesToUpdate ?? 0} to update)`);
  if (r.checkpoints.length) parts.push(`checkpoints ${r.checkpoints.join('/')}%`);
  if (r.statusReason) parts.push(r.statusReason);
  const firing = o.alarms.filter((a) => a.state === 'ALARM').map((a) => `alarm ${a.name} in ALARM`);
  return [...parts, ...firing].join(' · ');
}

export function progressEvents(shown: Record<string, string>, o: Snap, refreshId: string): { shown: Record<string, string>; actions: EventAction[] } {
  const next = { ...shown };
  const actions: EventAction[] = [];
  const r = o.refresh;
  if (r) {
    const pct = `${r.status} ${r.percentageComplete} ${r.rollback?.percentageComplete ?? ''}`;
    if (next['refresh'] !== pct) {
      next['refresh'] = pct;
      actions.push({
        type: 'event',
        event: {
          event: 'refresh-progress',
          refreshId,
          status: r.status,
          percentage: r.percentageComplete,
          instancesToUpdate: r.instancesToUpdate,
          ...(r.rollback ? { rollbackPercentage: r.rollback.percentageComplete ?? 0 } : {}),
        },
      });
    }
    const cp = /checkpoint/i.test(r.statusReason ?? '') ? (r.statusReason ?? '') : '';
    if (cp && next['checkpoint'] !== cp)
      actions.push({
        type: 'event',
        event: { event: 'checkpoint', refreshId, percentage: r.percentageComplete, reason: cp },
      });
    next['checkpoint'] = cp;
  }
  for (const i of o.instances) {
    const line = instanceLine(i);
    if (next[i.id] === line) continue;
    next[i.id] = line;
    if (i.lifecycleState.startsWith('Terminating'))
      actions.push({
        type: 'event',
        event: { event: 'drain', instanceId: i.id, ami: i.ami ?? null, state: i.lifecycleState },
      });
    else
      actions.push({
        type: 'event',
        event: {
          event: 'instance',
          instanceId: i.id,
          ami: i.ami ?? null,
          state: i.lifecycleState,
          targets: i.targets,
          health: i.asgHealth ?? null,
        },
      });
  }
  return { shown: next, actions };
}
