// `sipbake try`: the effects. Render the image with --local into a temp dir, start the fake peers
// (SIPp UAS), RTPProxy (the real one: the pinned build .ci/setup compiles, or one on PATH; else the Node
// stand-in, said in one line) and Kamailio on 127.0.20.x, report the addresses, and keep
// running until the signal fires (Ctrl-C) or Kamailio exits. Everything is stopped and the temp dir
// removed on the way out, whatever happened.
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadImageOrThrow } from '../definition/load.js';
import { renderImage } from '../render/index.js';
import type { Reporter } from '../core/reporter.js';
import { UserError } from '../core/errors.js';
import { freePort } from './ports.js';
import { planTry, peerCount, mergeDefinition, TRY_NET, type TryPlan } from './plan.js';
import { UAC_SCENARIO } from './scenario-files.js';
import { startKamailio, type Listener } from './kamailio.js';
import { startSipp } from './sipp.js';
import { RtpproxyResponder } from './rtpproxy-responder.js';
import { RealRtpproxy } from './rtpproxy.js';
import { rtpproxyBinary } from './upstream.js';
import type { ManagedProcess } from './process.js';
import { CTL_SOCKET_IN_TREE, shortRunDir } from './run-dir.js';

export interface TryOptions {
  root: string;
  image: string;
  reporter: Reporter;
  signal: AbortSignal;
  /** Stop by itself after this many seconds (default: run until the signal). */
  forSeconds?: number;
  /** The loopback /24 to use, e.g. 127.0.30 (default 127.0.20). */
  net?: string;
  /** Called once everything listens (tests use it to place calls). */
  onReady?: (plan: TryPlan, dir: string) => Promise<void> | void;
}

export interface TryResult {
  image: string;
  dir: string;
  plan: TryPlan;
  stoppedBy: 'signal' | 'timer' | 'kamailio-exit';
}

function until(signal: AbortSignal, ms: number | undefined, kam: ManagedProcess): Promise<TryResult['stoppedBy']> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve('signal');
    const t = ms === undefined ? undefined : setTimeout(() => resolve('timer'), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve('signal');
    });
    void kam.exited.then(() => {
      clearTimeout(t);
      resolve('kamailio-exit');
    });
  });
}

export async function runTry(o: TryOptions): Promise<TryResult> {
  const { image, file } = await loadImageOrThrow(o.root, o.image);
  // Short enough for Kamailio's ctl socket whatever TMPDIR is (src/try/run-dir.ts).
  const dir = await shortRunDir(`sipbake-try-${image.name}-`, path.join('tree', CTL_SOCKET_IN_TREE));
  const stops: { stop(): Promise<unknown> }[] = [];
  try {
    const net = o.net ?? TRY_NET;
    const ip = (x: number): string => `${net}.${x}`;
    const peers: number[] = [];
    for (let i = 0; i < peerCount(image); i++) peers.push(await freePort(ip(10 + i)));
    const plan = planTry(
      image,
      {
        sip: await freePort(ip(2)),
        ...(image.tls.enabled ? { tls: await freePort(ip(2)) } : {}),
        health: await freePort(ip(2)),
        peers,
        ...(image.media.rtpproxy.enabled ? { rtpproxy: await freePort(ip(50)) } : {}),
      },
      net,
    );
    const raw = parse(await readFile(path.resolve(o.root, file), 'utf8')) as Record<string, unknown>;
    delete raw.deploy;
    const defFile = path.join(dir, `${image.name}.yaml`);
    await writeFile(defFile, stringify(mergeDefinition(raw, plan.overrides)));
    const tree = path.join(dir, 'tree');
    await renderImage(o.root, defFile, { out: tree, local: { privateIp: plan.privateIp, publicIp: plan.publicIp } });

    const peersDir = path.join(dir, 'peers');
    await mkdir(peersDir);
    const rtpBin = plan.rtpproxy ? rtpproxyBinary() : undefined;
    if (plan.rtpproxy) {
      const { host, port } = plan.rtpproxy;
      const { min, max } = image.media.rtpproxy.rtpPorts;
      stops.push(
        rtpBin
          ? await RealRtpproxy.start({ bin: rtpBin, host, port, mediaIp: host, rtpPorts: { min, max }, dir })
          : await new RtpproxyResponder({ host, port }).start(),
      );
    }
    for (const [i, p] of plan.peers.entries()) {
      const uas = await startSipp({
        dir: peersDir,
        name: `peer${i}`,
        role: 'uas',
        localIp: p.host,
        localPort: p.port,
        timeoutS: 86_400,
      });
      stops.push(uas);
    }
    const listeners: Listener[] = [];
    for (const [t, a] of Object.entries(plan.sip)) {
      const [host, port] = (a ?? '').split(':');
      if (t === 'udp' && host) listeners.push({ host, port: Number(port), transport: 'udp' });
    }
    const kam = await startKamailio({
      tree,
      sharedMb: image.memory.sharedMb,
      privateMb: image.memory.privateMb,
      listeners,
      logFile: path.join(dir, 'kamailio.log'),
    });
    stops.push(kam);

    const r = o.reporter;
    r.line(`${image.name} is running on loopback (rendered into ${tree})`, 'success');
    for (const [t, a] of Object.entries(plan.sip)) r.line(`  call it (${t}):  sip:test@${a}`);
    if (plan.publicIp !== plan.privateIp) r.line(`  advertised as:   ${plan.publicIp} (Via/Record-Route)`);
    for (const p of plan.peers)
      r.line(`  ${p.role} ${p.name}:  SIPp UAS at ${p.host}:${p.port} (messages: ${peersDir}/peer${plan.peers.indexOf(p)}.messages.log)`);
    if (plan.rtpproxy)
      r.line(
        rtpBin
          ? `  rtpproxy:        ${rtpBin} (control udp:${plan.rtpproxy.host}:${plan.rtpproxy.port}, media on ${plan.rtpproxy.host})`
          : `  rtpproxy:        no rtpproxy binary (run .ci/setup to compile 3.2.0): the Node stand-in answers control on udp:${plan.rtpproxy.host}:${plan.rtpproxy.port}, no media flows`,
      );
    r.line(`  kamailio log:    ${path.join(dir, 'kamailio.log')}`);
    for (const n of plan.notes) r.line(`  note: ${n}`);
    const call = plan.sip.udp ? sippCommand(plan.sip.udp, plan.caller) : undefined;
    if (call) {
      r.line('place a call (in another terminal):');
      r.line(`  ${call}`);
    }
    r.line('Ctrl-C stops everything and removes the temp dir.');
    r.result({
      ok: true,
      image: image.name,
      dir,
      sip: plan.sip,
      advertised: plan.publicIp,
      peers: plan.peers,
      rtpproxy: plan.rtpproxy ? { ...plan.rtpproxy, real: rtpBin !== undefined } : null,
      callerSubnet: plan.callerSubnet,
      call: call ?? null,
      notes: plan.notes,
    });
    await o.onReady?.(plan, dir);

    const stoppedBy = await until(o.signal, o.forSeconds === undefined ? undefined : o.forSeconds * 1000, kam);
    if (stoppedBy === 'kamailio-exit')
      throw kam.failure(
        'exited while try was running',
        'the lines above are the end of its output; fix the definition (sipbake validate) or report the rendered config',
      );
    r.line(`stopping (${stoppedBy === 'signal' ? 'interrupted' : 'time is up'})`);
    return { image: image.name, dir, plan, stoppedBy };
  } catch (e) {
    if (e instanceof Error && /EADDRNOTAVAIL/.test(e.message))
      throw new UserError(
        `cannot bind ${o.net ?? TRY_NET}.x on this machine`,
        'Linux routes all of 127.0.0.0/8 to lo; on other systems add the loopback aliases first',
        { cause: e },
      );
    throw e;
  } finally {
    for (const s of stops.reverse()) await s.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The SIPp command that places one call through the proxy and ends with exit code 0 when it completed: the
 * scenario shipped in share/sipp follows Record-Route for ACK and BYE. (Printed, and run verbatim by the test.)
 */
export function sippCommand(proxy: string, caller: string): string {
  const q = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `sipp ${proxy} -sf ${q(UAC_SCENARIO)} -i ${caller} -m 1 -timeout 20s -timeout_error`;
}
