// `status` and `history` (load + pure shaping): what is live, what is refreshing, which AMIs exist.
import { AMI_TAG } from '../contract/tags.js';
import type { AwsClients } from '../aws/clients.js';
import { UserError } from '../core/errors.js';
import { aws } from '../aws/errors.js';
import { listImageAmis } from './images.js';
import { describeGroup, describeLtVersion, describeRefreshes } from './observe.js';
import { parseLkg, TAG_LAST_KNOWN_GOOD, TAG_LAST_ROLL, type AmiInfo, type GroupInfo, type LtVersionInfo, type RefreshInfo } from './types.js';
import { describeFleet } from './fleet.js';
import { formatInstanceRows, instanceRows, type InstanceRow } from './status-instances.js';
import { leaseExpired, parseLease, rejectionsOf, TAG_LEASE, type Lease, type Rejection } from './tags.js';

export interface StatusReport {
  asgName: string;
  launchTemplate?: { id: string; version: string };
  liveAmi?: string;
  instances: { id: string; ami: string }[];
  /** Every instance with lifecycle, health, targets and drain state (status-instances.ts). */
  rows?: InstanceRow[];
  lastKnownGood?: { version: number; ami: string };
  lastRoll?: string;
  refresh?: RefreshInfo;
  /** The roll holding the group now, if any. */
  lease?: Lease;
  /** AMIs the gate rejected on this group. */
  rejected: Rejection[];
}

async function groupOrThrow(c: AwsClients, asgName: string, region: string): Promise<GroupInfo> {
  const g = await aws(`describing ${asgName}`, () => describeGroup(c, asgName));
  if (!g)
    throw new UserError(
      `Auto Scaling group ${asgName} does not exist in ${region}`,
      'check deploy.asgName and deploy.region in the image definition, or --region',
    );
  return g;
}

async function liveVersion(c: AwsClients, g: GroupInfo): Promise<LtVersionInfo | undefined> {
  return g.launchTemplate ? describeLtVersion(c, g.launchTemplate.id, g.launchTemplate.version) : undefined;
}

/** The AMI of every instance of the group that is not leaving. */
async function instanceAmis(c: AwsClients, asgName: string): Promise<{ id: string; ami: string }[]> {
  const group = await describeGroup(c, asgName);
  if (!group) return [];
  const fleet = await describeFleet(c, group, []);
  return fleet.filter((i) => !i.lifecycleState.startsWith('Terminat')).map((i) => ({ id: i.id, ami: i.ami ?? 'unknown (EC2 does not list it yet)' }));
}

export async function status(c: AwsClients, asgName: string, region: string, nowMs = Date.now()): Promise<StatusReport> {
  const g = await groupOrThrow(c, asgName, region);
  const v = await liveVersion(c, g);
  const [refresh] = await aws(`describing refreshes of ${asgName}`, () => describeRefreshes(c, asgName));
  const lkg = parseLkg(g.tags[TAG_LAST_KNOWN_GOOD]);
  const lease = parseLease(g.tags[TAG_LEASE]);
  return {
    asgName,
    ...(g.launchTemplate ? { launchTemplate: { id: g.launchTemplate.id, version: g.launchTemplate.version } } : {}),
    ...(v?.imageId ? { liveAmi: v.imageId } : {}),
    instances: await instanceAmis(c, asgName),
    rows: await instanceRows(c, asgName),
    ...(lkg ? { lastKnownGood: lkg } : {}),
    ...(g.tags[TAG_LAST_ROLL] ? { lastRoll: g.tags[TAG_LAST_ROLL] } : {}),
    ...(refresh ? { refresh } : {}),
    ...(lease && !leaseExpired(lease, nowMs) ? { lease } : {}),
    rejected: rejectionsOf(g.tags),
  };
}

export function formatStatus(s: StatusReport): string[] {
  const out = [`${s.asgName}: launch template ${s.launchTemplate?.id ?? '-'} version ${s.launchTemplate?.version ?? '-'}, live AMI ${s.liveAmi ?? 'unknown'}`];
  if (s.rows) out.push(...formatInstanceRows(s.rows, s.liveAmi));
  else for (const i of s.instances) out.push(`  ${i.id} ${i.ami}${i.ami === s.liveAmi ? '' : '  (not the live AMI)'}`);
  out.push(`  last-known-good: ${s.lastKnownGood ? `version ${s.lastKnownGood.version} ${s.lastKnownGood.ami}` : 'not recorded yet'}`);
  if (s.lastRoll) out.push(`  last roll: ${s.lastRoll}`);
  if (s.lease) out.push(`  roll in progress: ${s.lease.owner} since ${s.lease.startedAt} (lease expires ${s.lease.expiresAt})`);
  for (const r of s.rejected) out.push(`  rejected: ${r.ami} at ${r.at}: ${r.reason}`);
  const r = s.refresh;
  if (r)
    out.push(
      `  refresh ${r.id}: ${r.status} ${r.percentageComplete}%, ${r.instancesToUpdate} to update` +
        `${r.rollback ? `, rollback ${r.rollback.percentageComplete ?? 0}% (${r.rollback.reason ?? ''})` : ''}${r.statusReason ? ` · ${r.statusReason}` : ''}`,
    );
  else out.push('  no instance refresh yet');
  return out;
}

export interface HistoryEntry {
  ami: string;
  name: string;
  state: string;
  builtAt?: string;
  contentHash?: string;
  kamailioVersion?: string;
  gitCommit?: string;
  live: boolean;
  running: number;
  lastKnownGood: boolean;
}

function historyEntries(amis: AmiInfo[], liveAmi: string | undefined, running: string[], lkgAmi: string | undefined): HistoryEntry[] {
  return amis.map((a) => ({
    ami: a.imageId,
    name: a.name,
    state: a.state,
    ...(a.tags[AMI_TAG.builtAt] ? { builtAt: a.tags[AMI_TAG.builtAt] } : {}),
    ...(a.tags[AMI_TAG.contentHash] ? { contentHash: a.tags[AMI_TAG.contentHash] } : {}),
    ...(a.tags[AMI_TAG.kamailioVersion] ? { kamailioVersion: a.tags[AMI_TAG.kamailioVersion] } : {}),
    ...(a.tags[AMI_TAG.gitCommit] ? { gitCommit: a.tags[AMI_TAG.gitCommit] } : {}),
    live: a.imageId === liveAmi,
    running: running.filter((r) => r === a.imageId).length,
    lastKnownGood: a.imageId === lkgAmi,
  }));
}

export async function history(c: AwsClients, image: string, asgName: string | undefined, region: string): Promise<HistoryEntry[]> {
  const amis = await aws(`listing AMIs of ${image}`, () => listImageAmis(c, image));
  if (!asgName) return historyEntries(amis, undefined, [], undefined);
  const g = await groupOrThrow(c, asgName, region);
  const v = await liveVersion(c, g);
  const running = (await instanceAmis(c, asgName)).map((i) => i.ami);
  return historyEntries(amis, v?.imageId, running, parseLkg(g.tags[TAG_LAST_KNOWN_GOOD])?.ami);
}

export function formatHistory(image: string, h: HistoryEntry[]): string[] {
  if (h.length === 0) return [`no AMIs of ${image} yet (bake one: sipbake build ${image})`];
  return [
    `AMIs of ${image}, newest first:`,
    ...h.map((e) => {
      const marks = [
        e.live ? 'LIVE' : '',
        e.lastKnownGood ? 'last-known-good' : '',
        e.running && !e.live ? `${e.running} running` : '',
        e.state !== 'available' ? e.state : '',
      ]
        .filter(Boolean)
        .join(', ');
      return `  ${e.ami}  ${e.builtAt ?? '-'}  hash ${e.contentHash?.slice(0, 12) ?? '-'}  kamailio ${e.kamailioVersion ?? '-'}  commit ${e.gitCommit?.slice(0, 10) ?? '-'}${marks ? `  [${marks}]` : ''}`;
    }),
  ];
}
