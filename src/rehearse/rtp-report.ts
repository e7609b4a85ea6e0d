// The RTP figures of a rehearsal: what the trunk edge's streams wrote (rtp-stream.ts), read back for the summary.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RtpCall, RtpSummary } from './rtp-call.js';

export function rtpStatsFile(dir: string): string {
  return path.join(dir, 'rtp-trunk.json');
}

export interface RtpFigures extends RtpSummary {
  /** Per call: packets sent and received, the longest gap (ms, real time). */
  perCall: { callId: string; sent: number; received: number; longestGapMs: number }[];
}

/** undefined when no call carried RTP (no RTPProxy in either image). */
export async function readRtpFigures(dir: string): Promise<RtpFigures | undefined> {
  const text = await readFile(rtpStatsFile(dir), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const { summary, calls } = JSON.parse(text) as { summary: RtpSummary; calls: RtpCall[] };
  return {
    ...summary,
    perCall: calls.map((c) => ({ callId: c.callId, sent: c.sent, received: c.received, longestGapMs: Math.round(c.longestGapMs) })),
  };
}
