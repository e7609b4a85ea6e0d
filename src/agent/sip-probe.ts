import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

// The health port's SIP-level check: one OPTIONS to this instance's own Kamailio, marked X-Sipbake-Probe, which the
// template answers as it would a new call (kamailio.cfg.eta, route HEALTH_PROBE): 200 while it takes new calls,
// 503 while it would refuse them (draining). No answer in time, or anything but 200: Kamailio cannot serve.

export interface SipProbeTarget {
  /** The address Kamailio listens on (the instance's private address) and its UDP SIP port. */
  host: string;
  port: number;
  timeoutMs: number;
}

/** Pure: the probe request; the Call-ID and branch make its answer recognisable. */
export function probeRequest(t: SipProbeTarget, localPort: number, id: string): string {
  return [
    `OPTIONS sip:${t.host}:${t.port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${t.host}:${localPort};branch=z9hG4bK-probe-${id};rport`,
    'Max-Forwards: 2',
    `From: <sip:health@${t.host}>;tag=${id}`,
    `To: <sip:${t.host}:${t.port}>`,
    `Call-ID: probe-${id}@${t.host}`,
    'CSeq: 1 OPTIONS',
    'X-Sipbake-Probe: new-call',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Pure: the final status of a response to the probe with this id, if `text` is one. */
export function probeStatus(text: string, id: string): number | undefined {
  const status = /^SIP\/2\.0 (\d{3})/.exec(text)?.[1];
  if (status === undefined || !new RegExp(`^Call-ID:\\s*probe-${id}@`, 'im').test(text)) return undefined;
  const n = Number(status);
  return n >= 200 ? n : undefined;
}

/** One probe: true when Kamailio answered 200 within the timeout. */
export function sipProbe(t: SipProbeTarget): Promise<boolean> {
  return new Promise((resolve) => {
    const id = randomBytes(6).toString('hex');
    const sock = dgram.createSocket('udp4');
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), t.timeoutMs);
    sock.on('error', () => finish(false));
    sock.on('message', (m) => {
      const s = probeStatus(m.toString(), id);
      if (s !== undefined) finish(s === 200);
    });
    // From the listener's own address, so the template knows the probe comes from this instance.
    sock.bind(0, t.host, () => {
      const req = probeRequest(t, sock.address().port, id);
      sock.send(req, t.port, t.host, (err) => {
        if (err) finish(false);
      });
    });
  });
}
