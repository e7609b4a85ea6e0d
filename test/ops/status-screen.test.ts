// sipbake-status's new parts, fast: RTPProxy's counters through a udp control socket (cookie protocol), the
// --call lookup through kamcmd's dlg.dlg_list printout, and the argument parser.
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatStatus, observeStatus, statusArgs, type Kamcmd } from '../../src/agent/status.js';
import { parseDlgList } from '../../src/agent/status-call.js';
import { parseRtpproxySocket, rtpproxyAsker } from '../../src/agent/status-rtpproxy.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => Promise.all(cleanups.splice(0).map((c) => c())));
const root = async () => {
  const d = await mkdtemp(path.join(tmpdir(), 'sipbake-status-'));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
};

// RTPProxy 3.2.0's reply to `I` (src/rtpp_command.c handle_info), after the cookie.
const INFO = 'sessions created: 7\nactive sessions: 2\nactive streams: 4\npackets received: 100\npackets transmitted: 98\n';

async function fakeRtpproxy(): Promise<{ socket: string; got: string[] }> {
  const s: Socket = createSocket('udp4');
  const got: string[] = [];
  s.on('message', (m, r) => {
    const [cookie, ...cmd] = m.toString().split(' ');
    got.push(cmd.join(' '));
    s.send(`${cookie} ${INFO}`, r.port, r.address);
  });
  await new Promise<void>((ok) => s.bind(0, '127.0.0.1', ok));
  cleanups.push(() => new Promise<void>((ok) => s.close(() => ok())));
  return { socket: `udp:127.0.0.1:${s.address().port}`, got };
}

// kamcmd's printout of dlg.dlg_list for one confirmed dialog (Kamailio 5.5 dialog.c internal_rpc_print_dlg).
const DLG = `{
	h_entry: 1234
	h_id: 5
	ref: 2
	call-id: 4711@10.0.0.9
	from_uri: sip:alice@example.com
	to_uri: sip:bob@example.com
	state: 4
	start_ts: 1796000000
	init_ts: 1795999990
	end_ts: 0
	timeout: 0
	lifetime: 43200
	dflags: 0
	sflags: 0
	iflags: 0
	caller: {
		tag: abc
		contact: sip:alice@10.0.0.9:5060
	}
}
`;

const kamWith = (dialogs: Record<string, string>): Kamcmd & { asked: string[][] } => {
  const asked: string[][] = [];
  const k = async (args: string[]) => {
    asked.push(args);
    if (args[0] === 'core.uptime') return 'now: x\nup_since: y\nuptime: 42\n';
    if (args[0] === 'dlg.dlg_list') return dialogs[(args[1] ?? '').replace(/^s:/, '')] ?? '';
    return '';
  };
  return Object.assign(k, { asked });
};

describe('sipbake-status: RTPProxy', () => {
  it('shows the active sessions a udp control socket reports to `I`', async () => {
    const rp = await fakeRtpproxy();
    const o = await observeStatus(await root(), kamWith({}), false, { rtpproxy: { socket: rp.socket, ask: rtpproxyAsker(rp.socket) } });
    expect(rp.got).toEqual(['I']);
    expect(o.rtpproxy).toMatchObject({ up: true, activeSessions: 2, sessionsCreated: 7, activeStreams: 4 });
    expect(formatStatus('recorder-lb', o)).toMatch(/^RTPProxy\s+up: 2 active session\(s\), 4 stream\(s\), 7 created since start \(udp:127\.0\.0\.1:\d+\)$/m);
  });
  it('says DOWN, and where, when nothing answers', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((ok) => s.bind(0, '127.0.0.1', ok));
    const port = s.address().port;
    s.close(); // a port nobody listens on
    const socket = `udp:127.0.0.1:${port}`;
    const o = await observeStatus(await root(), kamWith({}), false, { rtpproxy: { socket, ask: rtpproxyAsker(socket, 300) } });
    expect(formatStatus('recorder-lb', o)).toMatch(new RegExp(`^RTPProxy\\s+DOWN \\(.* on udp:127\\.0\\.0\\.1:${port}; journalctl -u rtpproxy\\)$`, 'm'));
  });
  it('reads the control socket forms validate accepts', () => {
    expect(parseRtpproxySocket('udp:127.0.0.1:7722')).toEqual({ kind: 'udp', host: '127.0.0.1', port: 7722, v6: false });
    expect(parseRtpproxySocket('udp6:[::1]:7722')).toEqual({ kind: 'udp', host: '::1', port: 7722, v6: true });
    expect(parseRtpproxySocket('unix:/run/rtpproxy/ctl')).toEqual({ kind: 'unix', path: '/run/rtpproxy/ctl' });
  });
  it('a signalling-only image shows no RTPProxy line', async () => {
    expect(formatStatus('twilio-relay', await observeStatus(await root(), kamWith({}), false))).not.toMatch(/RTPProxy/);
  });
});

describe('sipbake-status --call', () => {
  it('HELD HERE: the dialog of that Call-ID, asked as a string whatever it looks like', async () => {
    const kam = kamWith({ '4711@10.0.0.9': DLG });
    const o = await observeStatus(await root(), kam, false, { callId: '4711@10.0.0.9' });
    expect(kam.asked).toContainEqual(['dlg.dlg_list', 's:4711@10.0.0.9']);
    expect(o.call).toMatchObject({ held: true, dialogs: [{ state: 'confirmed', fromUri: 'sip:alice@example.com', toUri: 'sip:bob@example.com' }] });
    expect(formatStatus('twilio-relay', o)).toMatch(
      /^Call\s+4711@10\.0\.0\.9: HELD HERE, confirmed, sip:alice@example\.com → sip:bob@example\.com, answered /m,
    );
  });
  it('NOT HERE when Kamailio has no such dialog; UNKNOWN when Kamailio cannot be asked', async () => {
    const o = await observeStatus(await root(), kamWith({ other: DLG }), false, { callId: '4711@10.0.0.9' });
    expect(o.call?.held).toBe(false);
    expect(formatStatus('twilio-relay', o)).toMatch(/^Call\s+4711@10\.0\.0\.9: NOT HERE .*sbinst/m);
    const down = await observeStatus(await root(), () => Promise.reject(new Error('connect: refused')), false, { callId: 'x' });
    expect(down.call?.held).toBeUndefined();
    expect(formatStatus('twilio-relay', down)).toMatch(/^Call\s+x: UNKNOWN \(Kamailio is not answering\)/m);
  });
  it('parses the nested caller/callee blocks as one dialog', () => {
    expect(parseDlgList(DLG + DLG.replace('4711@', '4712@'))).toHaveLength(2);
  });
  it('arguments: --call ID, --call=ID, --json; a missing Call-ID and unknown words are usage errors', () => {
    expect(statusArgs(['--call', 'a@b', '--json'])).toEqual({ json: true, callId: 'a@b' });
    expect(statusArgs(['--call=a@b'])).toEqual({ json: false, callId: 'a@b' });
    expect(statusArgs(['--call'])).toMatchObject({ usage: expect.stringMatching(/--call needs a Call-ID/) });
    expect(statusArgs(['--cal', 'x'])).toMatchObject({ usage: expect.stringMatching(/unknown argument "--cal"/) });
  });
});
