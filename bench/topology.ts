// npm run bench:topology (root, Linux) — the rehearsal (src/rehearse) with 3 and 6 instances of twilio-relay, 30
// live calls of 20-60 s (scaled 1/10), and writes bench/topology.json:
//   dropped calls (target 0);
//   per replaced instance: drain time ÷ (longest remaining call + deregistration delay + one poll) — ≤ 1 is within the
//   bound the drain promises; and drain time ÷ longest remaining call, as the issue asks (∞ when it held no call);
//   total roll time ÷ the AWS floor (Σ launch-to-healthy + deregistration delay + what was left of each drain);
//   the busy trunk (every call from one address and port: one UDP flow the NLB keeps on a deregistered target for the
//   deregistration delay): placed / completed / refused / dropped, placed while its flow's instance drained, handed
//   off — and, for comparison, 3 instances without peer discovery (no EC2 endpoint: the draining instance refuses);
//   then the three --break cases on 2 instances (start, 503: must not be rolled onto; slow-boot: must be).
// Each run carries engine, break, outcome, calls { placed, completed, dropped, refused, unanswered, unplaced }, the
// verdict, and the machine's load (/proc/loadavg) before and after it.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rehearse } from '../src/rehearse/run.js';
import type { BreakKind } from '../src/rehearse/types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const runs = [];
  const loadavg = () =>
    readFile('/proc/loadavg', 'utf8').then(
      (t) => t.trim(),
      () => 'unknown',
    );
  const cases: Array<{ instances: number; peerDiscovery: boolean; calls: number; break?: BreakKind }> = [
    { instances: 3, peerDiscovery: true, calls: 30 },
    { instances: 6, peerDiscovery: true, calls: 30 },
    { instances: 3, peerDiscovery: false, calls: 30 },
    { instances: 2, peerDiscovery: true, calls: 12, break: 'start' },
    { instances: 2, peerDiscovery: true, calls: 12, break: '503' },
    { instances: 2, peerDiscovery: true, calls: 12, break: 'slow-boot' },
  ];
  for (const c of cases) {
    const { instances, peerDiscovery } = c;
    const deregistrationDelaySeconds = 30;
    const loadBefore = await loadavg();
    const s = await rehearse({
      root,
      image: 'twilio-relay',
      instances,
      calls: c.calls,
      callSeconds: 60,
      scale: 10,
      deregistrationDelaySeconds,
      hookTimeoutSeconds: 120,
      peerDiscovery,
      ...(c.break ? { break: c.break } : {}),
      tag: `b${instances}${peerDiscovery ? '' : 'n'}${c.break ? c.break[0] : ''}`,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    const old = s.perInstance.filter((i) => i.drainSeconds !== undefined);
    const { placed, completed, dropped, refused, unanswered, unplaced } = s.calls;
    runs.push({
      engine: s.engine,
      ...(s.break ? { break: s.break } : {}),
      outcome: s.outcome,
      verdict: s.verdict.line,
      load: { before: loadBefore, after: await loadavg() },
      instances,
      peerDiscovery,
      calls: { placed, completed, dropped, refused, unanswered, unplaced },
      callDetail: s.calls,
      times: s.times,
      droppedCalls: s.calls.dropped,
      hooksTimedOut: s.hooksTimedOut,
      perInstance: old.map((i) => ({
        id: i.id,
        callsAtPick: i.callsAtPick,
        drainSeconds: round(i.drainSeconds!, 1),
        longestRemainingCallSeconds: round(i.longestRemainingCallSeconds!, 1),
        drainOverLongestCall: i.longestRemainingCallSeconds! > 0 ? round(i.drainSeconds! / i.longestRemainingCallSeconds!) : null,
        drainOverBound: round(i.drainSeconds! / (i.longestRemainingCallSeconds! + deregistrationDelaySeconds + s.pollSeconds * s.scale)),
        endedBy: i.endedBy,
      })),
      rollSeconds: round(s.rollSeconds, 1),
      floorSeconds: round(s.floorSeconds, 1),
      rollOverFloor: round(s.rollSeconds / s.floorSeconds),
      trunk: s.trunk,
      // r3-media: recorder-lb runs carry the trunk calls' RTP (rtp-report.ts).
      ...(s.rtp ? { rtp: { calls: s.rtp.calls, callsWithGap: s.rtp.callsWithGap, callsWithoutAudio: s.rtp.callsWithoutAudio, maxGapMs: s.rtp.maxGapMs } } : {}),
      ...(s.failed ? { failed: s.failed } : {}),
    });
  }
  const out = {
    what: 'sipbake rehearse twilio-relay: roll under live calls and a busy trunk (one UDP flow) behind an nftables NLB and a random-port NAT gateway, and the three --break cases; rollSeconds/floorSeconds are AWS seconds (the scaled part × 10, launches apart in times.launchWallSeconds)',
    machine: { cpus: os.cpus().length, node: process.version },
    at: new Date().toISOString(),
    runs,
  };
  await writeFile(path.join(root, 'bench/topology.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(
    `${JSON.stringify(runs.map((r) => ({ instances: r.instances, break: r.break, outcome: r.outcome, calls: r.calls, verdict: r.verdict, rollOverFloor: r.rollOverFloor })))}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
