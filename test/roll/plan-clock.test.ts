// The roll plan's clock is a required input (issue 24): planRoll and every module it imports judge time (a lease's
// expiry) by PlanInput.nowMs, never by the real clock, so a plan is the same whenever it is computed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const REAL_CLOCK = /\bDate\.now\s*\(|\bnew Date\(\s*\)|\bperformance\.now\s*\(/;

/** src files reachable from `entry` through relative imports (type-only ones too: cheap, and harmless). */
function importClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) visit(path.relative(root, path.resolve(root, path.dirname(file), `${m[1]}.ts`)));
  };
  visit(entry);
  return [...seen].sort();
}

describe('the roll plan reads no real clock', () => {
  const files = importClosure('src/roll/plan.ts');

  it('follows the planner through its imports', () => {
    expect(files).toEqual(expect.arrayContaining(['src/roll/plan.ts', 'src/roll/guards.ts', 'src/roll/preflight.ts', 'src/contract/drain-timing.ts']));
  });

  it.each(files)('%s', (file) => {
    const hits = readFileSync(path.join(root, file), 'utf8')
      .split('\n')
      .map((line, i) => ({ line: i + 1, text: line.trim() }))
      .filter((l) => !l.text.startsWith('//') && !l.text.startsWith('*') && REAL_CLOCK.test(l.text));
    expect(hits).toEqual([]);
  });
});
