// SIPp scenarios for the media tests (pure XML text). SIPp's built-in uac ignores Record-Route, so every caller
// here follows [routes]. The callee ("recorder") chooses its behaviour by the Request-URI user the caller dials:
//   ring…  100, 180, then waits for the CANCEL: 200 to it, 487 to the INVITE, takes the ACK
//   busy…  486, takes the ACK
//   fail…  503, takes the ACK (so the call fails over to the other recorder, which does the same)
//   else   an early offer gets the answer in the 200; a late one (INVITE without SDP) its offer there, and the
//          ACK brings the answer
// In the dialog it answers re-INVITEs (with or without SDP: its 200 always carries SDP) and the BYE.
// Media: the caller plays a pcap (SIPp ships g711a.pcap) to the address in the SDP it got; the recorder runs with
// -rtp_echo, so RTP flows both ways through RTPProxy. OPTIONS probes are answered 200.
import { head, OPTIONS_ANSWER_END } from '../../src/try/sipp-scenarios.js';

const sdp = (version: number): string => `v=0
o=user1 53655765 ${version} IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000
`;

const reply = (status: string, o: { toTag?: boolean; body?: string; cseq?: string; rr?: boolean } = {}): string => `  <send${o.body ? ' retrans="500"' : ''}>
    <![CDATA[
SIP/2.0 ${status}
[last_Via:]
${o.rr ? '[last_Record-Route:]\n' : ''}[last_From:]
[last_To:]${o.toTag ? ';tag=[pid]SIPpTag01[call_number]' : ''}
[last_Call-ID:]
${o.cseq ?? '[last_CSeq:]'}
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
${o.body ? 'Content-Type: application/sdp\nContent-Length: [len]\n\n' + o.body : 'Content-Length: 0\n'}
    ]]>
  </send>
`;

export function recorderScenario(): string {
  return `${head('sipbake media recorder')}  <recv request="INVITE|OPTIONS" regexp_match="true">
    <action>
      <ereg regexp="^OPTIONS" search_in="msg" check_it="false" assign_to="isopt"/>
      <ereg regexp="^INVITE sip:ring" search_in="msg" check_it="false" assign_to="ring"/>
      <ereg regexp="^INVITE sip:busy" search_in="msg" check_it="false" assign_to="busy"/>
      <ereg regexp="^INVITE sip:fail" search_in="msg" check_it="false" assign_to="fail"/>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" check_it="false" assign_to="invcseq"/>
    </action>
  </recv>
  <nop next="options" test="isopt"/>
${reply('100 Trying')}  <nop next="ring" test="ring"/>
  <nop next="busy" test="busy"/>
  <nop next="fail" test="fail"/>
${reply('200 OK', { toTag: true, rr: true, body: sdp(1) })}  <recv request="ACK" next="dialog"/>
  <label id="ring"/>
${reply('180 Ringing', { toTag: true, rr: true })}  <recv request="CANCEL"/>
${reply('200 OK')}${reply('487 Request Terminated', { toTag: true, cseq: 'CSeq: [$invcseq] INVITE' })}  <recv request="ACK" next="done"/>
  <label id="busy"/>
${reply('486 Busy Here', { toTag: true })}  <recv request="ACK" next="done"/>
  <label id="fail"/>
${reply('503 Service Unavailable', { toTag: true })}  <recv request="ACK" next="done"/>
  <label id="dialog"/>
  <recv request="INVITE" optional="true" next="reinvite"/>
  <recv request="BYE" next="bye"/>
  <label id="reinvite"/>
${reply('200 OK', { body: sdp(2) })}  <recv request="ACK" next="dialog"/>
  <label id="bye"/>
${reply('200 OK')}  <nop next="done"/>
${OPTIONS_ANSWER_END}`;
}

const FROM = 'From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]';
const BRANCH = 'z9hG4bK-sb[pid]-[call_number]';

const invite = (user: string, body: boolean): string => `  <send retrans="500">
    <![CDATA[
INVITE sip:${user}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${BRANCH}
${FROM}
To: <sip:${user}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
${body ? 'Content-Type: application/sdp\nContent-Length: [len]\n\n' + sdp(1) : 'Content-Length: 0\n'}
    ]]>
  </send>
`;

/** A request inside the dialog, along the route set recorded from the first 200. */
const inDialog = (method: string, cseq: number, body?: string): string => `  <send${method === 'ACK' ? '' : ' retrans="500"'}>
    <![CDATA[
${method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${FROM}
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: ${cseq} ${method}
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
${body ? 'Content-Type: application/sdp\nContent-Length: [len]\n\n' + body : 'Content-Length: 0\n'}
    ]]>
  </send>
`;

const play = (pcap: string, ms: number): string => `  <nop><action><exec play_pcap_audio="${pcap}"/></action></nop>
  <pause milliseconds="${ms}"/>
`;

/** A caller whose INVITE is cancelled after the 180: CANCEL, its 200, the 487 and the ACK to it. */
export function cancelCaller(): string {
  return `${head('sipbake media cancel')}${invite('ring', true)}  <recv response="100" optional="true"/>
  <recv response="180"/>
  <pause milliseconds="300"/>
  <send retrans="500">
    <![CDATA[
CANCEL sip:ring@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${BRANCH}
${FROM}
To: <sip:ring@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <recv response="487"/>
  <send>
    <![CDATA[
ACK sip:ring@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${BRANCH}
${FROM}
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
</scenario>
`;
}

/** A caller refused with a final error: the callee dials `user` (busy: 486; fail: 5xx); the ACK ends the call. */
function refusedCaller(user: string, statuses: string[]): string {
  const [last, ...first] = [...statuses].reverse();
  const optional = first.map((st) => `  <recv response="${st}" optional="true" next="ack"/>\n`).join('');
  return `${head(`sipbake media ${user}`)}${invite(user, true)}  <recv response="100" optional="true"/>
${optional}  <recv response="${last}"/>
  <label id="ack"/>
  <send>
    <![CDATA[
ACK sip:${user}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${BRANCH}
${FROM}
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
</scenario>
`;
}

export const busyCaller = (): string => refusedCaller('busy', ['486']);
/** Kamailio relays the last 503, or answers 500 itself when no destination is left. */
export const failCaller = (): string => refusedCaller('fail', ['500', '503']);

export interface MediaCallOptions {
  /** The pcap the caller plays after each offer/answer (a short cut of SIPp's g711a.pcap). */
  pcap: string;
  /** How long each media phase lasts, ms (at least the pcap's length). */
  phaseMs: number;
}

/** Late offer: INVITE without SDP, the offer in the 200, the answer in the ACK; media; BYE. */
export function lateOfferCaller(o: MediaCallOptions): string {
  return `${head('sipbake media late offer')}${invite('late', false)}  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
${inDialog('ACK', 1, sdp(1))}${play(o.pcap, o.phaseMs)}${inDialog('BYE', 2)}  <recv response="200" crlf="true"/>
</scenario>
`;
}

/**
 * Early offer, then a re-INVITE with SDP (offer in it, answer in the 200) and one without (offer in the 200,
 * answer in the ACK); media after each; BYE.
 */
export function reinviteCaller(o: MediaCallOptions): string {
  return `${head('sipbake media re-INVITE')}${invite('reinvite', true)}  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
${inDialog('ACK', 1)}${play(o.pcap, o.phaseMs)}${inDialog('INVITE', 2, sdp(2))}  <recv response="100" optional="true"/>
  <recv response="200"/>
${inDialog('ACK', 2)}${play(o.pcap, o.phaseMs)}${inDialog('INVITE', 3)}  <recv response="100" optional="true"/>
  <recv response="200"/>
${inDialog('ACK', 3, sdp(3))}${play(o.pcap, o.phaseMs)}${inDialog('BYE', 4)}  <recv response="200" crlf="true"/>
</scenario>
`;
}

/** The first `packets` packets of a classic pcap file (24-byte header, 16-byte record headers), as a new file's bytes. */
export function cutPcap(pcap: Buffer, packets: number): Buffer {
  let off = 24;
  for (let i = 0; i < packets && off + 16 <= pcap.length; i++) off += 16 + pcap.readUInt32LE(off + 8);
  return pcap.subarray(0, off);
}

/**
 * A caller for overload runs: an early offer that is either answered (ACK, hold, BYE) or refused with 503 (ACK);
 * both count as a successful SIPp call, and the message log tells which.
 */
export function admitOrRefuseCaller(holdMs: number): string {
  return `${head('sipbake media admit or refuse')}${invite('load', true)}  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="503" optional="true" next="refused"/>
  <recv response="200" rtd="true" rrs="true"/>
${inDialog('ACK', 1)}  <pause milliseconds="${holdMs}"/>
${inDialog('BYE', 2)}  <recv response="200" crlf="true" next="end"/>
  <label id="refused"/>
  <send>
    <![CDATA[
ACK sip:load@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${BRANCH}
${FROM}
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
  <label id="end"/>
</scenario>
`;
}
