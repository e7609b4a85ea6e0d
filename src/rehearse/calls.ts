// Pure: what happened to each call, from the callers' SIPp message logs (and how often its INVITE was sent again).
//   refused   — the INVITE got a final error (e.g. 503 from a draining instance): never established
//   completed — established, and its BYE transaction ended with 200 (caller's or callee's BYE)
//   dropped   — established, and never properly ended (or, set by run.ts, its instance was terminated under it)

export interface CallOutcome {
  callId: string;
  result: 'completed' | 'dropped' | 'refused' | 'unanswered';
  endedBy?: 'caller' | 'callee';
  status?: number;
  /** How often the caller sent its INVITE again before the answer (SIPp retransmits after T1, 2·T1, …). */
  inviteRetransmissions?: number;
  /** Still up when the rehearsal stopped waiting for the calls (set by report.ts): the harness, not the roll, cut it. */
  cutByRehearsal?: boolean;
  /** Its SIP completed but its audio did not (no packet back, or a gap over RTP_GAP_MS): counted as dropped
   *  (set by rtp-report.ts markAudioLost). */
  audioLost?: 'none' | 'gap';
  /** When its BYE got its 200 at the callee (filled in by the caller of callOutcomes). */
  endedAt?: number;
}

export function callOutcomes(logs: string[]): CallOutcome[] {
  const calls = new Map<
    string,
    {
      established: boolean;
      final?: number;
      byeSent: boolean;
      byeOk: boolean;
      byeReceived: boolean;
      byeAnswered: boolean;
      invitesSent: number;
    }
  >();
  for (const m of timedMessages(logs.join('\n'))) {
    const id = /^Call-ID:\s*(\S+)/im.exec(m.text)?.[1];
    if (!id) continue;
    const c = calls.get(id) ?? {
      established: false,
      byeSent: false,
      byeOk: false,
      byeReceived: false,
      byeAnswered: false,
      invitesSent: 0,
    };
    calls.set(id, c);
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(m.text)?.[1] ?? 0);
    const cseq = /^CSeq:\s*\d+\s+(\w+)/im.exec(m.text)?.[1];
    if (m.direction === 'received' && cseq === 'INVITE' && status >= 200) {
      if (status < 300) c.established = true;
      else c.final = status;
    }
    if (m.direction === 'sent' && /^INVITE /.test(m.text) && !c.established && c.final === undefined) c.invitesSent++;
    if (m.direction === 'sent' && /^BYE /.test(m.text)) c.byeSent = true;
    if (m.direction === 'received' && cseq === 'BYE' && status === 200) c.byeOk = true;
    if (m.direction === 'received' && /^BYE /.test(m.text)) c.byeReceived = true;
    if (m.direction === 'sent' && cseq === 'BYE' && status === 200) c.byeAnswered = true;
  }
  return [...calls].map(([callId, c]) => ({ ...outcome(callId, c), ...(c.invitesSent > 1 ? { inviteRetransmissions: c.invitesSent - 1 } : {}) }));
}

function outcome(
  callId: string,
  c: { established: boolean; final?: number; byeSent: boolean; byeOk: boolean; byeReceived: boolean; byeAnswered: boolean },
): CallOutcome {
  if (!c.established) return c.final ? { callId, result: 'refused', status: c.final } : { callId, result: 'unanswered' };
  if (c.byeSent && c.byeOk) return { callId, result: 'completed', endedBy: 'caller' };
  if (c.byeReceived && c.byeAnswered) return { callId, result: 'completed', endedBy: 'callee' };
  return { callId, result: 'dropped' };
}

export interface TimedMessage {
  at: number;
  direction: 'sent' | 'received';
  header: string;
  text: string;
}

/** SIPp -trace_msg: "----- YYYY-MM-DD HH:MM:SS.micro" then "UDP message received [n] bytes :" (pure). */
export function timedMessages(log: string): TimedMessage[] {
  const out: TimedMessage[] = [];
  const re = /^-{10,}\s+(\d{4}-\d\d-\d\d[\sT]\d\d:\d\d:\d\d(?:\.\d+)?)\s*\n(.*message (sent|received)[^\n]*)\n([\s\S]*?)(?=^-{10,}\s+\d{4}-|$(?![\s\S]))/gm;
  for (const [, stamp, header, direction, text] of log.matchAll(re)) {
    // Every group of `re` takes part in every match.
    if (stamp === undefined || header === undefined || text === undefined) throw new Error('timedMessages: a match without all its groups');
    const at = Date.parse(stamp.replace(' ', 'T').replace(/(\.\d{3})\d*/, '$1'));
    out.push({ at, header, direction: direction as 'sent' | 'received', text: text.replace(/\r/g, '').trim() });
  }
  return out;
}
