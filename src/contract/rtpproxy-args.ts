// RTPProxy's command line, built in one place, as RTPProxy 3.2.0 reads it (sippy/rtpproxy at the pinned
// commit b26b09b3: doc/manpage.xml, src/main.c getopt "vf2Rl:6:s:S:t:r:p:T:L:m:M:u:Fin:Pad:Vc:A:w:bW:DC",
// src/rtpp_bindargs.c). The render writes the static part (rtpproxy.env) and the unit's LimitNOFILE from
// here; the boot agent writes the addresses (rtpproxy-boot.env) from here. All of RTPProxy's argv lives here. Pure.
import { checkAddress } from './escape.js';

/** The boot agent's half of the argv (the addresses), read by the unit as $RTPPROXY_ADDR_OPTS. */
export const RTPPROXY_BOOT_ENV_PATH = 'etc/sipbake/rtpproxy-boot.env';

export interface RtpproxyBootValues {
  privateIp: string;
  publicIp: string;
}

/**
 * RTPProxy 3.2.0's listen argument (doc/manpage.xml, src/rtpp_bindargs.c bindarg_parse): the advertised
 * address rides inside it as `-l PRIVATE=PUBLIC`. `-A` is only the bridge-mode pair (`-l a/b -A x/y`)
 * and is ignored without a word with a single `-l`.
 */
function rtpproxyListenArgs(v: RtpproxyBootValues): string[] {
  checkAddress(v.privateIp, 'the RTPProxy boot env');
  checkAddress(v.publicIp, 'the RTPProxy boot env');
  return ['-l', v.publicIp === v.privateIp ? v.privateIp : `${v.privateIp}=${v.publicIp}`];
}

type RtpproxyLogLevel = 'DBUG' | 'INFO' | 'WARN' | 'ERR' | 'CRIT';

export interface RtpproxySettings {
  controlSocket: string;
  rtpPorts: { min: number; max: number };
  /** -d: DBUG is the default in foreground mode and writes ~13 lines per call; WARN does not flood journald. */
  logLevel: RtpproxyLogLevel;
  /** Concurrent calls the instance is sized for; default: what the RTP port range can hold. */
  maxCalls?: number;
}

/** The unit's RuntimeDirectory=rtpproxy: owned by the rtpproxy user, so the pidfile write works without root. */
export const RTPPROXY_PIDFILE = '/run/rtpproxy/rtpproxy.pid';
/** Descriptors besides media: control socket, log, timers, the resolver. */
const FD_HEADROOM = 256;
/** rtpproxy issue #75 and the -L entry of the manual: four descriptors per session (RTP + RTCP, each side). */
const FDS_PER_CALL = 4;

/** Calls the port range holds: each call takes an RTP and an RTCP port on each of its two legs. */
function rtpproxyPortCapacity(s: Pick<RtpproxySettings, 'rtpPorts'>): number {
  return Math.max(1, Math.floor((s.rtpPorts.max - s.rtpPorts.min + 1) / 4));
}

export function rtpproxyMaxCalls(s: RtpproxySettings): number {
  return s.maxCalls ?? rtpproxyPortCapacity(s);
}

/** -L and the unit's LimitNOFILE (the same number: a non-root process may not raise its hard limit). */
export function rtpproxyFdLimit(s: RtpproxySettings): number {
  return rtpproxyMaxCalls(s) * FDS_PER_CALL + FD_HEADROOM;
}

/** Everything but the addresses: known at render time. */
function rtpproxyStaticArgs(s: RtpproxySettings): string[] {
  return [
    '-f', // foreground: systemd supervises it, logs go to the journal
    // -F only lifts 3.2.0's refusal to run as root, without -u, with a network (udp) control socket (src/main.c,
    // no_check); it does nothing to where the control socket listens. The unit runs as User=rtpproxy, so there it
    // changes nothing; it lets the same argv run as root on a test host. The control socket stays on loopback
    // because validate refuses any other address unless asked.
    '-F',
    '-s',
    s.controlSocket,
    '-m',
    String(s.rtpPorts.min),
    '-M',
    String(s.rtpPorts.max),
    '-d',
    s.logLevel,
    '-L',
    String(rtpproxyFdLimit(s)),
    '-p',
    RTPPROXY_PIDFILE,
  ];
}

/** The whole argv after the binary, as the unit runs it once boot has written the addresses. */
export function rtpproxyArgv(s: RtpproxySettings, addrs: RtpproxyBootValues): string[] {
  return [...rtpproxyStaticArgs(s), ...rtpproxyListenArgs(addrs)];
}

/** An env-file line systemd reads back as the same words ($VAR in ExecStart splits on white space). */
export function rtpproxyOptsLine(s: RtpproxySettings): string {
  const args = rtpproxyStaticArgs(s);
  for (const a of args) if (/[\s"'\\$%]/.test(a)) throw new Error(`rtpproxy argument ${JSON.stringify(a)} cannot be written into an environment file`);
  return `RTPPROXY_OPTS="${args.join(' ')}"`;
}

/** rtpproxy-boot.env: the addresses half of the argv, written at boot (and by `render --local`). */
export function renderRtpproxyBootEnv(v: RtpproxyBootValues): string {
  return `RTPPROXY_ADDR_OPTS="${rtpproxyListenArgs(v).join(' ')}"\n`;
}
