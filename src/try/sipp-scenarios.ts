// SIPp scenarios sipbake uses on loopback, as XML text (pure). Written to files by the caller.
// Syntax: SIPp 3.6 reference (recv/send/pause/nop, [last_*], [routes], [next_url], ereg + test/next).

export const head = (name: string): string => `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="${name}">
`;

/**
 * A callee that stands in for a destination SIP domain or a recorder: answers INVITE with 100 + 200
 * (SDP, copying Record-Route), takes ACK and BYE, and answers OPTIONS probes with 200. Each OPTIONS
 * probe counts as one (successful) SIPp call.
 */
// One offer/answer body for both sides; SIPp fills in the addresses and the media port.
const SDP = `v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
`;

/** A caller's INVITE with SDP, the optional provisional responses, the 200 (records the route set) and the ACK along it. */
export const UAC_INVITE_ACK = `  <send retrans="500">
    <![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

${SDP}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
`;

/** The caller's BYE along the route set recorded from the 200 ([routes]), and its 200; `next` jumps on after it. */
export const uacBye = (next?: string): string => `  <send retrans="500">
    <![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"${next ? ` next="${next}"` : ''}/>
`;
const UAC_BYE = uacBye();

/** 200 OK to the request just received (copying its Via, From, To, Call-ID, CSeq); `next` jumps on after it. */
export const answerLast = (next?: string): string => `  <send${next ? ` next="${next}"` : ''}>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
`;

/** The end of a callee scenario: OPTIONS (label "options") answered 200 with a To-tag, then the end (label "done"). */
export const OPTIONS_ANSWER_END = `  <label id="options"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag02[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
  <label id="done"/>
</scenario>
`;

/** Waits (at most timeoutMs) for the other side's BYE, and answers it. */
export const answerBye = (timeoutMs: number): string => `  <recv request="BYE" timeout="${timeoutMs}"/>
${answerLast()}`;

/** A callee's answer to an INVITE: 100 Trying, then 200 OK with SDP, copying the Record-Route set. */
export const UAS_ANSWER = `  <send>
    <![CDATA[
SIP/2.0 100 Trying
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

${SDP}
    ]]>
  </send>
`;

export function uasScenario(): string {
  return `${head('sipbake uas')}  <recv request="INVITE|OPTIONS" regexp_match="true">
    <action>
      <ereg regexp="^OPTIONS" search_in="msg" check_it="false" assign_to="isopt"/>
    </action>
  </recv>
  <nop next="options" test="isopt"/>
${UAS_ANSWER}  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
${answerLast('done')}${OPTIONS_ANSWER_END}`;
}

export interface UacScenarioOptions {
  /** Milliseconds between the ACK and the BYE (default 200). */
  holdMs?: number;
}

/**
 * A caller: INVITE with SDP, optional 100/180, 200 (records the route set), ACK and BYE along that
 * route set ([routes]); SIPp itself sends every message to its remote address, i.e. the proxy.
 */
export function uacScenario(o: UacScenarioOptions = {}): string {
  const hold = o.holdMs ?? 200;
  return `${head('sipbake uac')}${UAC_INVITE_ACK}  <pause milliseconds="${hold}"/>
${UAC_BYE}</scenario>
`;
}
