// npm run bench:topology [-- --only NAME|PART[,…]] (root, Linux) — the rehearsal (src/rehearse: `sipbake roll`'s engine on
// the region model, behind an nftables NLB and a random-port NAT gateway) under live calls, and writes
// bench/topology.json. The runs (each named by `case`):
//   twilio-relay/3, twilio-relay/6: the default rehearsal (UDP callers, holders, the busy trunk, TCP calls);
//   twilio-relay/break-start, /break-503 (must be rolled back, every InService instance on the old AMI),
//   twilio-relay/break-slow-boot (must succeed);
//   recorder-lb/3, recorder-lb/6: RTP from media addresses other than the callers' signalling ones, to each
//   instance's own media address (--media-address instance); rtp: { calls, callsWithGap, callsWithoutAudio, maxGapMs };
//   recorder-lb/3/media-signalling: the negative control (--media-address signalling: today's single advertised
//   address), which must show calls without audio.
// Each run carries what `sipbake rehearse --json` reports: image, engine, break, outcome, calls { placed, completed,
// dropped, refused, unanswered, unplaced } (all callers: UDP groups, holders, trunk, TCP; and each apart), instances,
// perInstance, the verdict, and the machine's load (/proc/loadavg) before and after it.
//   twilio-relay/baked (only with --only, npm run bench:topology:baked): rehearse --baked, each instance its local
//   bake booted under systemd-nspawn; perInstance[].bootSeconds and the two bakes.
// The file is written after every run, so an interrupted bench keeps what finished; the runs of cases not re-run
// (--only) are kept.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rehearse } from '../src/rehearse/run.js';
import type { BreakKind, CallCounts, MediaAddressMode, RehearsalSummary } from '../src/rehearse/types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(root, 'bench/topology.json');
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

interface Case {
  name: string;
  image: string;
  instances: number;
  calls: number;
  callSeconds: number;
  break?: BreakKind;
  mediaAddress?: MediaAddressMode;
  /** Each instance the local bake of its image booted under systemd-nspawn (rehearse --baked): run only when named
   *  with --only (it needs systemd-nspawn and the bakes; npm run bench:topology:baked). */
  baked?: boolean;
  /** What the run must show (the control's verdict fails on purpose). */
  expect: string;
}

const DEREG = 30;
export const CASES: Case[] = [
  { name: 'twilio-relay/3', image: 'twilio-relay', instances: 3, calls: 20, callSeconds: 40, expect: 'succeeded, 0 dropped, 0 refused' },
  { name: 'twilio-relay/6', image: 'twilio-relay', instances: 6, calls: 20, callSeconds: 40, expect: 'succeeded, 0 dropped, 0 refused' },
  ...(['start', '503'] as const).map((b) => ({
    name: `twilio-relay/break-${b}`,
    image: 'twilio-relay',
    instances: 2,
    calls: 12,
    callSeconds: 40,
    break: b,
    expect: 'rolled-back, every InService instance on the old AMI, 0 dropped, 0 refused',
  })),
  {
    name: 'twilio-relay/break-slow-boot',
    image: 'twilio-relay',
    instances: 2,
    calls: 12,
    callSeconds: 40,
    break: 'slow-boot',
    expect: 'succeeded, 0 dropped, 0 refused',
  },
  {
    name: 'recorder-lb/3',
    image: 'recorder-lb',
    instances: 3,
    calls: 20,
    callSeconds: 40,
    mediaAddress: 'instance',
    expect: 'succeeded, 0 dropped, 0 calls with an audio gap over 200 ms or without audio',
  },
  {
    name: 'recorder-lb/6',
    image: 'recorder-lb',
    instances: 6,
    calls: 20,
    callSeconds: 40,
    mediaAddress: 'instance',
    expect: 'succeeded, 0 dropped, 0 calls with an audio gap over 200 ms or without audio',
  },
  {
    name: 'recorder-lb/3/media-signalling',
    image: 'recorder-lb',
    instances: 3,
    calls: 20,
    callSeconds: 40,
    mediaAddress: 'signalling',
    expect: 'negative control: calls without audio (media to the NLB address reaches instances without the session)',
  },
  {
    name: 'twilio-relay/baked',
    image: 'twilio-relay',
    instances: 2,
    calls: 12,
    callSeconds: 60,
    baked: true,
    expect: 'succeeded, 0 dropped, 0 refused, every instance its boot time',
  },
];

const loadavg = () =>
  readFile('/proc/loadavg', 'utf8').then(
    (t) => t.trim(),
    () => 'unknown',
  );

const counts = ({ placed, completed, dropped, refused, unanswered, unplaced }: CallCounts) => ({ placed, completed, dropped, refused, unanswered, unplaced });

/** Pure: every caller's calls together (the UDP groups, the holders, the trunk, the TCP calls). */
export function allCalls(s: { calls: CallCounts; holders?: CallCounts; trunk?: CallCounts; tcp?: CallCounts }): ReturnType<typeof counts> {
  const parts = [s.calls, s.holders, s.trunk, s.tcp].filter((c): c is CallCounts => c !== undefined).map(counts);
  const sum = (k: keyof ReturnType<typeof counts>) => parts.reduce((n, c) => n + c[k], 0);
  return {
    placed: sum('placed'),
    completed: sum('completed'),
    dropped: sum('dropped'),
    refused: sum('refused'),
    unanswered: sum('unanswered'),
    unplaced: sum('unplaced'),
  };
}

/** Pure: one bench/topology.json run from a rehearsal's summary (the object `sipbake rehearse --json` prints). */
export function runRecord(c: Case, s: RehearsalSummary, load: { before: string; after: string }): Record<string, unknown> {
  return {
    case: c.name,
    command: `sipbake rehearse ${c.image}${c.baked ? ' --baked' : ''} --instances ${c.instances} --calls ${c.calls} --call-seconds ${c.callSeconds}${c.break ? ` --break ${c.break}` : ''}${c.mediaAddress ? ` --media-address ${c.mediaAddress}` : ''} --json`,
    image: s.image,
    engine: s.engine,
    ...(s.baked ? { baked: true, ...(s.bakes ? { bakes: s.bakes } : {}) } : {}),
    ...(s.break ? { break: s.break } : {}),
    ...(s.mediaAddress ? { mediaAddress: s.mediaAddress } : {}),
    expect: c.expect,
    outcome: s.outcome,
    ...(s.fleetAtEnd ? { fleetAtEnd: s.fleetAtEnd } : {}),
    verdict: s.verdict.line,
    load,
    instances: s.instances,
    calls: allCalls(s),
    callsBy: {
      udp: counts(s.calls),
      ...(s.holders ? { holders: counts(s.holders) } : {}),
      ...(s.trunk ? { trunk: { ...counts(s.trunk), handedOff: s.trunk.handedOff, placedWhileDraining: s.trunk.placedWhileDraining } } : {}),
      ...(s.tcp ? { tcp: counts(s.tcp) } : {}),
    },
    cutByRehearsal: s.calls.cutByRehearsal + (s.trunk?.cutByRehearsal ?? 0) + (s.holders?.cutByRehearsal ?? 0) + (s.tcp?.cutByRehearsal ?? 0),
    ...(s.rtp ? { rtp: { calls: s.rtp.calls, callsWithGap: s.rtp.callsWithGap, callsWithoutAudio: s.rtp.callsWithoutAudio, maxGapMs: s.rtp.maxGapMs } } : {}),
    hooksTimedOut: s.hooksTimedOut,
    perInstance: s.perInstance.map((i) => ({
      id: i.id,
      image: i.image,
      ...(i.bootSeconds !== undefined ? { bootSeconds: i.bootSeconds } : {}),
      ...(i.callsAtPick !== undefined ? { callsAtPick: i.callsAtPick } : {}),
      ...(i.drainSeconds !== undefined ? { drainSeconds: round(i.drainSeconds, 1) } : {}),
      ...(i.longestRemainingCallSeconds !== undefined ? { longestRemainingCallSeconds: round(i.longestRemainingCallSeconds, 1) } : {}),
      ...(i.drainSeconds !== undefined && i.longestRemainingCallSeconds !== undefined
        ? { drainOverBound: round(i.drainSeconds / (i.longestRemainingCallSeconds + s.deregistrationDelaySeconds + s.pollSeconds * s.scale)) }
        : {}),
      ...(i.withinBound !== undefined ? { withinBound: i.withinBound } : {}),
      ...(i.callsCut ? { callsCut: i.callsCut } : {}),
      ...(i.endedBy ? { endedBy: i.endedBy } : {}),
    })),
    times: s.times,
    rollSeconds: round(s.rollSeconds, 1),
    floorSeconds: round(s.floorSeconds, 1),
    ...(s.failed ? { failed: s.failed } : {}),
  };
}

type Run = Record<string, unknown>;

/** Pure: the runs to keep from the file as it was: this bench's runs (named by `case`) of cases not re-run now.
 *  The old controller's runs (no `case`) go. */
export function keptRuns(previous: readonly Run[], rerun: ReadonlySet<string>): Run[] {
  return previous.filter((r) => typeof r.case === 'string' && !rerun.has(r.case));
}

async function write(runs: Run[]): Promise<void> {
  const order = (r: Run) => {
    const i = CASES.findIndex((c) => c.name === r.case);
    return i < 0 ? CASES.length : i;
  };
  const out = {
    what: 'sipbake rehearse under `sipbake roll`: a roll under live calls (UDP callers, holders on every old instance, a busy trunk on one UDP flow, TCP calls) behind an nftables NLB and a random-port NAT gateway; the three --break cases; recorder-lb with RTP to each instance’s own media address, and the negative control with the single advertised address. rollSeconds/floorSeconds are AWS seconds (the scaled part × 10, launches apart in times.launchWallSeconds). Each run’s load is /proc/loadavg before and after it.',
    machine: { cpus: os.cpus().length, node: process.version },
    at: new Date().toISOString(),
    runs: [...runs].sort((a, b) => order(a) - order(b)),
  };
  await writeFile(OUT, `${JSON.stringify(out, null, 2)}\n`);
}

/** Pure: --only A,B: per term, the case of that exact name, or else every case whose name contains it. */
export function selectCases(only: string): Case[] {
  const terms = only.split(',').filter(Boolean);
  return CASES.filter((c) => terms.some((t) => (CASES.some((k) => k.name === t) ? c.name === t : c.name.includes(t))));
}

async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf('--only');
  const only = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && !only) throw new Error('bench:topology: --only wants a part of a case name, e.g. --only recorder-lb');
  const cases = only === undefined ? CASES.filter((c) => !c.baked) : selectCases(only);
  if (!cases.length) throw new Error(`bench:topology: no case matches --only ${only}; the cases: ${CASES.map((c) => c.name).join(', ')}`);
  const previous = await readFile(OUT, 'utf8').then(
    (t) => (JSON.parse(t) as { runs?: Run[] }).runs ?? [],
    () => [],
  );
  const runs = keptRuns(previous, new Set(cases.map((c) => c.name)));
  let failed = 0;
  for (const c of cases) {
    const before = await loadavg();
    process.stderr.write(`bench:topology: ${c.name} (load ${before})\n`);
    try {
      const s = await rehearse({
        root,
        image: c.image,
        instances: c.instances,
        calls: c.calls,
        callSeconds: c.callSeconds,
        scale: 10,
        deregistrationDelaySeconds: DEREG,
        hookTimeoutSeconds: 120,
        ...(c.break ? { break: c.break } : {}),
        ...(c.mediaAddress ? { mediaAddress: c.mediaAddress } : {}),
        ...(c.baked ? { baked: true } : {}),
        tag: `t${CASES.indexOf(c)}`,
        log: (l) => process.stderr.write(`${l}\n`),
      });
      runs.push(runRecord(c, s, { before, after: await loadavg() }));
      process.stdout.write(
        `${c.name}: ${s.outcome}; ${JSON.stringify(allCalls(s))}${s.rtp ? `; rtp ${JSON.stringify({ ...s.rtp, perCall: undefined })}` : ''}\n  ${s.verdict.line}\n`,
      );
    } catch (e) {
      failed++;
      const why = e instanceof Error ? e.message : String(e);
      runs.push({
        case: c.name,
        image: c.image,
        outcome: 'failed',
        error: `the rehearsal stopped before its report: ${why}`,
        load: { before, after: await loadavg() },
      });
      process.stdout.write(`${c.name}: the rehearsal failed: ${why}\n`);
    }
    await write(runs);
  }
  if (failed) process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
