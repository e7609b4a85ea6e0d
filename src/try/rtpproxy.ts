// The real RTPProxy (the pinned 3.2.0 build, src/try/upstream.ts) in the foreground on loopback, with the
// image's own command line (src/contract/rtpproxy-args.ts) and only the pidfile moved into a temp dir.
// Sessions are counted with RTPProxy's own control command `I` ("active sessions: N"), never from logs.
import path from 'node:path';
import { rtpproxyUdpCommand } from '../contract/rtpproxy-control.js';
import { rtpproxyArgv, RTPPROXY_PIDFILE, type RtpproxySettings } from '../contract/rtpproxy-args.js';
import { startProcess, type ManagedProcess } from './process.js';
import { parseRtpproxyArgv } from './rtpproxy-responder.js';

export interface RealRtpproxyOptions {
  bin: string;
  /** Control socket host and port (udp). */
  host: string;
  port: number;
  /** Where media is bound; advertised: what the SDP carries (the Elastic IP), when different. */
  mediaIp: string;
  advertisedIp?: string;
  rtpPorts: { min: number; max: number };
  /** The pidfile goes here. */
  dir: string;
  logLevel?: RtpproxySettings['logLevel'];
}

export interface RtpproxyInfo {
  created: number;
  active: number;
  raw: string;
}

export class RealRtpproxy {
  /** Control commands this object sent (so a test can tell Kamailio's commands from its own queries). */
  sent = 0;

  private constructor(
    readonly process: ManagedProcess,
    readonly host: string,
    readonly port: number,
  ) {}

  /** The control socket as Kamailio's rtpproxy_sock (and media.rtpproxy.controlSocket) wants it. */
  get url(): string {
    return `udp:${this.host}:${this.port}`;
  }

  static async start(o: RealRtpproxyOptions): Promise<RealRtpproxy> {
    const settings: RtpproxySettings = { controlSocket: `udp:${o.host}:${o.port}`, rtpPorts: o.rtpPorts, logLevel: o.logLevel ?? 'WARN' };
    const argv = rtpproxyArgv(settings, { privateIp: o.mediaIp, publicIp: o.advertisedIp ?? o.mediaIp }).map((a) =>
      a === RTPPROXY_PIDFILE ? path.join(o.dir, 'rtpproxy.pid') : a,
    );
    return RealRtpproxy.launch(o.bin, argv, o.host, o.port, o.dir);
  }

  /**
   * RTPProxy started with a whole command line (after the binary), e.g. the unit's; only the pidfile moves into
   * `dir`. Its -s must be udp:HOST:PORT.
   */
  static async fromArgv(bin: string, argv: readonly string[], dir: string): Promise<RealRtpproxy> {
    const args = parseRtpproxyArgv(argv);
    if (!('host' in args.control)) throw new Error('RealRtpproxy.fromArgv: give -s udp:HOST:PORT');
    const p = argv.indexOf('-p');
    const own = p >= 0 ? [...argv.slice(0, p + 1), path.join(dir, 'rtpproxy.pid'), ...argv.slice(p + 2)] : [...argv];
    return RealRtpproxy.launch(bin, own, args.control.host, args.control.port, dir);
  }

  private static async launch(bin: string, argv: readonly string[], host: string, port: number, dir: string): Promise<RealRtpproxy> {
    const p = startProcess([bin, ...argv], {
      name: 'rtpproxy',
      logFile: path.join(dir, 'rtpproxy.log'),
      installHint: 'run .ci/setup (it compiles RTPProxy 3.2.0)',
    });
    const r = new RealRtpproxy(p, host, port);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (!p.running) throw p.failure('exited during start-up', 'read its output above: usually the control port or the media address is taken');
      if ((await r.command('V', 300).catch(() => '')) === '20040107') return r;
      if (Date.now() > deadline) {
        await p.stop();
        throw p.failure(`did not answer V on ${r.url} within 10 s`);
      }
    }
  }

  /** One control command; resolves with the reply without its cookie. */
  command(text: string, timeoutMs = 2000): Promise<string> {
    this.sent++;
    return rtpproxyUdpCommand({
      host: this.host,
      port: this.port,
      command: text,
      timeoutMs,
      what: `rtpproxy ${this.url}: no answer to ${JSON.stringify(text)}`,
    });
  }

  /** RTPProxy's own session counters (the `I` command). */
  async info(): Promise<RtpproxyInfo> {
    const raw = await this.command('I');
    const num = (re: RegExp): number => Number(re.exec(raw)?.[1] ?? NaN);
    return { created: num(/sessions created:\s*(\d+)/), active: num(/active sessions:\s*(\d+)/), raw };
  }

  /** RTPProxy's named counters (the `G` command; src/rtpp_stats.c names them: nsess_complete, npkts_relayed, …). */
  async stats<K extends string>(names: readonly K[]): Promise<Record<K, number>> {
    const raw = await this.command(`G ${names.join(' ')}`);
    const vals = raw.split(/\s+/).map(Number);
    if (vals.length !== names.length || vals.some((v) => Number.isNaN(v)))
      throw new Error(`rtpproxy ${this.url}: G ${names.join(' ')} answered ${JSON.stringify(raw)}`);
    return Object.fromEntries(names.map((n, i) => [n, vals[i]])) as Record<K, number>;
  }

  /** Control commands RTPProxy received from others (Kamailio): its ncmds_rcvd less this object's own queries. */
  async othersCommands(): Promise<number> {
    const { ncmds_rcvd } = await this.stats(['ncmds_rcvd']);
    return ncmds_rcvd - this.sent;
  }

  stop(): Promise<unknown> {
    return this.process.stop();
  }
}
