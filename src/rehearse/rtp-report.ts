// The RTP figures of a rehearsal: what the trunk edge's streams wrote (rtp-stream.ts), read back for the summary.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RTP_GAP_MS, summarize, type RtpCall, type RtpSummary } from './rtp-call.js';
import type { CallOutcome } from './calls.js';

export function rtpStatsFile(dir: string): string {
  return path.join(dir, 'rtp-trunk.json');
}

/** The SIPp callers' (UDP groups, holders, TCP) RTP figures, written by ns-helper --caller-rtp. */
export function callerRtpStatsFile(dir: string): string {
  return path.join(dir, 'rtp-callers.json');
}

/** The control file the SIPp callers' exec actions append to (rtp-call.ts parseMediaCtl). */
export function callerMediaCtlFile(dir: string): string {
  return path.join(dir, 'rtp-callers.ctl');
}

export interface RtpFigures extends RtpSummary {
  /** Per call: packets sent and received, the longest gap (ms, real time). */
  perCall: { callId: string; sent: number; received: number; longestGapMs: number; endSilenceMs?: number }[];
}

/** Every call's RTP (the trunk's and the SIPp callers'); undefined when no call carried RTP (no RTPProxy in either
 *  image). */
export async function readRtpFigures(dir: string): Promise<RtpFigures | undefined> {
  const files = await Promise.all([rtpStatsFile(dir), callerRtpStatsFile(dir)].map((f) => readFile(f, 'utf8').catch(() => undefined)));
  const texts = files.filter((t): t is string => t !== undefined);
  if (!texts.length) return undefined;
  const calls = texts.flatMap((t) => (JSON.parse(t) as { calls: RtpCall[] }).calls);
  return {
    ...summarize(calls),
    perCall: calls
      .filter((c) => c.sent > 0)
      .map((c) => ({
        callId: c.callId,
        sent: c.sent,
        received: c.received,
        longestGapMs: Math.round(c.longestGapMs),
        ...(c.endSilenceMs !== undefined ? { endSilenceMs: Math.round(c.endSilenceMs) } : {}),
      })),
  };
}

/** Pure: a call whose SIP completed but whose audio stopped (nothing came back, or a gap over RTP_GAP_MS) is
 *  dropped, even though its BYE went through. Marks the outcomes in place; returns how many it turned. */
export function markAudioLost(outcomes: CallOutcome[], rtp: Pick<RtpFigures, 'perCall'> | undefined): number {
  if (!rtp) return 0;
  const byId = new Map(rtp.perCall.map((c) => [c.callId, c]));
  let turned = 0;
  for (const o of outcomes) {
    const m = byId.get(o.callId);
    if (o.result !== 'completed' || !m || m.sent === 0) continue;
    const lost = m.received === 0 ? 'none' : m.longestGapMs > RTP_GAP_MS ? 'gap' : undefined;
    if (!lost) continue;
    o.result = 'dropped';
    o.audioLost = lost;
    turned++;
  }
  return turned;
}
