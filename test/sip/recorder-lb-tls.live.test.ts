// Seed 004's optional TLS listener: a self-signed certificate made here with openssl, OPTIONS and an
// INVITE sent over TLS with Node's tls module; the INVITE reaches a recorder and the 200 comes back.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upRecorderLb, type Lb } from './recorder-lb.setup.js';
import { SipTlsClient } from './tls-client.js';

const run = promisify(execFile);

describe('recorder-lb TLS listener through real Kamailio', () => {
  let lb: Lb;
  let client: SipTlsClient | undefined;
  let certPem = '';
  beforeAll(async () => {
    lb = await upRecorderLb({
      net: 6,
      tlsPort: true,
      beforeStart: async ({ tree }) => {
        // Replace the pair render --local made with one made here, so the test knows what is served.
        const cert = path.join(tree, 'etc/kamailio/tls/server.pem');
        const key = path.join(tree, 'etc/kamailio/tls/server.key');
        await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=sipbake-live-test', '-keyout', key, '-out', cert], {
          timeout: 30_000,
        });
        certPem = await readFile(cert, 'utf8');
      },
    });
    client = await SipTlsClient.connect(lb.addr.proxy, lb.tlsPort!, lb.addr.callers[0]!);
  });
  afterAll(async () => {
    client?.close();
    await lb?.down();
  });

  it('serves the configured certificate', () => {
    const served = client!.socket.getPeerX509Certificate();
    expect(served?.fingerprint256).toBe(new X509Certificate(certPem).fingerprint256);
    expect(served?.subject).toContain('CN=sipbake-live-test');
  });

  it('answers OPTIONS over TLS', async () => {
    const c = client!;
    const me = `${lb.addr.callers[0]}:${c.localPort}`;
    const proxy = `${lb.addr.proxy}:${lb.tlsPort}`;
    c.send(`OPTIONS sip:${proxy};transport=tls SIP/2.0
Via: SIP/2.0/TLS ${me};rport;branch=${c.branch()}
From: <sip:tester@${me}>;tag=opt1
To: <sip:${proxy}>
Call-ID: tls-options-1
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

`);
    const r = await c.response((m) => m.header('call-id')[0] === 'tls-options-1');
    expect(r.status).toBe(200);
  });

  it('relays an INVITE received over TLS to a recorder and returns its 200 over TLS', async () => {
    const c = client!;
    const me = `${lb.addr.callers[0]}:${c.localPort}`;
    const proxy = `${lb.addr.proxy}:${lb.tlsPort}`;
    const body = `v=0\r\no=- 1 1 IN IP4 ${lb.addr.callers[0]}\r\ns=-\r\nc=IN IP4 ${lb.addr.callers[0]}\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n`;
    const callId = `tls-invite-${Date.now()}`;
    c.send(`INVITE sip:record@${proxy};transport=tls SIP/2.0
Via: SIP/2.0/TLS ${me};rport;branch=${c.branch()}
From: <sip:tester@${me}>;tag=inv1
To: <sip:record@${proxy}>
Call-ID: ${callId}
CSeq: 1 INVITE
Contact: <sip:tester@${me};transport=tls>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: ${Buffer.byteLength(body)}

${body}`);
    const ok = await c.response((m) => m.header('call-id')[0] === callId && m.status === 200, 8000);
    expect(ok.header('record-route').join(',')).toContain(lb.addr.proxy);
    const atRecorders = (await Promise.all(lb.recorders.map((r) => r.invites()))).flat().filter((m) => m.headers['call-id']?.[0] === callId);
    expect(atRecorders).toHaveLength(1);
    // Close the dialog: ACK and BYE along the route set, over the same connection.
    const route = ok.header('record-route').join(', ');
    const contact = ok.header('contact')[0]?.replace(/^<|>.*$/g, '') ?? '';
    const toHdr = ok.header('to')[0] ?? '';
    for (const [method, cseq] of [
      ['ACK', 1],
      ['BYE', 2],
    ] as const) {
      c.send(`${method} ${contact} SIP/2.0
Via: SIP/2.0/TLS ${me};rport;branch=${c.branch()}
Route: ${route}
From: <sip:tester@${me}>;tag=inv1
To: ${toHdr}
Call-ID: ${callId}
CSeq: ${cseq} ${method}
Max-Forwards: 70
Content-Length: 0

`);
    }
    const byeOk = await c.response((m) => m.header('call-id')[0] === callId && m.header('cseq')[0] === '2 BYE', 5000);
    expect(byeOk.status).toBe(200);
  });
});
