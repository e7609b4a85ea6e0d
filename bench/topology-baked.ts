// npm run bench:topology:baked (root, Linux, systemd-nspawn; hold /tmp/sipbake-heavy.lock) — `sipbake rehearse
// twilio-relay --baked` on 2 instances: each instance the local bake of the image (sipbake build --local) booted
// under systemd-nspawn, rolled by `sipbake roll`'s engine. Upserts ONE run into bench/topology.json: the run with
// `baked: true` is replaced, every other run (bench/topology.ts records those) is left as it is (read, modify,
// write). The run carries image, engine, outcome, calls, perInstance[].bootSeconds, the two bakes' seconds, and the
// machine's load before and after.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rehearse, type RehearsalSummary } from '../src/rehearse/run.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FILE = path.join(root, 'bench/topology.json');
const LAST = path.join(root, 'bench/topology-baked.last.json');
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** The case: as bench/topology.ts's 2-instance cases (12 calls of 20-60 s, scaled 1/10). */
const CASE = { image: 'twilio-relay', instances: 2, calls: 12, callSeconds: 60, scale: 10, deregistrationDelaySeconds: 30, hookTimeoutSeconds: 120 };

export interface BakedRun {
  baked: true;
  command: string;
  at: string;
  image: string;
  to: string;
  engine: string;
  outcome: RehearsalSummary['outcome'];
  verdict: string;
  load: { before: string; after: string };
  instances: number;
  calls: { placed: number; completed: number; dropped: number; refused: number; unanswered: number; unplaced: number };
  droppedCalls: number;
  hooksTimedOut: number;
  perInstance: { id: string; image: 'old' | 'new'; bootSeconds?: number; callsAtPick?: number; drainSeconds?: number; endedBy?: string }[];
  bakes?: RehearsalSummary['bakes'];
  times: RehearsalSummary['times'];
  rollSeconds: number;
  floorSeconds: number;
  trunk?: { placed: number; completed: number; dropped: number; refused: number; handedOff: number };
  holders?: { placed: number; completed: number; dropped: number; refused: number };
  tcp?: { placed: number; completed: number; dropped: number; refused: number };
  failed?: string;
}

/** Pure: the run as bench/topology.json records it. */
export function bakedRun(s: RehearsalSummary, load: { before: string; after: string }, at: string): BakedRun {
  const { placed, completed, dropped, refused, unanswered, unplaced } = s.calls;
  const counts = <T extends { placed: number; completed: number; dropped: number; refused: number }>(c: T) => ({
    placed: c.placed,
    completed: c.completed,
    dropped: c.dropped,
    refused: c.refused,
  });
  return {
    baked: true,
    command: `flock /tmp/sipbake-heavy.lock npm run bench:topology:baked (sipbake rehearse ${s.image} --baked --instances ${s.instances} --calls ${CASE.calls} --call-seconds ${CASE.callSeconds})`,
    at,
    image: s.image,
    to: s.to,
    engine: s.engine,
    outcome: s.outcome,
    verdict: s.verdict.line,
    load,
    instances: s.instances,
    calls: { placed, completed, dropped, refused, unanswered, unplaced },
    droppedCalls: dropped,
    hooksTimedOut: s.hooksTimedOut,
    perInstance: s.perInstance.map((i) => ({
      id: i.id,
      image: i.image,
      ...(i.bootSeconds !== undefined ? { bootSeconds: i.bootSeconds } : {}),
      ...(i.callsAtPick !== undefined ? { callsAtPick: i.callsAtPick } : {}),
      ...(i.drainSeconds !== undefined ? { drainSeconds: round(i.drainSeconds) } : {}),
      ...(i.endedBy !== undefined ? { endedBy: i.endedBy } : {}),
    })),
    ...(s.bakes ? { bakes: s.bakes } : {}),
    times: s.times,
    rollSeconds: round(s.rollSeconds),
    floorSeconds: round(s.floorSeconds),
    ...(s.trunk ? { trunk: { ...counts(s.trunk), handedOff: s.trunk.handedOff } } : {}),
    ...(s.holders ? { holders: counts(s.holders) } : {}),
    ...(s.tcp ? { tcp: counts(s.tcp) } : {}),
    ...(s.failed ? { failed: s.failed } : {}),
  };
}

/** Pure: bench/topology.json with its baked run replaced by run (appended when it had none); all else as it was. */
export function upsertBakedRun(text: string, run: BakedRun): string {
  const doc = JSON.parse(text) as { runs?: unknown };
  if (!Array.isArray(doc.runs)) throw new Error(`${FILE} has no "runs" array; run npm run bench:topology first (it writes the file this adds one run to)`);
  const runs = doc.runs as unknown[];
  const isBaked = (r: unknown) => typeof r === 'object' && r !== null && (r as { baked?: unknown }).baked === true;
  const at = runs.findIndex(isBaked);
  const rest = runs.filter((r, i) => !isBaked(r) || i === at);
  const next = at < 0 ? [...rest, run] : rest.map((r) => (isBaked(r) ? run : r));
  return `${JSON.stringify({ ...doc, runs: next }, null, 2)}\n`;
}

const loadavg = () =>
  readFile('/proc/loadavg', 'utf8').then(
    (t) => t.trim(),
    () => 'unknown',
  );

async function main(): Promise<void> {
  // --upsert RUN.json: put a recorded run (this script's last, bench/topology-baked.last.json) back into
  // bench/topology.json without running again, e.g. after bench/topology.ts rewrote the file.
  const i = process.argv.indexOf('--upsert');
  if (i > 0) {
    const file = process.argv[i + 1];
    if (!file) throw new Error('--upsert needs the file of a recorded run (bench/topology-baked.last.json)');
    const recorded = JSON.parse(await readFile(file, 'utf8')) as BakedRun;
    await writeFile(FILE, upsertBakedRun(await readFile(FILE, 'utf8'), recorded));
    return;
  }
  const before = await loadavg();
  const s = await rehearse({ root, ...CASE, baked: true, tag: 'bk', log: (l) => process.stderr.write(`${l}\n`) });
  const run = bakedRun(s, { before, after: await loadavg() }, new Date().toISOString());
  await writeFile(FILE, upsertBakedRun(await readFile(FILE, 'utf8'), run));
  await writeFile(LAST, `${JSON.stringify(run, null, 2)}\n`);
  process.stdout.write(
    `${JSON.stringify({ outcome: run.outcome, calls: run.calls, bootSeconds: run.perInstance.map((i) => i.bootSeconds), verdict: run.verdict })}\n`,
  );
  if (!s.verdict.ok) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
