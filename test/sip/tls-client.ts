// A tiny SIP-over-TLS client on Node's `tls` (Debian's SIPp has no TLS): send requests on one
// connection, read responses framed by Content-Length.
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';

export interface SipResponse {
  status: number;
  text: string;
  header(name: string): string[];
}

function parseResponse(text: string): SipResponse {
  const status = Number(text.match(/^SIP\/2\.0 (\d{3})/)?.[1] ?? 0);
  return {
    status,
    text,
    header(name) {
      const head = text.split('\r\n\r\n')[0] ?? '';
      return head
        .split('\r\n')
        .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
        .map((l) => l.slice(name.length + 1).trim());
    },
  };
}

export class SipTlsClient {
  private buf = '';
  private messages: SipResponse[] = [];
  private waiting: (() => void)[] = [];
  readonly branch = (): string => `z9hG4bK${randomBytes(6).toString('hex')}`;

  private constructor(readonly socket: tls.TLSSocket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      for (;;) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const len = Number(this.buf.slice(0, end).match(/\r\nContent-Length:\s*(\d+)/i)?.[1] ?? 0);
        if (this.buf.length < end + 4 + len) break;
        this.messages.push(parseResponse(this.buf.slice(0, end + 4 + len)));
        this.buf = this.buf.slice(end + 4 + len);
        for (const w of this.waiting.splice(0)) w();
      }
    });
  }

  static connect(host: string, port: number, localAddress: string): Promise<SipTlsClient> {
    return new Promise((resolve, reject) => {
      // Bind the caller's own loopback address first, then run TLS over that socket.
      const raw = net.connect({ host, port, localAddress, timeout: 5000 });
      raw.once('error', reject);
      const s = tls.connect({ socket: raw, rejectUnauthorized: false }, () => resolve(new SipTlsClient(s)));
      s.once('error', reject);
    });
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  send(text: string): void {
    this.socket.write(text.replace(/\r?\n/g, '\r\n'));
  }

  /** Waits for a response matching pred (already received ones included). */
  async response(pred: (r: SipResponse) => boolean, timeoutMs = 5000): Promise<SipResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.messages.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching SIP response within ${timeoutMs} ms; got: ${this.messages.map((m) => m.text.split('\r\n')[0]).join(' | ') || 'nothing'}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiting.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
