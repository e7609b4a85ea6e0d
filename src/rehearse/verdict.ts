import { RTP_GAP_MS } from './rtp-call.js';
import type { CallCounts, RehearsalSummary } from './types.js';

// Pure: what a rehearsal proved, in one line, and whether it passed. Every call that did not complete counts
// against it (refused, unanswered, unplaced, dropped, cut by the rehearsal's own wait limit), and so does a
// hook timeout, an old instance picked with no call up (its drain proved nothing) or a roll whose outcome is not the expected one (succeeded; rolled-back for a --break image). Each reason names itself, so a non-zero exit always says why.

export interface Verdict {
  ok: boolean;
  /** Why it failed (empty when ok). */
  reasons: string[];
  /** Worth knowing, not a failure (calls answered only after INVITE retransmissions). */
  notes: string[];
  line: string;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function callReasons(who: string, c: CallCounts): string[] {
  const r: string[] = [];
  if (c.dropped) r.push(`${who}: ${plural(c.dropped, 'call')} dropped`);
  if (c.refused) r.push(`${who}: ${plural(c.refused, 'call')} refused`);
  if (c.unanswered) r.push(`${who}: ${plural(c.unanswered, 'call')} unanswered`);
  if (c.unplaced) r.push(`${who}: ${plural(c.unplaced, 'call')} never placed`);
  if (c.cutByRehearsal) r.push(`${who}: ${plural(c.cutByRehearsal, 'call')} still up when the rehearsal stopped waiting`);
  return r;
}

export function verdict(s: Omit<RehearsalSummary, 'verdict'>): Verdict {
  // A broken image (--break start|503) must not be rolled onto; a slow but good one must.
  const expected = s.break === 'start' || s.break === '503' ? 'rolled-back' : 'succeeded';
  const outcome =
    s.outcome === expected
      ? []
      : [s.failed ? `the roll failed: ${s.failed} (outcome ${s.outcome}, expected ${expected})` : `the roll ${s.outcome}, expected ${expected}`];
  const reasons = [
    ...outcome,
    ...callReasons('callers', s.calls),
    ...(s.trunk ? callReasons('trunk', s.trunk) : []),
    ...(s.holders ? callReasons('holders', s.holders) : []),
    ...(s.tcp ? callReasons('tcp', s.tcp) : []),
  ];
  if (s.hooksTimedOut) reasons.push(`${plural(s.hooksTimedOut, 'lifecycle hook')} timed out (the drain never completed its action)`);
  // A call whose audio stopped is dropped, even if its BYE went through (rtp-call.ts).
  if (s.rtp?.callsWithoutAudio) reasons.push(`${plural(s.rtp.callsWithoutAudio, 'call')} had no audio back (RTP)`);
  if (s.rtp?.callsWithGap) reasons.push(`${plural(s.rtp.callsWithGap, 'call')} had an audio gap over ${RTP_GAP_MS} ms (longest ${s.rtp.maxGapMs} ms)`);
  const exceeded = s.perInstance.filter((i) => i.withinBound === false).length;
  if (exceeded) reasons.push(`${plural(exceeded, 'drain')} exceeded its bound`);
  // Old-image instances only: a new one Auto Scaling replaced (a rollback, a health replacement) never took calls.
  const old = s.perInstance.filter((i) => i.image === 'old' && i.callsAtPick !== undefined);
  const busy = old.filter((i) => (i.callsAtPick ?? 0) > 0).length;
  const notes: string[] = [];
  // An old instance picked idle proves nothing about its drain: the default load (holders) makes sure none is.
  const idle = old.filter((i) => (i.callsAtPick ?? 0) === 0).map((i) => i.id);
  if (idle.length) reasons.push(`${idle.length} of ${old.length} old instance(s) held no call when picked, so their drain proved nothing: ${idle.join(', ')}`);
  const late = s.calls.answeredAfterRetransmission + (s.trunk?.answeredAfterRetransmission ?? 0) + (s.holders?.answeredAfterRetransmission ?? 0);
  if (late) notes.push(`${plural(late, 'call')} answered only after INVITE retransmissions`);
  const placed = s.calls.placed + (s.trunk?.placed ?? 0) + (s.holders?.placed ?? 0) + (s.tcp?.placed ?? 0);
  const completed = s.calls.completed + (s.trunk?.completed ?? 0) + (s.holders?.completed ?? 0) + (s.tcp?.completed ?? 0);
  const ok = reasons.length === 0;
  const what = `${s.image} → ${s.to}${s.break ? ` (--break ${s.break})` : ''} on ${s.instances} instance(s), engine: ${s.engine}, outcome: ${s.outcome}`;
  const line = ok
    ? `PASSED: ${what}: ${completed} of ${placed} call(s) completed through the roll, ${busy} of ${old.length} old instance(s) drained with calls up, 0 dropped, 0 refused${notes.length ? `; note: ${notes.join('; ')}` : ''}`
    : `FAILED: ${what}: ${reasons.join('; ')}`;
  return { ok, reasons, notes, line };
}
