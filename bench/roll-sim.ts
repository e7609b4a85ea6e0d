// npm run sim:roll: ≥ 1,000 seeded rolls of the randomized roll simulation (test/roll/sim/roll-sim.ts) on the
// in-process AWS model in simulated time. Writes bench/roll-sim.json: rolls, violations, faults drawn, the seed.
// A violation prints its scenario; `fc.sample(scenarioArb, { seed, numRuns })[index]` replays it exactly.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import fc from 'fast-check';
import { FAULT_KINDS, scenarioArb, simulate, type FaultKind } from '../test/roll/sim/roll-sim.js';

const seed = Number(process.env.SIM_SEED ?? 19);
const rolls = Number(process.env.SIM_ROLLS ?? 1000);
const started = Date.now();
const load = loadavg()[0];
const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
const found: { index: number; scenario: unknown; violations: string[] }[] = [];
const scenarios = fc.sample(scenarioArb, { seed, numRuns: rolls });
for (const [index, sc] of scenarios.entries()) {
  for (const k of FAULT_KINDS) if (sc.faults[k]) faults[k]++;
  const v = await simulate(sc);
  if (v.length) {
    found.push({ index, scenario: sc, violations: v });
    console.error(`seed ${seed} roll ${index}: ${JSON.stringify(sc)}\n  ${v.join('\n  ')}`);
  }
}
const out = {
  rolls,
  violations: found.length,
  faults,
  seed,
  failing: found,
  seconds: Math.round((Date.now() - started) / 1000),
  loadavg: { start: load, end: loadavg()[0] },
};
writeFileSync(new URL('./roll-sim.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log(`${rolls} rolls, ${found.length} violation(s), faults ${JSON.stringify(faults)} in ${out.seconds} s (load ${load})`);
process.exitCode = found.length ? 1 : 0;
