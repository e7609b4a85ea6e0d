// The caller's RTP, one UDP socket per call on a media address other than the signalling one: 50 packets a second
// to the address the answer's SDP names, counting what comes back (the recorder echoes: SIPp -rtp_echo). Bounded:
// every stream stops at its BYE, at MAX_CALL_MS, or when the set closes.
import dgram from 'node:dgram';
import { closeSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { newCall, onEnded, onReceived, onSent, parseMediaCtl, RTP_PTIME_MS, summarize, type RtpCall } from './rtp-call.js';

const MAX_CALL_MS = 10 * 60_000;
const PAYLOAD = 160;

interface Stream {
  call: RtpCall;
  socket: dgram.Socket;
  port: number;
  timer?: NodeJS.Timeout;
  stopAt: number;
}

export class RtpStreams {
  private streams = new Map<string, Stream>();
  private readonly done: RtpCall[] = [];
  private flush?: NodeJS.Timeout;

  constructor(
    private readonly mediaIp: string,
    private readonly statsFile: string,
  ) {
    // The controller reads the file whenever it reports; written every second, whole (rename).
    this.flush = setInterval(() => this.write(), 1000);
  }

  /** The caller's media socket for this call (bound once, on `ip`: by default the set's media address); its port
   *  goes into the offer. */
  async socketFor(callId: string, ip = this.mediaIp): Promise<{ ip: string; port: number }> {
    const have = this.streams.get(callId);
    if (have) return { ip, port: have.port };
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, ip, r));
    const s: Stream = { call: newCall(callId), socket, port: socket.address().port, stopAt: Date.now() + MAX_CALL_MS };
    socket.on('message', () => onReceived(s.call, Date.now()));
    socket.on('error', () => undefined);
    this.streams.set(callId, s);
    return { ip, port: s.port };
  }

  /** The answer named where to send: start the stream (once). */
  start(callId: string, to: { ip: string; port: number }): void {
    const s = this.streams.get(callId);
    if (!s || s.timer) return;
    const ssrc = Math.floor(Math.random() * 0xffffffff);
    let seq = Math.floor(Math.random() * 0xffff);
    let ts = 0;
    s.timer = setInterval(() => {
      if (Date.now() > s.stopAt) return this.end(callId);
      const pkt = Buffer.alloc(12 + PAYLOAD, 0xff); // PCMU silence
      pkt.writeUInt8(0x80, 0); // V=2
      pkt.writeUInt8(0, 1); // PT 0 (PCMU)
      pkt.writeUInt16BE(seq++ & 0xffff, 2);
      pkt.writeUInt32BE(ts >>> 0, 4);
      pkt.writeUInt32BE(ssrc, 8);
      ts += PAYLOAD;
      s.socket.send(pkt, to.port, to.ip);
      onSent(s.call, Date.now());
    }, RTP_PTIME_MS);
  }

  /** The call's BYE (at: when it was seen, default now): stop sending, close the socket, keep the figures. */
  end(callId: string, at = Date.now()): void {
    const s = this.streams.get(callId);
    if (!s) return;
    this.streams.delete(callId);
    if (s.timer) clearInterval(s.timer);
    onEnded(s.call, Math.min(at, Date.now()));
    s.socket.close();
    this.done.push(s.call);
  }

  calls(): RtpCall[] {
    return [...this.done, ...[...this.streams.values()].map((s) => s.call)];
  }

  write(): void {
    const calls = this.calls();
    const tmp = `${this.statsFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ summary: summarize(calls), calls }));
    renameSync(tmp, this.statsFile);
  }

  close(): void {
    for (const id of [...this.streams.keys()]) this.end(id);
    if (this.flush) clearInterval(this.flush);
    this.write();
  }
}

/**
 * The SIPp callers' media: follows the control file their exec actions append to (parseMediaCtl), every 20 ms from
 * where it left off; a `start` binds the call's socket on its media address and streams to the answer's address
 * (RTPProxy latches onto the socket's address: symmetric RTP), an `end` stops it at the BYE's time. Returns the stop.
 */
export function followMediaCtl(ctlFile: string, rtp: RtpStreams): () => void {
  writeFileSync(ctlFile, '', { flag: 'a' });
  const fd = openSync(ctlFile, 'r');
  const buf = Buffer.alloc(64 * 1024);
  let offset = 0;
  let rest = '';
  const poll = () => {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) return;
      offset += n;
      const lines = (rest + buf.subarray(0, n).toString('latin1')).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        const m = parseMediaCtl(l);
        if (m?.kind === 'start') void rtp.socketFor(m.callId, m.mediaIp).then(() => rtp.start(m.callId, m.to));
        else if (m?.kind === 'end') rtp.end(m.callId, m.at);
      }
    }
  };
  const timer = setInterval(poll, RTP_PTIME_MS);
  return () => {
    clearInterval(timer);
    poll();
    closeSync(fd);
    rtp.close();
  };
}
