// RTPProxy's control protocol over UDP (rtpproxy 3.2.0, src/rtpp_command.c): "COOKIE COMMAND", answered
// "COOKIE REPLY". One exchange, shared by the agent's sipbake-status and try's RTPProxy runner.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

/** Sends one command to host:port and resolves with the reply without its cookie; `what` names it in a timeout. */
export function rtpproxyUdpCommand(o: { host: string; port: number; v6?: boolean; command: string; timeoutMs: number; what: string }): Promise<string> {
  const cookie = randomBytes(6).toString('hex');
  const s = createSocket(o.v6 ? 'udp6' : 'udp4');
  return new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${o.what} within ${o.timeoutMs} ms`)), o.timeoutMs);
    s.on('message', (msg) => {
      const reply = msg.toString('utf8');
      if (!reply.startsWith(`${cookie} `)) return;
      clearTimeout(t);
      resolve(reply.slice(cookie.length + 1).trim());
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    s.send(`${cookie} ${o.command}`, o.port, o.host);
  }).finally(() => s.close());
}
