// Brings up seed 004 on loopback for one live test file: two SIPp recorders (75/25), RTPProxy, and Kamailio
// from the rendered tree. Every piece is stopped by down().
// RTPProxy is the real, pinned 3.2.0 (src/try/rtpproxy.ts) whenever .ci/setup compiled it; else the Node
// stand-in, with a one-line note. A test that needs the stand-in's command log asks for media: 'stand-in'.
import { mkdir } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { RtpproxyResponder } from '../fakes/rtpproxy.js';
import { RealRtpproxy } from '../../src/try/rtpproxy.js';
import { rtpproxyBinary } from '../../src/try/upstream.js';
import {
  freePort,
  makeTmpDir,
  renderDefinition,
  seedDefinition,
  startKamailio,
  startUas,
  type Listener,
  type ManagedProcess,
  type TmpDir,
  type Uas,
} from '../support/index.js';
import type { LocalOptions } from '../../src/render/index.js';

const run = promisify(execFile);

export interface LbAddresses {
  proxy: string;
  recorders: [string, string];
  rtpproxy: string;
  callers: string[];
}

/** Distinct loopback addresses per test file: 127.0.N.x. */
export function addresses(n: number): LbAddresses {
  const a = (x: number): string => `127.0.${n}.${x}`;
  return { proxy: a(2), recorders: [a(10), a(11)], rtpproxy: a(50), callers: [a(20), a(21), a(22)] };
}

export interface LbOptions {
  net: number;
  /** Merged over images/recorder-lb.yaml after the loopback values. */
  over?: Record<string, unknown>;
  backend?: Record<string, unknown>;
  /** Called after render, before Kamailio starts (e.g. to load the SQL or run the boot agent). */
  beforeStart?: (ctx: { tree: string; dir: string }) => Promise<void>;
  local?: Partial<LocalOptions>;
  tlsPort?: boolean;
  /** 'rtpproxy' (the default when the pinned build exists) or the Node 'stand-in'. */
  media?: 'rtpproxy' | 'stand-in';
  /** The recorders' own SIPp scenario (XML) and extra SIPp arguments (e.g. -rtp_echo). */
  recorderScenario?: string;
  recorderArgs?: string[];
  /** Merged into media.rtpproxy (e.g. maxCalls). */
  rtpproxyOver?: Record<string, unknown>;
}

let noted = false;
/** The real RTPProxy when there is one; the stand-in otherwise (said once per test file). */
function mediaKind(want: LbOptions['media']): { kind: 'rtpproxy'; bin: string } | { kind: 'stand-in' } {
  if (want === 'stand-in') return { kind: 'stand-in' };
  const bin = rtpproxyBinary();
  if (bin) return { kind: 'rtpproxy', bin };
  if (want === 'rtpproxy') throw new Error('this test needs the real RTPProxy: run .ci/setup (it compiles RTPProxy 3.2.0 from ../shared/upstream)');
  if (!noted) console.warn('note: no rtpproxy binary (run .ci/setup); recorder-lb runs with the Node RTPProxy stand-in');
  noted = true;
  return { kind: 'stand-in' };
}

/** The stand-in of an Lb started with media: 'stand-in' (its command log), or a clear failure. */
export function standIn(lb: Lb): RtpproxyResponder {
  if (lb.rtpproxy instanceof RtpproxyResponder) return lb.rtpproxy;
  throw new Error('this Lb runs the real RTPProxy; start it with media: "stand-in" to read the command log');
}

export interface Lb {
  tmp: TmpDir;
  dir: string;
  tree: string;
  addr: LbAddresses;
  sipPort: number;
  tlsPort: number | undefined;
  recorderPorts: [number, number];
  recorders: Uas[];
  rtpproxy: RtpproxyResponder | RealRtpproxy;
  /** The address RTPProxy puts in the SDP. */
  mediaIp: string;
  kamailio: ManagedProcess;
  /** Starts recorder i again on its port (after stopRecorder). */
  startRecorder(i: 0 | 1): Promise<Uas>;
  kamcmd(...args: string[]): Promise<string>;
  down(): Promise<void>;
}

export async function upRecorderLb(o: LbOptions): Promise<Lb> {
  const addr = addresses(o.net);
  const tmp = await makeTmpDir(`sipbake-lb${o.net}-`);
  const dir = tmp.path;
  const started: { stop(): Promise<unknown> }[] = [];
  try {
    const sipPort = await freePort(addr.proxy);
    const tlsPort = o.tlsPort ? await freePort(addr.proxy) : undefined;
    const recorderPorts: [number, number] = [await freePort(addr.recorders[0]), await freePort(addr.recorders[1])];
    await mkdir(path.join(dir, 'peers'));
    const media = mediaKind(o.media);
    const rtpPort = await freePort(addr.rtpproxy);
    const rtpproxy =
      media.kind === 'rtpproxy'
        ? await RealRtpproxy.start({ bin: media.bin, host: addr.rtpproxy, port: rtpPort, mediaIp: addr.rtpproxy, rtpPorts: { min: 40000, max: 49999 }, dir })
        : await new RtpproxyResponder({ host: addr.rtpproxy, port: rtpPort }).start();
    started.push(rtpproxy);
    const def = await seedDefinition('recorder-lb', {
      listen: { udp: sipPort, tcp: sipPort, ...(tlsPort ? { tls: tlsPort } : {}) },
      advertise: { source: 'private-ipv4', elasticIp: undefined },
      dispatcher: {
        algorithm: 9,
        destinations: [
          {
            host: addr.recorders[0],
            port: recorderPorts[0],
            transport: 'udp',
            attrs: { weight: 75 },
            description: 'recorder0',
          },
          {
            host: addr.recorders[1],
            port: recorderPorts[1],
            transport: 'udp',
            attrs: { weight: 25 },
            description: 'recorder1',
          },
        ],
        probing: { interval: 1, threshold: 2, inactiveThreshold: 2 },
      },
      media: { rtpproxy: { enabled: true, controlSocket: rtpproxy.url, ...(o.rtpproxyOver ?? {}) } },
      antiflood: { requestsDensity: 100000 },
      diagnostics: { log: 'stderr', debugLevel: 1, jsonrpc: false },
      memory: { children: 2 },
      drain: { healthCheck: { port: await freePort(addr.proxy) } },
      ...(tlsPort ? { tls: { enabled: true } } : {}),
      ...(o.over ?? {}),
    });
    // The backend is replaced whole (a merge would mix file and postgres fields).
    (def.dispatcher as Record<string, unknown>).backend = o.backend ?? { type: 'file' };
    const img = await renderDefinition(dir, def, { privateIp: addr.proxy, publicIp: addr.proxy, ...(o.local ?? {}) });
    await o.beforeStart?.({ tree: img.tree, dir });
    const recorders: Uas[] = [];
    const startRecorder = async (i: 0 | 1): Promise<Uas> => {
      const u = await startUas({
        dir: path.join(dir, 'peers'),
        name: `recorder${i}-${Date.now()}`,
        localIp: addr.recorders[i],
        localPort: recorderPorts[i],
        timeoutS: 170,
        ...(o.recorderScenario ? { scenario: o.recorderScenario } : {}),
        ...(o.recorderArgs ? { extraArgs: o.recorderArgs } : {}),
      });
      recorders[i] = u;
      started.push(u);
      return u;
    };
    await startRecorder(0);
    await startRecorder(1);
    const listeners: Listener[] = [{ host: addr.proxy, port: sipPort, transport: 'udp' }];
    if (tlsPort) listeners.push({ host: addr.proxy, port: tlsPort, transport: 'tls' });
    const kamailio = await startKamailio({
      tree: img.tree,
      sharedMb: 512,
      privateMb: 16,
      listeners,
      logFile: path.join(dir, 'kamailio.log'),
    });
    started.push(kamailio);
    const sock = `unix:${img.tree}/run/kamailio/kamailio_ctl`;
    return {
      tmp,
      dir,
      tree: img.tree,
      addr,
      sipPort,
      tlsPort,
      recorderPorts,
      recorders,
      rtpproxy,
      mediaIp: addr.rtpproxy,
      kamailio,
      startRecorder,
      async kamcmd(...args) {
        const { stdout } = await run('kamcmd', ['-s', sock, ...args], { timeout: 5000 });
        return stdout;
      },
      async down() {
        for (const s of started.reverse()) await s.stop();
        await tmp.remove();
      },
    };
  } catch (e) {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    await tmp.remove();
    throw e;
  }
}

/** Per-recorder count of initial INVITEs received. */
export async function inviteCounts(lb: Lb): Promise<number[]> {
  return Promise.all(lb.recorders.map(async (r) => (await r.invites()).length));
}
