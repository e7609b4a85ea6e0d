// Runs inside a rehearsal namespace (`ip netns exec NS node ns-helper.js …`): the small pieces a namespace needs
// from the controller, which lives in the host's namespace and serves on unix sockets (the filesystem is shared).
//   --forward HOST:PORT=SOCKET   a TCP listener in the namespace piped to a unix socket (IMDS, Auto Scaling API)
//   --rtpproxy HOST:PORT         the RTPProxy control-protocol responder (src/try/rtpproxy-responder.ts)
//   --probe SOCKET               health checks from this namespace: GET /tcp?host=H&port=P → 200 "1" or "0"
//   --trunk-edge PUBLIC=INNER=UA=NEXT  a SIP trunk's UDP edge: the UA (SIPp at UA) talks to INNER; everything it sends
//                                leaves from PUBLIC (one socket: one 5-tuple to NEXT, the NLB); requests arriving at
//                                PUBLIC go to the UA; the UA's responses go where their request came from (the top
//                                Via's received/rport, RFC 3261 §18.2.2), not to NEXT — what SIPp cannot do itself
//   --trunk-rtp MEDIA_IP=FILE    (before --trunk-edge) the trunk's calls carry RTP from MEDIA_IP, an address other than
//                                its signalling one: the edge puts a per-call socket there into each offer, streams to
//                                the answer's address and writes each call's figures to FILE (rtp-stream.ts)
//   --caller-rtp CTL=FILE        the SIPp callers' RTP: follows CTL, where their exec actions append a line per call
//                                start and end (rtp-call.ts parseMediaCtl), streams from the call's media address to the
//                                answer's and writes each call's figures to FILE (rtp-stream.ts followMediaCtl)
// It stops on SIGTERM/SIGINT, or when its parent (the controller) goes away (stdin closes).
import http from 'node:http';
import dgram from 'node:dgram';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { tcpOpen } from '../try/ports.js';
import { RtpproxyResponder } from '../try/rtpproxy-responder.js';
import { sdpAudio, sipHead, withSdpAudio } from './rtp-call.js';
import { followMediaCtl, RtpStreams } from './rtp-stream.js';

const hostPort = (v: string | undefined, what: string): { host: string; port: number } => {
  const [host, port] = (v ?? '').split(':');
  if (!host || !(Number(port) > 0)) throw new Error(`ns-helper: --trunk-edge wants HOST:PORT for ${what}, not "${v ?? ''}"`);
  return { host, port: Number(port) };
};

/** The top Via's branch of a SIP message (a response carries its request's). */
const topBranch = (msg: string): string | undefined => /^(?:Via|v)[ \t]*:[^\r\n]*?;\s*branch=([^;,\s]+)/im.exec(msg)?.[1];

/** The trunk's media: what the edge does to each SIP message on its way (rtp-call.ts, rtp-stream.ts). */
async function trunkMedia(rtp: RtpStreams, text: string, outbound: boolean): Promise<string> {
  const h = sipHead(text);
  if (!h.callId) return text;
  if (outbound && h.method === 'INVITE' && sdpAudio(text)) return withSdpAudio(text, await rtp.socketFor(h.callId));
  if (!outbound && h.cseq === 'INVITE' && h.status !== undefined && h.status >= 200) {
    const to = sdpAudio(text);
    if (h.status < 300 && to) rtp.start(h.callId, to);
    else if (h.status >= 300) rtp.end(h.callId);
  }
  if (h.method === 'BYE' || h.method === 'CANCEL') rtp.end(h.callId);
  return text;
}

async function trunkEdge(spec: string, rtp?: RtpStreams): Promise<() => void> {
  const [pub, inner, ua, next] = spec.split('=').map((v, i) => hostPort(v, ['PUBLIC', 'INNER', 'UA', 'NEXT'][i] ?? ''));
  if (!pub || !inner || !ua || !next) throw new Error(`ns-helper: --trunk-edge wants PUBLIC=INNER=UA=NEXT, not "${spec}"`);
  const outside = dgram.createSocket('udp4');
  const inside = dgram.createSocket('udp4');
  // Request branch → where it came from; bounded (old entries go first).
  const from = new Map<string, { address: string; port: number }>();
  outside.on('message', (m, r) => {
    const text = m.toString('latin1');
    const branch = topBranch(text);
    if (!text.startsWith('SIP/2.0 ') && branch !== undefined) {
      from.set(branch, { address: r.address, port: r.port });
      if (from.size > 5000) from.delete(from.keys().next().value ?? '');
    }
    if (!rtp) {
      inside.send(m, ua.port, ua.host);
      return;
    }
    void trunkMedia(rtp, text, false).then(() => inside.send(m, ua.port, ua.host));
  });
  inside.on('message', (m) => {
    const text = m.toString('latin1');
    const back = text.startsWith('SIP/2.0 ') ? from.get(topBranch(text) ?? '') : undefined;
    const send = (b: Buffer) => outside.send(b, back?.port ?? next.port, back?.address ?? next.host);
    if (!rtp) {
      send(m);
      return;
    }
    void trunkMedia(rtp, text, true).then((t) => send(t === text ? m : Buffer.from(t, 'latin1')));
  });
  await Promise.all([new Promise<void>((r) => outside.bind(pub.port, pub.host, r)), new Promise<void>((r) => inside.bind(inner.port, inner.host, r))]);
  return () => {
    outside.close();
    inside.close();
    rtp?.close();
  };
}

async function main(argv: string[]): Promise<void> {
  const closers: Array<() => void> = [];
  let rtp: RtpStreams | undefined;
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1] ?? '';
    if (flag === '--forward') {
      const [hp, sock] = value.split('=');
      const [host, port] = (hp ?? '').split(':');
      if (sock === undefined || port === undefined) throw new Error(`ns-helper: --forward wants HOST:PORT=SOCKET, not "${value}"`);
      const srv = net.createServer((c) => {
        const u = net.connect({ path: sock });
        c.pipe(u).pipe(c);
        c.on('error', () => u.destroy());
        u.on('error', () => c.destroy());
      });
      await new Promise<void>((r) => srv.listen(Number(port), host, r));
      closers.push(() => srv.close());
    } else if (flag === '--rtpproxy') {
      const [host, port] = value.split(':');
      if (host === undefined || port === undefined) throw new Error(`ns-helper: --rtpproxy wants HOST:PORT, not "${value}"`);
      const r = await new RtpproxyResponder({ host, port: Number(port) }).start();
      closers.push(() => void r.stop());
    } else if (flag === '--probe') {
      rmSync(value, { force: true });
      const srv = http.createServer((req, res) => {
        const u = new URL(req.url ?? '/', 'http://probe');
        void tcpOpen(u.searchParams.get('host') ?? '', Number(u.searchParams.get('port')), 1000).then((v) => {
          res.writeHead(200);
          res.end(v ? '1' : '0');
        });
      });
      await new Promise<void>((r) => srv.listen(value, r));
      closers.push(() => srv.close());
    } else if (flag === '--trunk-edge') {
      closers.push(await trunkEdge(value, rtp));
    } else if (flag === '--caller-rtp') {
      const [ctl, file] = value.split('=');
      if (!ctl || !file) throw new Error(`ns-helper: --caller-rtp wants CTL_FILE=STATS_FILE, not "${value}"`);
      // Each call binds on the media address its control line names; the set's own address is never used.
      closers.push(followMediaCtl(ctl, new RtpStreams('0.0.0.0', file)));
    } else if (flag === '--trunk-rtp') {
      const [mediaIp, file] = value.split('=');
      if (!mediaIp || !file) throw new Error(`ns-helper: --trunk-rtp wants MEDIA_IP=FILE, not "${value}"`);
      rtp = new RtpStreams(mediaIp, file);
    } else {
      throw new Error(`ns-helper: unknown option ${flag}`);
    }
  }
  process.stdout.write('ready\n');
  const stop = () => {
    for (const c of closers) c();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`ns-helper: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
