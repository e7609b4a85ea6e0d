// The record on the group (effects): last-known-good before a roll starts, and its repair on a re-run.
import { aws } from '../aws/errors.js';
import type { Clock } from '../aws/clock.js';
import type { AwsClients } from '../aws/clients.js';
import { tagGroup } from './apply.js';
import type { Reporter } from '../core/reporter.js';
import type { RollPlan } from './plan.js';
import { DeleteTagsCommand } from '@aws-sdk/client-auto-scaling';
import { retryThrottled } from './retry.js';
import { REJECTED_PREFIX, rejectionsOf } from './tags.js';
import { formatLkg, parseLkg, TAG_LAST_KNOWN_GOOD, TAG_LAST_ROLL, type Observed } from './types.js';

interface RecordDeps {
  clients: AwsClients;
  clock: Clock;
  signal: AbortSignal;
  reporter: Reporter;
}

async function write(d: RecordDeps, asgName: string, tags: Record<string, string>): Promise<void> {
  await aws(`tagging ${asgName}`, () => retryThrottled({ clock: d.clock, signal: d.signal }, () => tagGroup(d.clients, asgName, tags)));
}

/** Before the first roll of a group: what runs now is the last-known-good to come back to. */
export async function recordLkgIfMissing(d: RecordDeps, plan: RollPlan, obs: Observed): Promise<void> {
  if (!plan.from?.ami || parseLkg(obs.group?.tags[TAG_LAST_KNOWN_GOOD])) return;
  await write(d, plan.asgName, { [TAG_LAST_KNOWN_GOOD]: formatLkg(plan.from.version, plan.from.ami) });
}

/**
 * Nothing to roll: make the record true. Last-known-good is set when missing, or repaired when the newest refresh
 * that put the live version on the group succeeded but its tag write was lost (throttled, killed).
 */
export async function repairRecord(d: RecordDeps, plan: RollPlan, obs: Observed): Promise<{ notes: string[]; failed: string[] }> {
  const from = plan.from;
  if (!from?.ami) return { notes: [], failed: [] };
  const lkg = parseLkg(obs.group?.tags[TAG_LAST_KNOWN_GOOD]);
  const newest = [...obs.refreshes].sort((a, b) => (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0))[0];
  const proven = newest?.status === 'Successful' && newest.desired?.version === String(from.version);
  const stale = lkg && (lkg.version !== from.version || lkg.ami !== from.ami);
  if (lkg && !(proven && stale)) return { notes: [], failed: [] };
  const tags: Record<string, string> = { [TAG_LAST_KNOWN_GOOD]: formatLkg(from.version, from.ami) };
  if (proven && !obs.group?.tags[TAG_LAST_ROLL]?.startsWith('succeeded'))
    tags[TAG_LAST_ROLL] = `succeeded ${plan.image} ${from.ami} ${newest.endTime?.toISOString() ?? new Date(d.clock.now()).toISOString()}`;
  const note = lkg
    ? `repaired last-known-good: was version ${lkg.version} ${lkg.ami}, refresh ${newest?.id ?? '?'} made version ${from.version} ${from.ami} live`
    : `recorded last-known-good: version ${from.version} ${from.ami}`;
  try {
    await write(d, plan.asgName, tags);
    return { notes: [note], failed: [] };
  } catch (e) {
    return { notes: [], failed: [`${TAG_LAST_KNOWN_GOOD}: ${(e as Error).message}`] };
  }
}

/** Auto Scaling allows 50 tags per group: keep the newest `keep` rejections, drop older ones (best effort). */
export async function pruneRejections(d: RecordDeps, asgName: string, tags: Record<string, string>, keep = 10): Promise<string[]> {
  const old = rejectionsOf(tags)
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(keep);
  if (old.length === 0) return [];
  try {
    await d.clients.autoScaling.send(
      new DeleteTagsCommand({
        Tags: old.map((r) => ({
          ResourceId: asgName,
          ResourceType: 'auto-scaling-group',
          Key: `${REJECTED_PREFIX}${r.ami}`,
        })),
      }),
    );
    return old.map((r) => r.ami);
  } catch {
    return [];
  }
}

/** A forced roll of a rejected AMI that passed the gate: the rejection no longer holds. */
export async function clearRejection(d: RecordDeps, asgName: string, ami: string, tags: Record<string, string>): Promise<void> {
  const key = `${REJECTED_PREFIX}${ami}`;
  if (tags[key] === undefined) return;
  try {
    await d.clients.autoScaling.send(new DeleteTagsCommand({ Tags: [{ ResourceId: asgName, ResourceType: 'auto-scaling-group', Key: key }] }));
    d.reporter.line(`${ami} passed the gate: its rejection on ${asgName} is cleared`);
  } catch (e) {
    d.reporter.line(`could not clear the rejection of ${ami} (${(e as Error).message}): remove tag ${key} from ${asgName} by hand`, 'warn');
  }
}
