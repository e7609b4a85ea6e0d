// The RTPProxy control-protocol responder used by the live tests (and by `sipbake try`, which is why
// the implementation lives in src/try/). See src/try/rtpproxy-responder.ts for the protocol notes.
export { RtpproxyResponder, answer, parseRtpproxyArgv, replyAddress, RtpproxyArgvError } from '../../src/try/rtpproxy-responder.js';
