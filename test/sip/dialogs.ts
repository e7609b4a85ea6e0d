// Dialog helpers over SipUa for live tests: place a call through the proxy, send in-dialog requests
// along the route set as RFC 3261 12.2.1.1 builds it, and end the call from either side.
import { SDP, hdr, hdrs, newId, tagOf, uriOf, type SipMessage, type SipUa } from './sip-ua.js';

export interface Dialog {
  callId: string;
  fromTag: string;
  toTag: string;
  /** The caller's route set: Record-Route of the 200, reversed. */
  callerRoute: string[];
  /** The callee's route set: Record-Route of the INVITE it received, in order. */
  calleeRoute: string[];
  /** Where the caller sends in-dialog requests: the callee's Contact. */
  calleeContact: string;
  /** Where the callee sends in-dialog requests: the caller's Contact. */
  callerContact: string;
  callerAor: string;
  calleeAor: string;
  cseq: number;
}

const splitRR = (vs: string[]): string[] => vs.flatMap((v) => v.split(/,(?=\s*<)/).map((x) => x.trim()));

/** INVITE (with SDP and extra headers) to the proxy at host:port, 200, ACK. Throws unless the call is up. */
export async function placeCall(
  caller: SipUa,
  callee: SipUa,
  proxy: { host: string; port: number },
  o: { user?: string; extra?: string[] } = {},
): Promise<{ dialog: Dialog; ok: SipMessage; invite: SipMessage }> {
  const callId = `${newId()}@test`;
  const fromTag = newId();
  const callerAor = `<sip:caller@${caller.hostport}>;tag=${fromTag}`;
  const calleeAor = `<sip:${o.user ?? 'callee'}@${proxy.host}:${proxy.port}>`;
  const sinceCallee = callee.received.length;
  caller.send(
    caller.request({
      method: 'INVITE',
      ruri: `sip:${o.user ?? 'callee'}@${proxy.host}:${proxy.port}`,
      from: callerAor,
      to: calleeAor,
      callId,
      cseq: 1,
      body: SDP(caller.ip, 30000),
      extra: o.extra ?? [],
    }),
    proxy.host,
    proxy.port,
  );
  const ok = await caller.finalResponse(callId, 'INVITE', 8000);
  if (!ok || ok.status !== 200) throw new Error(`call not answered: ${ok?.startLine ?? 'no final response'}`);
  const invite = await callee.waitFor((m) => m.method === 'INVITE' && hdr(m, 'call-id') === callId, 1000, sinceCallee);
  if (!invite) throw new Error('the callee never saw the INVITE');
  const rr = splitRR(hdrs(ok, 'record-route'));
  const dialog: Dialog = {
    callId,
    fromTag,
    toTag: tagOf(hdr(ok, 'to')),
    callerRoute: [...rr].reverse(),
    calleeRoute: splitRR(hdrs(invite, 'record-route')),
    calleeContact: uriOf(hdr(ok, 'contact')),
    callerContact: uriOf(hdr(invite, 'contact')),
    callerAor,
    calleeAor: `${calleeAor};tag=${tagOf(hdr(ok, 'to'))}`,
    cseq: 1,
  };
  caller.send(inDialogText(caller, dialog, 'ACK', { cseq: 1 }), proxy.host, proxy.port);
  if (!(await callee.waitFor((m) => m.method === 'ACK' && hdr(m, 'call-id') === callId, 3000, sinceCallee)))
    throw new Error('the ACK never reached the callee');
  return { dialog, ok, invite };
}

/** A request from the caller inside the dialog (Route = caller's route set, R-URI = callee's Contact). */
export function inDialogText(caller: SipUa, d: Dialog, method: string, o: { cseq?: number; body?: string; extra?: string[] } = {}): string {
  const cseq = o.cseq ?? ++d.cseq;
  return caller.request({
    method,
    ruri: d.calleeContact,
    from: d.callerAor,
    to: d.calleeAor,
    callId: d.callId,
    cseq,
    route: d.callerRoute,
    body: o.body ?? '',
    extra: o.extra ?? [],
  });
}

/** A request from the callee inside the dialog (Route = callee's route set, R-URI = caller's Contact). */
export function calleeInDialogText(callee: SipUa, d: Dialog, method: string, cseq: number): string {
  return callee.request({
    method,
    ruri: d.callerContact,
    from: d.calleeAor,
    to: d.callerAor,
    callId: d.callId,
    cseq,
    route: d.calleeRoute,
  });
}
