// Pure: one call's RTP as the rehearsal's caller sees it, and the SDP edits that put the caller's media on an
// address other than its signalling (a carrier's media range). The stream (rtp-stream.ts) feeds it events.

/** A call's audio is cut when no packet came back for longer than this (real time); the Must-show threshold. */
export const RTP_GAP_MS = 200;
/** One RTP packet every 20 ms (G.711 at 8 kHz: 160 samples). */
export const RTP_PTIME_MS = 20;

export interface RtpCall {
  callId: string;
  sent: number;
  received: number;
  /** Longest time without a packet back, from the first packet sent until the call ended. */
  longestGapMs: number;
  /** Of which the silence from the last packet back to the end (the BYE): audio that stopped before it. */
  endSilenceMs?: number;
  startedAt?: number;
  lastReceivedAt?: number;
  endedAt?: number;
}

export interface RtpSummary {
  calls: number;
  callsWithGap: number;
  callsWithoutAudio: number;
  maxGapMs: number;
}

export function newCall(callId: string): RtpCall {
  return { callId, sent: 0, received: 0, longestGapMs: 0 };
}

export function onSent(c: RtpCall, now: number): void {
  c.startedAt ??= now;
  c.sent++;
}

export function onReceived(c: RtpCall, now: number): void {
  if (c.endedAt !== undefined) return;
  const since = c.lastReceivedAt ?? c.startedAt ?? now;
  c.longestGapMs = Math.max(c.longestGapMs, now - since);
  c.lastReceivedAt = now;
  c.received++;
}

/** The call is over (its BYE): the silence since the last packet back counts as a gap too. */
export function onEnded(c: RtpCall, now: number): void {
  if (c.endedAt !== undefined) return;
  c.endedAt = now;
  if (c.startedAt === undefined) return;
  c.endSilenceMs = Math.max(0, now - (c.lastReceivedAt ?? c.startedAt));
  c.longestGapMs = Math.max(c.longestGapMs, c.endSilenceMs);
}

/** A call counts as dropped when its audio stopped: nothing came back, or a gap past RTP_GAP_MS. */
export function summarize(calls: readonly RtpCall[]): RtpSummary {
  const media = calls.filter((c) => c.sent > 0);
  return {
    calls: media.length,
    callsWithGap: media.filter((c) => c.received > 0 && c.longestGapMs > RTP_GAP_MS).length,
    callsWithoutAudio: media.filter((c) => c.received === 0).length,
    maxGapMs: Math.round(Math.max(0, ...media.map((c) => c.longestGapMs))),
  };
}

// ---- The callers' media control ------------------------------------------------------------------------------

/** What the SIPp callers' exec actions append to the media control file, one line each (scenarios.ts withCallerMedia):
 *  `start CALL_ID MEDIA_IP ANSWER_IP ANSWER_PORT` once the 200 named where to send, `end CALL_ID EPOCH_MS` at the BYE. */
export type MediaCtl = { kind: 'start'; callId: string; mediaIp: string; to: { ip: string; port: number } } | { kind: 'end'; callId: string; at: number };

export function parseMediaCtl(line: string): MediaCtl | undefined {
  const w = line.trim().split(/\s+/);
  const ipv4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
  if (w[0] === 'start' && w.length === 5 && w[1] && w[2] && ipv4.test(w[2]) && w[3] && ipv4.test(w[3]) && Number(w[4]) > 0)
    return { kind: 'start', callId: w[1], mediaIp: w[2], to: { ip: w[3], port: Number(w[4]) } };
  if (w[0] === 'end' && w.length === 3 && w[1] && Number(w[2]) > 0) return { kind: 'end', callId: w[1], at: Number(w[2]) };
  return undefined;
}

// ---- SDP ----------------------------------------------------------------------------------------------------

/** The SIP message's Call-ID, CSeq method, and the status of a response (undefined for a request). */
export function sipHead(msg: string): { callId?: string; cseq?: string; status?: number; method?: string } {
  const callId = /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im.exec(msg)?.[1];
  const cseq = /^CSeq[ \t]*:[ \t]*\d+[ \t]+(\S+)/im.exec(msg)?.[1];
  const status = /^SIP\/2\.0 (\d{3})/.exec(msg)?.[1];
  const method = status === undefined ? /^([A-Z]+) /.exec(msg)?.[1] : undefined;
  return {
    ...(callId ? { callId } : {}),
    ...(cseq ? { cseq } : {}),
    ...(status ? { status: Number(status) } : {}),
    ...(method ? { method } : {}),
  };
}

function split(msg: string): { head: string; body: string } | undefined {
  const at = msg.indexOf('\r\n\r\n');
  return at < 0 ? undefined : { head: msg.slice(0, at), body: msg.slice(at + 4) };
}

/** The audio address an SDP body offers or answers (c= at session or media level, m=audio port). */
export function sdpAudio(msg: string): { ip: string; port: number } | undefined {
  const b = split(msg)?.body;
  const ip = b && /^c=IN IP4 ([0-9.]+)/m.exec(b)?.[1];
  const port = b && /^m=audio (\d+) /m.exec(b)?.[1];
  return ip && port ? { ip, port: Number(port) } : undefined;
}

/** The message with its SDP's audio address replaced (c= lines, o= address, m=audio port) and Content-Length fixed. */
export function withSdpAudio(msg: string, to: { ip: string; port: number }): string {
  const p = split(msg);
  if (!p || !/^m=audio /m.test(p.body)) return msg;
  const body = p.body
    .replace(/^c=IN IP4 [0-9.]+/gm, `c=IN IP4 ${to.ip}`)
    .replace(/^(o=.* IN IP4 )[0-9.]+/m, `$1${to.ip}`)
    .replace(/^m=audio \d+ /m, `m=audio ${to.port} `);
  const head = p.head.replace(/^(Content-Length|l)[ \t]*:[ \t]*\d+/im, `Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  return `${head}\r\n\r\n${body}`;
}
