// The group tags sipbake keeps beside last-known-good (pure): the roll lease and the rejected AMIs.
import { ASG_TAG } from '../contract/tags.js';
export const TAG_LEASE = ASG_TAG.lease;
export const REJECTED_PREFIX = ASG_TAG.rejectedPrefix;

/** One roll at a time: who holds the group, since when, until when. `token` tells two holders apart. */
export interface Lease {
  owner: string;
  token: string;
  startedAt: string;
  expiresAt: string;
}

export function formatLease(l: Lease): string {
  return `owner=${l.owner} start=${l.startedAt} expires=${l.expiresAt} token=${l.token}`;
}

export function parseLease(v: string | undefined): Lease | undefined {
  const m = v ? /^owner=(?<owner>\S+) start=(?<startedAt>\S+) expires=(?<expiresAt>\S+) token=(?<token>\S+)$/.exec(v) : null;
  const g = m?.groups;
  return g
    ? {
        owner: g['owner'] ?? '',
        startedAt: g['startedAt'] ?? '',
        expiresAt: g['expiresAt'] ?? '',
        token: g['token'] ?? '',
      }
    : undefined;
}

export function leaseExpired(l: Lease, nowMs: number): boolean {
  return Date.parse(l.expiresAt) <= nowMs;
}

export interface Rejection {
  ami: string;
  at: string;
  reason: string;
}

export function rejectionTag(ami: string, at: string, reason: string): Record<string, string> {
  // Tag values hold 256 characters.
  return { [`${REJECTED_PREFIX}${ami}`]: `${at} ${reason}`.slice(0, 256) };
}

export function rejectionsOf(tags: Record<string, string>): Rejection[] {
  return Object.entries(tags)
    .filter(([k]) => k.startsWith(REJECTED_PREFIX))
    .map(([k, v]) => {
      const sp = v.indexOf(' ');
      return {
        ami: k.slice(REJECTED_PREFIX.length),
        at: sp > 0 ? v.slice(0, sp) : v,
        reason: sp > 0 ? v.slice(sp + 1) : '',
      };
    });
}

/** The gate's count for one refresh, kept on the group so that a re-run (after Ctrl-C) goes on counting. */
export const TAG_GATE = ASG_TAG.gate;

export interface GateRecord {
  refreshId: string;
  firstNewLaunchMs?: number;
  count: number;
  ids: string[];
}

export function formatGate(g: GateRecord): string {
  const head = `refresh=${g.refreshId} first=${g.firstNewLaunchMs === undefined ? '-' : new Date(g.firstNewLaunchMs).toISOString()} count=${g.count} ids=`;
  const ids: string[] = [];
  for (const id of g.ids) if (head.length + [...ids, id].join(',').length <= 256) ids.push(id);
  return head + ids.join(',');
}

export function parseGate(v: string | undefined): GateRecord | undefined {
  const m = v ? /^refresh=(?<id>\S+) first=(?<first>\S+) count=(?<count>\d+) ids=(?<ids>\S*)$/.exec(v) : null;
  const g = m?.groups;
  if (!g) return undefined;
  const first = g['first'] && g['first'] !== '-' ? Date.parse(g['first']) : undefined;
  return {
    refreshId: g['id'] ?? '',
    ...(first !== undefined ? { firstNewLaunchMs: first } : {}),
    count: Number(g['count']),
    ids: g['ids'] ? g['ids'].split(',') : [],
  };
}

/** The group's last-roll tag as `roll` writes it when its refresh starts (what a re-run of an interrupted roll reads). */
export interface LastRoll {
  image: string;
  ami: string;
  version: number;
  refreshId: string;
}

export function formatLastRoll(r: LastRoll): string {
  return `started ${r.image} ${r.ami} version ${r.version} refresh ${r.refreshId}`;
}

export function parseLastRoll(v: string | undefined): LastRoll | undefined {
  const m = /^started (\S+) (ami-[0-9a-f]+) version (\d+) refresh (\S+)/.exec(v ?? '');
  const [, image, ami, version, refreshId] = m ?? [];
  if (image === undefined || ami === undefined || version === undefined || refreshId === undefined) return undefined;
  return { image, ami, version: Number(version), refreshId };
}
