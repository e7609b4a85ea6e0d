// npm run bench:topology (root, Linux) — the rehearsal (src/rehearse) with 3 and 6 instances of twilio-relay, 30
// live calls of 20-60 s (scaled 1/10), and writes bench/topology.json:
//   dropped calls (target 0);
//   per replaced instance: drain time ÷ (longest remaining call + deregistration delay + one poll) — ≤ 1 is within the
//   bound the drain promises; and drain time ÷ longest remaining call, as the issue asks (∞ when it held no call);
//   total roll time ÷ the AWS floor (Σ launch-to-healthy + deregistration delay + what was left of each drain);
//   the busy trunk (every call from one address and port: one UDP flow the NLB keeps on a deregistered target for the
//   deregistration delay): placed / completed / refused / dropped, placed while its flow's instance drained, handed
//   off — and, for comparison, 3 instances without peer discovery (no EC2 endpoint: the draining instance refuses).
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rehearse } from '../src/rehearse/run.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const runs = [];
  for (const [instances, peerDiscovery] of [
    [3, true],
    [6, true],
    [3, false],
  ] as const) {
    const deregistrationDelaySeconds = 30;
    const s = await rehearse({
      root,
      image: 'twilio-relay',
      instances,
      calls: 30,
      callSeconds: 60,
      scale: 10,
      deregistrationDelaySeconds,
      hookTimeoutSeconds: 120,
      peerDiscovery,
      tag: `b${instances}${peerDiscovery ? '' : 'n'}`,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    const old = s.perInstance.filter((i) => i.drainSeconds !== undefined);
    runs.push({
      instances,
      peerDiscovery,
      calls: s.calls,
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
      ...(s.failed ? { failed: s.failed } : {}),
    });
  }
  const out = {
    what: 'sipbake rehearse twilio-relay: roll under 30 live calls and a busy trunk (one UDP flow) behind an nftables NLB and a random-port NAT gateway; seconds are real (the run is 10x faster)',
    machine: { cpus: os.cpus().length, node: process.version },
    at: new Date().toISOString(),
    runs,
  };
  await writeFile(path.join(root, 'bench/topology.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(
    `${JSON.stringify(runs.map((r) => ({ instances: r.instances, peerDiscovery: r.peerDiscovery, dropped: r.droppedCalls, trunk: r.trunk, rollOverFloor: r.rollOverFloor, drainOverBound: r.perInstance.map((p) => p.drainOverBound) })))}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
