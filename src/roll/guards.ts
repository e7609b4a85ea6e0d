// The roll's own refusals (pure), beside preflight.ts: rejected AMIs, the lease, and "no healthy targets now".
import type { Finding, PreflightInput } from './finding.js';
import { leaseHeldMessage } from './lease-text.js';
import { leaseExpired, parseLease, rejectionsOf, TAG_LEASE } from './tags.js';

export interface GuardInput extends PreflightInput {
  kind: 'roll' | 'rollback';
  force: boolean;
  nowMs: number;
}

/** A roll onto a group that serves nothing now would hide whether the new AMI works; refuse unless --force. */
function healthyTargetsNow(i: GuardInput): Finding | undefined {
  const { obs, deploy } = i;
  const fleet = obs.fleet;
  if (!obs.group || !fleet || obs.group.desired === 0 || obs.targetGroups.length === 0) return undefined;
  const empty = obs.targetGroups.filter((tg) => !fleet.some((f) => f.targets[tg.name] === 'healthy'));
  if (empty.length === 0) return { check: 'healthyTargets', level: 'ok', message: `every target group has a healthy target now` };
  const message = `${deploy.asgName} has no healthy target in ${empty.map((t) => t.name).join(', ')} right now`;
  if (i.force || i.kind === 'rollback') return { check: 'healthyTargets', level: 'warn', message: `${message}${i.force ? ' (--force)' : ''}` };
  return {
    check: 'healthyTargets',
    level: 'refuse',
    message: `${message}: the gate could not tell a bad AMI from a broken group`,
    fix: `find out why (sipbake status ${i.image}); roll anyway with --force`,
  };
}

function notRejected(i: GuardInput): Finding | undefined {
  const r = rejectionsOf(i.obs.group?.tags ?? {}).find((x) => x.ami === i.amiId);
  if (!r) return undefined;
  const message = `AMI ${i.amiId} was rejected on ${i.deploy.asgName} at ${r.at}: ${r.reason}`;
  if (i.force) return { check: 'notRejected', level: 'warn', message: `${message} (rolling it anyway: --force)` };
  return {
    check: 'notRejected',
    level: 'refuse',
    message,
    fix: `bake a fixed image (sipbake build ${i.image}) and roll that, or roll this AMI anyway with --force`,
  };
}

function leaseFree(i: GuardInput): Finding | undefined {
  const l = parseLease(i.obs.group?.tags[TAG_LEASE]);
  if (!l) return undefined;
  if (leaseExpired(l, i.nowMs))
    return {
      check: 'lease',
      level: 'warn',
      message: `the lease of ${l.owner} expired at ${l.expiresAt}; this run takes it over`,
    };
  const m = leaseHeldMessage(l, i.deploy.asgName, i.image);
  return { check: 'lease', level: 'refuse', message: m.message, fix: m.fix };
}

export function guards(i: GuardInput): Finding[] {
  return [leaseFree(i), notRejected(i), healthyTargetsNow(i)].filter((f): f is Finding => f !== undefined);
}
