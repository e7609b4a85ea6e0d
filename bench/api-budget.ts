// npm run bench:api — API calls per minute during a 50-instance refresh on the AWS fake, against the rate
// limit, merged into bench/roll.json as `apiBudget` (the other keys are left as they are).
// 1. The roll itself: runRoll on a 50-instance group (twilio-relay's deploy section), every call the fake
//    serves, in one-minute windows of simulated time; the busiest minute counts.
// 2. The drain agents: one agent's calls per minute from runDrain on the fake (300 s deregistration delay,
//    calls ending at 30 and 90 s, peers looked up through the cache, CompleteLifecycleAction with back-off),
//    times the most instances draining at once during the roll.
// Limit: Auto Scaling publishes no per-action rate; the EC2 API documents its token bucket for non-mutating
// (Describe) actions, refill 20 per second ("Request throttling for the Amazon EC2 API"), the tighter of the two
// APIs the drain agents call. 20 × 60 = 1200 calls per minute per account and region.
import { readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordingReporter } from '../src/core/reporter.js';
import { loadImageOrThrow } from '../src/definition/load.js';
import { drainSchema } from '../src/definition/drain-schema.js';
import { runDrain } from '../src/agent/drain.js';
import { lifecycleHook } from '../src/agent/lifecycle.js';
import { peerFinder } from '../src/agent/peers.js';
import { runRoll } from '../src/roll/run.js';
import { createFakeAws } from '../test/fakes/aws/index.js';
import { seedWorld } from '../src/region/scenario.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INSTANCES = 50;
const LIMIT_PER_MINUTE = 20 * 60;
const MINUTE = 60_000;

async function rollCalls() {
  const { image } = await loadImageOrThrow(root, 'twilio-relay');
  const deploy = image.deploy!;
  // Leaving instances overlap as in a real fleet: a 300 s deregistration delay, then a minute of drain.
  const h = createFakeAws({ drainSeconds: 60 });
  const w = seedWorld(h.fake, { desired: INSTANCES, targetGroupArn: deploy.targetGroupArns[0]!, deregistrationDelay: 300 });
  w.asg.MaxSize = Math.max(w.asg.MaxSize, INSTANCES * 2);
  let draining = 0;
  let peakDraining = 0;
  h.fake.onInstance((event) => {
    if (event === 'terminating') peakDraining = Math.max(peakDraining, ++draining);
    if (event === 'terminated') draining--;
  });
  const t0 = h.fake.nowMs;
  const r = await runRoll(
    { kind: 'roll', image: 'twilio-relay', deploy, drainMaxSeconds: 900 },
    { clients: h.clients, clock: h.fake.clock, reporter: new RecordingReporter(), signal: new AbortController().signal, renderer: 'silent' },
  );
  const perMinute = new Map<number, number>();
  for (const c of h.fake.calls) perMinute.set(Math.floor((c.atMs - t0) / MINUTE), (perMinute.get(Math.floor((c.atMs - t0) / MINUTE)) ?? 0) + 1);
  h.restore();
  if (r.exitCode !== 0) throw new Error(`bench: the 50-instance roll failed (exit ${r.exitCode})`);
  return { busiestMinute: Math.max(...perMinute.values()), peakDraining, minutes: Math.ceil((h.fake.nowMs - t0) / MINUTE) };
}

async function agentCallsPerMinute() {
  const h = createFakeAws({ drainAgent: false, iam: { role: 'instance' } });
  seedWorld(h.fake, { desired: 4, heartbeat: 300, deregistrationDelay: 300 });
  const inst = [...h.fake.instances.values()][0]!;
  let drainingSince: number | undefined;
  const ends = [30, 90];
  const cfg = drainSchema.parse({ maxSeconds: 900, pollSeconds: 5 });
  h.fake.beginTermination(inst);
  const t0 = h.fake.nowMs;
  const report = await runDrain(cfg, {
    now: h.fake.clock.now,
    sleep: (ms) => h.fake.clock.sleep(ms),
    lifecycleState: async () => 'Terminated',
    kamailio: {
      alive: async () => true,
      processAlive: async () => true,
      setDraining: async () => void (drainingSince ??= h.fake.nowMs),
      setHandoff: async () => {},
      transactions: async () => 0,
      activeDialogs: async () => ends.filter((t) => t > (h.fake.nowMs - (drainingSince ?? h.fake.nowMs)) / 1000).length,
    },
    health: { open: async () => {}, fail: async () => {} },
    lifecycle: lifecycleHook({
      autoScaling: h.clients.autoScaling,
      instanceId: inst.InstanceId,
      hookName: 'sipbake-drain',
      fallbackHeartbeatTimeoutSeconds: 300,
      log: () => {},
    }),
    peers: peerFinder({
      autoScaling: h.clients.autoScaling,
      ec2: h.clients.ec2,
      elbv2: h.clients.elbv2,
      instanceId: inst.InstanceId,
      spread: true,
      cacheMs: 30_000,
      now: h.fake.clock.now,
    }),
    log: () => {},
  });
  const minutes = (h.fake.nowMs - t0) / MINUTE;
  const calls = h.fake.calls.length;
  h.restore();
  if (!report?.completed) throw new Error('bench: the drain did not complete its lifecycle action');
  return { calls, minutes, perMinute: calls / minutes };
}

async function main(): Promise<void> {
  const load = loadavg().map((x) => Number(x.toFixed(2)));
  const roll = await rollCalls();
  const agent = await agentCallsPerMinute();
  const apiCallsPerMinute = Math.round(roll.busiestMinute + agent.perMinute * roll.peakDraining);
  const apiBudget = {
    instances: INSTANCES,
    apiCallsPerMinute,
    limit: LIMIT_PER_MINUTE,
    limitSource: 'EC2 API non-mutating request token bucket refill, 20/s ("Request throttling for the Amazon EC2 API"); Auto Scaling publishes none',
    roll: { busiestMinute: roll.busiestMinute, minutes: roll.minutes },
    drainAgent: { callsPerMinute: Number(agent.perMinute.toFixed(1)), calls: agent.calls, simulatedMinutes: Number(agent.minutes.toFixed(1)) },
    peakDraining: roll.peakDraining,
    loadavg: load,
    measuredAt: new Date().toISOString(),
  };
  const file = path.join(root, 'bench/roll.json');
  // Only this key changes: the rest of the file keeps its bytes (apiBudget is always the last key).
  const text = (await readFile(file, 'utf8')).replace(/,\n {2}"apiBudget": [\s\S]*\n}\n?$/, '\n}\n');
  const block = JSON.stringify({ apiBudget }, null, 2).slice(2, -2);
  await writeFile(file, text.replace(/\n}\n?$/, `,\n${block}\n}\n`));
  JSON.parse(await readFile(file, 'utf8')); // still JSON
  console.log(JSON.stringify(apiBudget, null, 2));
}

await main();
