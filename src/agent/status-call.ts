import type { Kamcmd } from './status.js';

// `sipbake-status --call CALL-ID`: does this instance hold the call? Kamailio's dialog module answers
// `dlg.dlg_list CALLID` with the dialogs of that Call-ID (nothing when it has none; Kamailio 5.5
// src/modules/dialog/dialog.c, rpc_print_dlg). kamcmd turns an argument that looks like a number into an
// integer, so the Call-ID goes as `s:ID` (a string whatever it looks like).

/** dlg->state: 1 unconfirmed, 2 early, 3 confirmed (no ACK yet), 4 confirmed, 5 deleted (dialog/dlg_hash.h). */
const DLG_STATES: Record<number, string> = { 1: 'unconfirmed', 2: 'early', 3: 'confirmed (no ACK yet)', 4: 'confirmed', 5: 'ended' };

export interface CallDialog {
  callId: string;
  state: string;
  fromUri?: string;
  toUri?: string;
  /** Unix seconds the call was answered (0 while not). */
  startTs?: number;
}

export interface CallLookup {
  callId: string;
  /** true: Kamailio here tracks it; false: it does not; undefined: Kamailio could not be asked. */
  held?: boolean;
  dialogs: CallDialog[];
  error?: string;
}

/** Pure: kamcmd's printout of dlg.dlg_list (one `{ … }` block per dialog, `name: value` lines). */
export function parseDlgList(out: string): CallDialog[] {
  const blocks = out.split(/\n\s*\}\s*(?:\n|$)/).filter((b) => /call-id:/.test(b));
  return blocks.map((b) => {
    const field = (name: string) => new RegExp(`^\\s*${name}:\\s*(.*?)\\s*$`, 'm').exec(b)?.[1];
    const state = Number(field('state'));
    const start = Number(field('start_ts'));
    const d: CallDialog = { callId: field('call-id') ?? '', state: DLG_STATES[state] ?? `state ${field('state') ?? '?'}` };
    const from = field('from_uri');
    const to = field('to_uri');
    if (from) d.fromUri = from;
    if (to) d.toUri = to;
    if (Number.isFinite(start)) d.startTs = start;
    return d;
  });
}

export async function lookupCall(kam: Kamcmd, callId: string): Promise<CallLookup> {
  try {
    const dialogs = parseDlgList(await kam(['dlg.dlg_list', `s:${callId}`])).filter((d) => d.callId === callId);
    return { callId, held: dialogs.length > 0, dialogs };
  } catch (e) {
    return { callId, dialogs: [], error: e instanceof Error ? e.message : String(e) };
  }
}

/** Pure: the lines the screen shows for the lookup. */
export function formatCall(c: CallLookup): string[] {
  if (c.held === undefined) return [`Call             ${c.callId}: UNKNOWN (${c.error ?? 'Kamailio could not be asked'})`];
  if (!c.held)
    return [
      `Call             ${c.callId}: NOT HERE (no dialog with this Call-ID; \`sipbake status IMAGE --call 'sbinst=…'\` names the instance from the Record-Route token)`,
    ];
  return c.dialogs.map(
    (d) =>
      `Call             ${c.callId}: HELD HERE, ${d.state}${d.fromUri ? `, ${d.fromUri} → ${d.toUri ?? '?'}` : ''}${d.startTs ? `, answered ${new Date(d.startTs * 1000).toISOString()}` : ''}`,
  );
}
