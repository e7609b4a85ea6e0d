// Pure: SIPp scenarios for the rehearsal's calls. Each call holds for a uniformly random time, then one side hangs up:
// the caller (service "callerbye") or the callee ("calleebye"). The callee sends its BYE to the NLB's address (the
// host in the Record-Route it received), as a Twilio SIP domain does, so it arrives from another source address
// than the call's INVITE and the NLB may hash it to another instance than the one that owns the dialog.

import { answerBye, answerLast, head, OPTIONS_ANSWER_END, UAC_INVITE_ACK, UAS_ANSWER, uacBye } from '../try/sipp-scenarios.js';

export interface Hold {
  minMs: number;
  maxMs: number;
}

const invite = UAC_INVITE_ACK;

/** The source Twilio: INVITE, then it hangs up after the hold (caller BYE along the route set). */
export function uacCallerBye(h: Hold): string {
  return `${head('rehearse caller-bye')}${invite}  <pause distribution="uniform" min="${h.minMs}" max="${h.maxMs}"/>
${uacBye()}</scenario>
`;
}

/**
 * A busy SIP trunk: every call from one address and port (SIPp -t u1 -p 5060), so one UDP 5-tuple to the NLB that
 * never idles. Odd calls end with the callee's BYE (Request-URI user "calleebye", which the callee scenario hangs
 * up), even ones with the caller's BYE after the hold. SIPp runs behind the trunk's edge (ns-helper --trunk-edge), so
 * its messages name the trunk's public address (`as`) and the NLB's (`to`), not SIPp's own sockets.
 */
export function uacTrunk(h: Hold, waitMs: number, as: { ip: string; port: number }, to: { ip: string; port: number }): string {
  return `${head('rehearse trunk')}  <nop>
    <action>
      <assignstr assign_to="cn" value="[call_number]"/>
      <ereg regexp="[13579]$" search_in="var" variable="cn" check_it="false" assign_to="calleeEnds"/>
    </action>
  </nop>
  <nop next="callee" test="calleeEnds"/>
  <nop next="invite">
    <action>
      <assignstr assign_to="svc" value="callerbye"/>
    </action>
  </nop>
  <label id="callee"/>
  <nop>
    <action>
      <assignstr assign_to="svc" value="calleebye"/>
    </action>
  </nop>
  <label id="invite"/>
${invite.replaceAll('[service]', '[$svc]')}  <nop next="waitbye" test="calleeEnds"/>
  <pause distribution="uniform" min="${h.minMs}" max="${h.maxMs}"/>
${uacBye('end')}  <label id="waitbye"/>
${answerBye(waitMs)}  <label id="end"/>
</scenario>
`
    .replaceAll('[local_ip]', as.ip)
    .replaceAll('[media_ip]', as.ip)
    .replaceAll('[local_port]', String(as.port))
    .replaceAll('[remote_ip]', to.ip)
    .replaceAll('[remote_port]', String(to.port));
}

/** The source Twilio for calls the callee ends: INVITE, then waits for the BYE (at most waitMs) and answers it. */
export function uacCalleeBye(waitMs: number): string {
  return `${head('rehearse callee-bye')}${invite}${answerBye(waitMs)}</scenario>
`;
}

/**
 * The destination (or a recorder): answers INVITE, and for "calleebye" hangs up after the hold, sending the BYE
 * to the NLB (nlbHost:nlbPort) along the recorded route; otherwise waits for the caller's BYE. Answers OPTIONS.
 */
export function uas(h: Hold, nlbHost: string, nlbPort: number, waitMs: number): string {
  return `${head('rehearse uas')}  <recv request="INVITE|OPTIONS" regexp_match="true" rrs="true">
    <action>
      <ereg regexp="^OPTIONS" search_in="msg" check_it="false" assign_to="isopt"/>
      <ereg regexp="^INVITE sip:calleebye@" search_in="msg" check_it="false" assign_to="hangup"/>
    </action>
  </recv>
  <nop next="options" test="isopt"/>
${UAS_ANSWER}  <recv request="ACK" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="ackfrom"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="ackto"/>
    </action>
  </recv>
  <nop next="hangup" test="hangup"/>
  <recv request="BYE" timeout="${waitMs}"/>
${answerLast('done')}  <label id="hangup"/>
  <pause distribution="uniform" min="${h.minMs}" max="${h.maxMs}"/>
  <nop>
    <action>
      <setdest host="${nlbHost}" port="${nlbPort}" protocol="udp"/>
    </action>
  </nop>
  <send retrans="500">
    <![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: [$ackto]
To: [$ackfrom]
[routes]
Call-ID: [call_id]
CSeq: 1 BYE
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
  <recv response="200" next="done"/>
${OPTIONS_ANSWER_END}`;
}

/**
 * A caller scenario whose calls carry RTP (recorder-lb): SIPp cannot count packets or gaps, so its exec actions
 * tell ns-helper --caller-rtp (rtp-stream.ts followMediaCtl) by appending to ctlFile: on the 200, the call's media
 * address (SIPp -mi, another address than its signalling) and the answer's audio address; at its BYE (sent or
 * received), the time. The offer's c= names the media address; RTPProxy latches onto the helper's socket.
 */
const END_MARK_MS = 300;

export function withCallerMedia(xml: string, ctlFile: string): string {
  if (!/^[\w./-]+$/.test(ctlFile)) throw new Error(`withCallerMedia: ${ctlFile} is not a plain path (it goes into a shell command)`);
  // SIPp's XML reader does not decode entities (&gt; stays as is), so no redirection: dd appends (one write per line).
  const append = (line: string) => `<exec command="echo ${line} | dd of=${ctlFile} oflag=append conv=notrunc status=none"/>`;
  const end = append('end [call_id] $(date +%s%3N)');
  const answered = `<recv response="200" rtd="true" rrs="true">
    <action>
      <ereg regexp="c=IN IP4 ([0-9.]+)" search_in="msg" check_it="false" assign_to="sdpline,aip"/>
      <ereg regexp="m=audio ([0-9]+)" search_in="msg" check_it="false" assign_to="sdpline,aport"/>
      ${append('start [call_id] [media_ip] [$aip] [$aport]')}
    </action>
  </recv>`;
  const out = xml
    .replace('<recv response="200" rtd="true" rrs="true"/>', answered)
    // The caller's BYE: the end time is taken, then the BYE waits END_MARK_MS, so the shell's start-up (exec forks
    // twice, then sh and date) falls while the audio still flows, not after the BYE closed the session.
    .replace(
      /( {2}<send retrans="500">\s*<!\[CDATA\[\s*BYE )/,
      `  <nop>\n    <action>\n      ${end}\n    </action>\n  </nop>\n  <pause milliseconds="${END_MARK_MS}"/>\n$1`,
    )
    .replace(/<recv request="BYE" timeout="(\d+)"\/>/, `<recv request="BYE" timeout="$1">\n    <action>\n      ${end}\n    </action>\n  </recv>`);
  if (!out.includes('start [call_id]') || !out.includes('end [call_id]')) throw new Error('withCallerMedia: not a caller scenario (no 200 or no BYE)');
  return out;
}
