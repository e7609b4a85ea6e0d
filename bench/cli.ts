// npm run bench:cli — start-up cost of the CLI, written to bench/cli.json.
// CPU time (user + sys, from bash's `times` for its children: CPU, not wall clock, so other work on a shared
// machine inflates it less) of `sipbake --help`, every command's `--help`, a Tab completion, and `sipbake
// validate` (both seed images), each divided by the CPU time of `node -e 0`. Median of 10 runs each (5 per
// command --help). Goals: every --help and completion ≤ 4×, validate ≤ 8×. /proc/loadavg is recorded beside each.
// Runs bin/sipbake.js, i.e. the compiled dist/: run `npm run build` first.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { commandIndex } from '../src/cli/commands/index.js';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 10;

/** CPU seconds the command's processes used: the second line of `times` is the children's user and sys. */
function cpuSeconds(cmd: string): number {
  const out = execFileSync('bash', ['-c', `${cmd} >/dev/null 2>&1; times`], { cwd: root, encoding: 'utf8' });
  const children = out.trim().split('\n')[1] ?? '';
  const parts = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (parts.length !== 2) throw new Error(`cannot read \`times\` output: ${out}`);
  return parts[0]! + parts[1]!;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').trim();

function measure(cmd: string, n = RUNS): { medianCpuSeconds: number; runs: number[]; loadavg: string } {
  cpuSeconds(cmd); // warm the file cache
  const runs = Array.from({ length: n }, () => cpuSeconds(cmd));
  return { medianCpuSeconds: Number(median(runs).toFixed(3)), runs, loadavg: loadavg() };
}

const node = process.execPath;
const baseline = measure(`${node} -e 0`);
const cases: Record<string, { command: string; shell: string; goal: number; runs?: number }> = {
  help: { command: 'sipbake --help', shell: `${node} bin/sipbake.js --help`, goal: 4 },
  ...Object.fromEntries(
    commandIndex.map((c) => [`help:${c.name}`, { command: `sipbake ${c.name} --help`, shell: `${node} bin/sipbake.js ${c.name} --help`, goal: 4, runs: 5 }]),
  ),
  completion: {
    command: 'sipbake --get-yargs-completions sipbake roll "" (Tab after `sipbake roll `)',
    shell: `${node} bin/sipbake.js --get-yargs-completions sipbake roll ''`,
    goal: 4,
    runs: 5,
  },
  validate: {
    command: 'sipbake validate (twilio-relay, recorder-lb)',
    shell: `${node} bin/sipbake.js validate twilio-relay recorder-lb`,
    goal: 8,
  },
};
const results: Record<string, unknown> = {};
let ok = true;
for (const [name, c] of Object.entries(cases)) {
  const m = measure(c.shell, c.runs);
  const ratio = Number((m.medianCpuSeconds / baseline.medianCpuSeconds).toFixed(2));
  ok &&= ratio <= c.goal;
  results[name] = { command: c.command, ...m, ratio, goal: c.goal, meetsGoal: ratio <= c.goal };
  console.log(`${c.command}: ${m.medianCpuSeconds}s CPU, ${ratio}× node -e 0 (goal ≤ ${c.goal}×)`);
}
await writeFile(
  path.join(root, 'bench/cli.json'),
  `${JSON.stringify(
    {
      generatedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      baseline: { command: 'node -e 0', ...baseline },
      ...results,
      meetsGoals: ok,
      slowestHelp: Object.entries(results)
        .filter(([k]) => k.startsWith('help'))
        .map(([k, v]) => ({ case: k, ratio: (v as { ratio: number }).ratio }))
        .sort((a, b) => b.ratio - a.ratio)[0],
      notes:
        'CPU seconds (user+sys) from bash `times`, median of 10 runs after one warm-up; the compiled dist/ through bin/sipbake.js; only the command that runs is imported (src/cli/commands/index.ts), the AWS SDK only by commands that call AWS',
    },
    null,
    2,
  )}\n`,
);
console.log(`bench/cli.json written; ${ok ? 'goals met' : 'GOALS NOT MET'}`);
