// npm run bench:sip — calls per second each rendered image sustains through Debian's Kamailio with
// SIPp on loopback at < 0.1 % failed calls, next to a bare stateless relay measured in the same run.
// Writes bench/sip.json: per image { callsPerSecond, bareCallsPerSecond, ratio, steps }; for an image with
// media (recorder-lb) also the same image without media, the ratio between the two (goal ≥ 0.8) and the CPU per
// call of the media path. Each step records the CPU Kamailio's processes and this process used, and the load
// average, because the machine is shared: read the figures next to machine.loadAverage.
//
// Method: for each config, step the SIPp call rate up; a step passes when < 0.1 % of its calls fail and
// SIPp finished within its schedule + 3 s (it kept up). The figure is the highest passing rate.
// Loopback values: pike's density is raised (it would ban one source sending hundreds of calls per
// second, which is its job, but it still runs per request).
// Binaries: the pinned Kamailio 5.5.7 and RTPProxy 3.2.0 that .ci/setup compiles (src/try/upstream.ts), first on
// PATH as in the live tests; without them, Debian's kamailio and the Node RTPProxy stand-in (the JSON says which).
// Media: calls are INVITE/200/ACK/BYE with SDP; RTPProxy makes and frees a session per call (offer, answer,
// delete), no RTP flows. recorder-lb is measured with and without media, alternated (SIPBAKE_BENCH_ALTERNATIONS).
import { KAMAILIO_UNIT, kamailioUnitCommands } from '../src/contract/kamailio-args.js';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listImages } from '../src/definition/load.js';
import { RtpproxyResponder } from '../src/try/rtpproxy-responder.js';
import { RealRtpproxy } from '../src/try/rtpproxy.js';
import { findUpstream, rtpproxyBinary, upstreamPath } from '../src/try/upstream.js';
import { execFileSync } from 'node:child_process';
import {
  freePort,
  makeTmpDir,
  renderDefinition,
  REPO_ROOT,
  runCalls,
  seedDefinition,
  startKamailio,
  startUas,
  type Listener,
  type ManagedProcess,
  type Uas,
} from '../test/support/index.js';
import { bareRelayConfig, bareStatefulConfig } from './bare-relay.js';

const RATES = (process.env.SIPBAKE_BENCH_RATES ?? '100,200,300,400,500,600,700,800,1000,1200,1500').split(',').map(Number);
const STEP_S = Number(process.env.SIPBAKE_BENCH_STEP_S ?? 4);
const PROXY = '127.0.7.2';
const UAS = '127.0.7.10';
const UAS2 = '127.0.7.11';
const CALLER = '127.0.7.20';
const RTPP = '127.0.7.50';

interface Step {
  rate: number;
  calls: number;
  failed: number;
  seconds: number;
  pass: boolean;
  /** CPU (user + system) of Kamailio's main process and its children during the step. */
  kamailioCpuMs: number;
  /** CPU of this Node process during the step: SIPp orchestration, plus the RTPProxy responder when media is on. */
  benchProcessCpuMs: number;
  kamailioCpuMsPerCall: number;
  /** CPU of the real RTPProxy process during the step (0 without media or with the stand-in). */
  rtpproxyCpuMs: number;
  load1: number;
}

// Clock ticks per second of /proc/PID/stat's utime and stime (sysconf(_SC_CLK_TCK), 100 on Linux x86-64).
const CLK_TCK = 100;

/** CPU ms used so far by `pid` and its direct children (Kamailio forks its workers from the main process). */
async function treeCpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  let ticks = 0;
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    // proc(5): fields after the parenthesised comm; ppid is field 4, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(e) === pid || Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1000) / CLK_TCK;
}

interface Bench {
  tree: string;
  listeners: Listener[];
  port: number;
  sharedMb: number;
  privateMb: number;
  peers: { stop(): Promise<unknown> }[];
  /** The dispatcher marking calls of the rendered config (the failover change: "tp", never "ip"). */
  dsMark?: string[];
  /** The real RTPProxy, when media is on and the pinned build exists. */
  rtpproxy?: RealRtpproxy;
}

async function measure(b: Bench, dir: string, label: string): Promise<{ best: number; steps: Step[] }> {
  const steps: Step[] = [];
  let best = 0;
  let kam: ManagedProcess | undefined;
  try {
    kam = await startKamailio({ tree: b.tree, sharedMb: b.sharedMb, privateMb: b.privateMb, listeners: b.listeners });
    for (const rate of RATES) {
      const calls = rate * STEP_S;
      const cpu0 = await treeCpuMs(kam.pid);
      const rtp0 = await treeCpuMs(b.rtpproxy?.process.pid);
      const own0 = process.cpuUsage();
      const t0 = Date.now();
      const run = await runCalls({
        dir,
        name: `${label}-${rate}`,
        localIp: CALLER,
        localPort: await freePort(CALLER),
        remote: `${PROXY}:${b.port}`,
        calls,
        rate,
        limit: 5000,
        traceMessages: false,
        timeoutS: STEP_S + 30,
        recvTimeoutMs: 5000,
        uac: { holdMs: 50 },
      });
      const seconds = (Date.now() - t0) / 1000;
      const kamailioCpuMs = Math.round((await treeCpuMs(kam.pid)) - cpu0);
      const rtpproxyCpuMs = Math.round((await treeCpuMs(b.rtpproxy?.process.pid)) - rtp0);
      const own = process.cpuUsage(own0);
      const benchProcessCpuMs = Math.round((own.user + own.system) / 1000);
      const failed = run.stats ? run.stats.failed + (calls - run.stats.successful - run.stats.failed) : calls;
      const pass = failed / calls < 0.001 && seconds <= STEP_S + 3;
      steps.push({
        rate,
        calls,
        failed,
        seconds: Math.round(seconds * 10) / 10,
        pass,
        kamailioCpuMs,
        benchProcessCpuMs,
        kamailioCpuMsPerCall: Math.round((kamailioCpuMs / calls) * 1000) / 1000,
        rtpproxyCpuMs,
        load1: Math.round(os.loadavg()[0]! * 100) / 100,
      });
      process.stderr.write(`${label}: ${rate} calls/s × ${STEP_S} s: ${failed} failed, ${seconds.toFixed(1)} s ${pass ? 'ok' : 'FAIL'}\n`);
      if (!pass) {
        // Say why: the most frequent Kamailio complaints and SIPp's first unexpected messages.
        const errs = new Map<string, number>();
        for (const l of kam.lines) {
          const m = l.match(/(ERROR|WARNING|CRITICAL|ALERT): (.*)$/);
          if (m) {
            const key = (m[2] ?? '').replace(/\d+/g, 'N').slice(0, 160);
            errs.set(key, (errs.get(key) ?? 0) + 1);
          }
        }
        const top = [...errs.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
        for (const [k, n] of top) process.stderr.write(`  kamailio ×${n}: ${k}\n`);
        const errFile = path.join(dir, `${label}-${rate}.errors.log`);
        const sippErr = await readFile(errFile, 'utf8').catch(() => '');
        process.stderr.write(
          `  sipp: ${sippErr
            .split('\n')
            .filter((l) => /Aborting|unexpected|timeout|Unexpected/.test(l))
            .slice(0, 4)
            .join('\n  sipp: ')}\n`,
        );
        break;
      }
      best = rate;
      await new Promise((r) => setTimeout(r, 1000)); // let transactions from this step expire
    }
  } finally {
    await kam?.stop();
  }
  return { best, steps };
}

async function uasPair(dir: string, hosts: string[]): Promise<{ uas: Uas[]; ports: number[] }> {
  const uas: Uas[] = [];
  const ports: number[] = [];
  for (const [i, h] of hosts.entries()) {
    const p = await freePort(h);
    ports.push(p);
    uas.push(await startUas({ dir, name: `uas${i}`, localIp: h, localPort: p, traceMessages: false, timeoutS: 1800 }));
  }
  return { uas, ports };
}

async function imageBench(name: string, dir: string, media = true): Promise<Bench> {
  const port = await freePort(PROXY);
  const peers: { stop(): Promise<unknown> }[] = [];
  const { uas, ports } = await uasPair(dir, [UAS, UAS2]);
  peers.push(...uas);
  const base = await seedDefinition(name, {});
  const over: Record<string, unknown> = {
    listen: { udp: port, tcp: port },
    advertise: { source: 'private-ipv4', elasticIp: undefined },
    // pike still checks every request; the density is raised so one bench source is never banned.
    antiflood: { requestsDensity: 1000000 },
    drain: { healthCheck: { port: await freePort(PROXY) } },
  };
  if (base.relay) over.relay = { destination: { domain: UAS, port: ports[0], transport: 'udp' }, allowedSources: ['127.0.7.16/28'] };
  if (base.dispatcher) {
    const d = base.dispatcher as { destinations: { attrs?: unknown }[] };
    over.dispatcher = {
      destinations: [UAS, UAS2].map((h, i) => ({
        host: h,
        port: ports[i],
        transport: 'udp',
        attrs: d.destinations[i]?.attrs ?? {},
        description: `bench${i}`,
      })),
    };
  }
  const rtp = (base.media as { rtpproxy?: { enabled?: boolean } } | undefined)?.rtpproxy?.enabled;
  if (rtp && !media) over.media = { rtpproxy: { enabled: false } };
  let real: RealRtpproxy | undefined;
  if (rtp && media) {
    const bin = rtpproxyBinary();
    const port = await freePort(RTPP);
    // The image's own RTPProxy command line (port range, -d WARN, -L), as the unit runs it.
    const r = bin
      ? (real = await RealRtpproxy.start({ bin, host: RTPP, port, mediaIp: RTPP, rtpPorts: { min: 20000, max: 30000 }, dir }))
      : await new RtpproxyResponder({ host: RTPP, port }).start();
    peers.push(r);
    over.media = { rtpproxy: { controlSocket: r.url } };
  }
  const def = await seedDefinition(name, over);
  const ds = def.dispatcher as Record<string, unknown> | undefined;
  if (ds) ds.backend = { type: 'file' }; // the DB is read at start-up only; the file keeps the bench self-contained
  if (def.tls) (def.tls as Record<string, unknown>).enabled = false;
  // jsonrpcs with transport 1 does not start (test/sip/FINDINGS.md, finding 2); it costs nothing per call.
  if (def.diagnostics) (def.diagnostics as Record<string, unknown>).jsonrpc = false;
  const img = await renderDefinition(dir, def, { privateIp: PROXY, publicIp: PROXY });
  const mem = def.memory as { sharedMb?: number; privateMb?: number };
  const cfg = await readFile(path.join(img.tree, 'etc/kamailio/kamailio.cfg'), 'utf8');
  const dsMark = [...cfg.matchAll(/ds_mark_dst\([^)]*\)/g)].map((m) => m[0]);
  return {
    dsMark,
    tree: img.tree,
    port,
    listeners: [{ host: PROXY, port, transport: 'udp' }],
    sharedMb: mem.sharedMb ?? 512,
    privateMb: mem.privateMb ?? 16,
    peers,
    ...(real ? { rtpproxy: real } : {}),
  };
}

async function bareBench(dir: string, config = bareRelayConfig): Promise<Bench> {
  const port = await freePort(PROXY);
  const { uas, ports } = await uasPair(dir, [UAS]);
  const tree = path.join(dir, 'tree');
  await mkdir(path.join(tree, 'etc/kamailio'), { recursive: true });
  await writeFile(path.join(tree, 'etc/kamailio/kamailio.cfg'), config({ listen: `${PROXY}:${port}`, to: `${UAS}:${ports[0]}`, children: 8 }));
  // Runners start the unit's own command line (src/contract/kamailio-args.ts), so the bare tree carries one too.
  await mkdir(path.join(tree, path.dirname(KAMAILIO_UNIT)), { recursive: true });
  await writeFile(path.join(tree, KAMAILIO_UNIT), `[Service]\nExecStart=${kamailioUnitCommands({ sharedMb: 512, privateMb: 16 }).execStart}\n`);
  return { tree, port, listeners: [{ host: PROXY, port, transport: 'udp' }], sharedMb: 512, privateMb: 16, peers: uas };
}

async function withBench(make: (dir: string) => Promise<Bench>, label: string): Promise<{ best: number; steps: Step[]; dsMark?: string[] }> {
  const tmp = await makeTmpDir(`sipbake-bench-${label}-`);
  let b: Bench | undefined;
  try {
    b = await make(tmp.path);
    return { ...(await measure(b, tmp.path, label)), ...(b.dsMark ? { dsMark: b.dsMark } : {}) };
  } finally {
    for (const p of b?.peers ?? []) await p.stop();
    await tmp.remove();
  }
}

const MEDIA_GOAL = 0.8;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * CPU per call of the media path, at the highest rate both runs passed: what Kamailio spends on top of the
 * no-media run (the rtpproxy module's offer/answer/delete round trips and SDP rewriting) plus what the
 * media process spent (the responder, in this process: its CPU over the no-media run's orchestration).
 */
function mediaPath(withMedia: Step[], without: Step[]): Record<string, number> | undefined {
  const both = withMedia.filter((s) => s.pass && without.some((t) => t.pass && t.rate === s.rate));
  const s = both.at(-1);
  const t = s && without.find((x) => x.rate === s.rate);
  if (!s || !t) return undefined;
  const kamailio = s.kamailioCpuMs / s.calls - t.kamailioCpuMs / t.calls;
  // The real RTPProxy's own process, or (stand-in) this process's CPU over the no-media run's orchestration.
  const responder = s.rtpproxyCpuMs > 0 ? s.rtpproxyCpuMs / s.calls : s.benchProcessCpuMs / s.calls - t.benchProcessCpuMs / t.calls;
  return {
    atCallsPerSecond: s.rate,
    kamailioCpuMsPerCallWithMedia: r3(s.kamailioCpuMs / s.calls),
    kamailioCpuMsPerCallWithoutMedia: r3(t.kamailioCpuMs / t.calls),
    kamailioMediaCpuMsPerCall: r3(kamailio),
    rtpproxyCpuMsPerCall: r3(responder),
    mediaPathCpuMsPerCall: r3(kamailio + responder),
  };
}

const ALTERNATIONS = Number(process.env.SIPBAKE_BENCH_ALTERNATIONS ?? 3);
const median = (xs: number[]): number => {
  const a = [...xs].sort((x, y) => x - y);
  const m = Math.floor(a.length / 2);
  return a.length % 2 ? a[m]! : Math.round((a[m - 1]! + a[m]!) / 2);
};

/** With media, then without, ALTERNATIONS times; the raw figures of each pair and the medians. */
async function alternate(name: string): Promise<{
  runs: {
    withMedia: number;
    withoutMedia: number;
    ratio: number;
    loadAverage: number[];
    mediaPath: Record<string, number> | null;
    withSteps: Step[];
    withoutSteps: Step[];
  }[];
  medianWith: number;
  medianWithout: number;
  mediaPath: Record<string, number> | undefined;
  representative: { best: number; steps: Step[]; dsMark?: string[] };
  rtpproxy: string;
}> {
  const runs = [];
  let representative: { best: number; steps: Step[]; dsMark?: string[] } | undefined;
  for (let i = 0; i < ALTERNATIONS; i++) {
    const w = await withBench((dir) => imageBench(name, dir), `${name}-media-${i}`);
    const wo = await withBench((dir) => imageBench(name, dir, false), `${name}-no-media-${i}`);
    representative ??= w;
    runs.push({
      withMedia: w.best,
      withoutMedia: wo.best,
      ratio: wo.best > 0 ? Math.round((w.best / wo.best) * 100) / 100 : 0,
      loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
      mediaPath: mediaPath(w.steps, wo.steps) ?? null,
      withSteps: w.steps,
      withoutSteps: wo.steps,
    });
  }
  const paths = runs.map((r) => r.mediaPath).filter((x): x is Record<string, number> => x !== null);
  const mid = (k: string): number => r3(median(paths.map((p) => (p[k] ?? 0) * 1000)) / 1000);
  const bin = rtpproxyBinary();
  return {
    runs,
    medianWith: median(runs.map((r) => r.withMedia)),
    medianWithout: median(runs.map((r) => r.withoutMedia)),
    mediaPath: paths.length ? Object.fromEntries(Object.keys(paths[0]!).map((k) => [k, mid(k)])) : undefined,
    representative: representative!,
    rtpproxy: bin ? '3.2.0' : 'stand-in (no rtpproxy binary: run .ci/setup)',
  };
}

async function main(): Promise<void> {
  const build = findUpstream();
  if (build) process.env.PATH = upstreamPath(build);
  else process.stderr.write('note: no pinned build (run .ci/setup): Debian kamailio and the RTPProxy stand-in\n');
  const kamailioVersion = execFileSync('kamailio', ['-v'], { encoding: 'utf8' })
    .split('\n')[0]
    ?.replace(/^version:\s*/, '')
    .trim();
  const rtpproxyVersion = rtpproxyBinary() ? '3.2.0' : 'stand-in';
  const loadBefore = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const bare = await withBench((dir) => bareBench(dir), 'bare');
  const stateful = await withBench((dir) => bareBench(dir, bareStatefulConfig), 'bare-stateful');
  const images: Record<string, unknown> = {};
  const only = process.env.SIPBAKE_BENCH_IMAGES?.split(',');
  for (const name of (await listImages(REPO_ROOT)).filter((n) => !only || only.includes(n))) {
    // An image with media is measured with and without it, alternated in one sitting (the machine is shared:
    // alternating spreads the load drift over both); its figure is the median with media.
    const hasMedia = Boolean(((await seedDefinition(name, {})).media as { rtpproxy?: { enabled?: boolean } } | undefined)?.rtpproxy?.enabled);
    const alt = hasMedia && process.env.SIPBAKE_BENCH_ATTRIBUTE !== '0' ? await alternate(name) : undefined;
    const r = alt ? alt.representative : await withBench((dir) => imageBench(name, dir), name);
    if (alt) r.best = alt.medianWith;
    const ratio = bare.best > 0 ? Math.round((r.best / bare.best) * 100) / 100 : 0;
    const ratioToStateful = stateful.best > 0 ? Math.round((r.best / stateful.best) * 100) / 100 : 0;
    const media = alt
      ? {
          rtpproxy: alt.rtpproxy,
          withoutMediaCallsPerSecond: alt.medianWithout,
          mediaRatio: alt.medianWithout > 0 ? Math.round((alt.medianWith / alt.medianWithout) * 100) / 100 : 0,
          mediaGoal: MEDIA_GOAL,
          meetsMediaGoal: alt.medianWithout > 0 && alt.medianWith / alt.medianWithout >= MEDIA_GOAL,
          mediaPath: alt.mediaPath ?? null,
          alternations: alt.runs,
        }
      : {};
    // Passing every step means the rate list, not Kamailio, set the figure: it is a lower bound.
    images[name] = {
      ...media,
      ...(r.steps.every((s) => s.pass) ? { highestRateIsLowerBound: true } : {}),
      ...(r.dsMark?.length ? { dispatcherMarking: r.dsMark } : {}),
      callsPerSecond: r.best,
      bareCallsPerSecond: bare.best,
      ratio,
      target: 0.9,
      meetsTarget: ratio >= 0.9,
      statefulBareCallsPerSecond: stateful.best,
      ratioToStateful,
      steps: r.steps,
    };
  }
  const doc = {
    measuredAt: new Date().toISOString(),
    method: `SIPp UAC→Kamailio→SIPp UAS on loopback; INVITE/200/ACK/BYE, 50 ms between ACK and BYE; rate steps ${RATES.join(',')} calls/s for ${STEP_S} s each; pass = < 0.1 % failed and on schedule`,
    machine: {
      cpus: os.cpus().length,
      kamailio: kamailioVersion,
      rtpproxy: rtpproxyVersion,
      sipp: '3.6.1',
      // Shared with other engineers' builds and tests: 1, 5 and 15 minute load averages before and after the run.
      loadAverage: { before: loadBefore, after: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    },
    rtpproxy: rtpproxyVersion,
    media:
      rtpproxyVersion === '3.2.0'
        ? `The real RTPProxy 3.2.0 (pinned build) with the image's command line (-d WARN); each call makes and deletes one session (offer, answer, delete), no RTP flows. rtpproxyCpuMsPerCall is its own process's CPU. Kamailio runs at the image's shipped debug level (diagnostics.debugLevel). recorder-lb alternates with and without media ${ALTERNATIONS} times; its figures are the medians.`
        : "No rtpproxy binary: the media path is the Node stand-in (src/try/rtpproxy-responder.ts) speaking RTPProxy's control protocol, so the media CPU is the stand-in's, not RTPProxy 3.2.0's.",
    bare: {
      callsPerSecond: bare.best,
      steps: bare.steps,
      config: 'bench/bare-relay.ts: stateless forward() of every request to the UAS',
    },
    bareStateful: {
      callsPerSecond: stateful.best,
      steps: stateful.steps,
      config: 'bench/bare-relay.ts: t_relay_to_udp() of every request (tm only)',
    },
    images,
  };
  await writeFile(path.join(REPO_ROOT, 'bench/sip.json'), `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write(
    `${JSON.stringify(
      {
        bare: bare.best,
        bareStateful: stateful.best,
        images: Object.fromEntries(
          Object.entries(images).map(([k, v]) => {
            const x = v as { callsPerSecond: number; ratio: number; mediaRatio?: number; mediaPath?: unknown };
            return [k, { cps: x.callsPerSecond, ratio: x.ratio, mediaRatio: x.mediaRatio, mediaPath: x.mediaPath }];
          }),
        ),
      },
      null,
      2,
    )}\n`,
  );
}

await main();
