// bench/topology-baked.ts: the baked run goes into bench/topology.json as ONE run (replacing the previous baked
// one); the runs bench/topology.ts records stay exactly as they were.
import { describe, expect, it } from 'vitest';
import { bakedRun, upsertBakedRun } from '../../bench/topology-baked.js';
import type { RehearsalSummary } from '../../src/rehearse/run.js';
import { callCounts } from '../support/call-counts.js';

const counts = callCounts({ placed: 12, completed: 12, callerBye: 6, calleeBye: 6 });
const summary = {
  engine: 'sipbake roll',
  baked: true,
  bakes: [
    { which: 'old', image: 'twilio-relay', contentHash: 'ab', action: 'skipped', compileCached: true, seconds: { base: 0, compile: 0, config: 0, total: 1.2 } },
  ],
  outcome: 'succeeded',
  image: 'twilio-relay',
  to: 'twilio-relay',
  instances: 2,
  calls: counts,
  hooksTimedOut: 0,
  perInstance: [
    { id: 'i-1', image: 'old', bootSeconds: 3.9, callsAtPick: 11, drainSeconds: 52.48, endedBy: 'complete' },
    { id: 'i-3', image: 'new', bootSeconds: 6.2 },
  ],
  times: { wallSeconds: 1, launchWallSeconds: 1, scaledAsAwsSeconds: 1, unscaled: [] },
  rollSeconds: 100.04,
  floorSeconds: 80,
  verdict: { ok: true, reasons: [], notes: [], line: 'PASSED: …' },
} as unknown as RehearsalSummary;
const load = { before: '1.00 1.00 1.00 1/100 1', after: '2.00 1.00 1.00 1/100 2' };

describe('bench:topology:baked', () => {
  const run = bakedRun(summary, load, '2026-12-07T13:00:00.000Z');

  it('records the run with baked: true, the engine, the outcome, the call counts, bootSeconds per instance, the bakes and the load', () => {
    expect(run).toMatchObject({ baked: true, engine: 'sipbake roll', outcome: 'succeeded', image: 'twilio-relay', load, droppedCalls: 0 });
    expect(run.calls).toEqual({ placed: 12, completed: 12, dropped: 0, refused: 0, unanswered: 0, unplaced: 0 });
    expect(run.perInstance.map((i) => i.bootSeconds)).toEqual([3.9, 6.2]);
    expect(run.perInstance[0]).toMatchObject({ drainSeconds: 52.5, callsAtPick: 11 });
    expect(run.bakes?.[0]?.seconds.total).toBe(1.2);
  });

  it('replaces the previous baked run and leaves every other run (and the header) as it was', () => {
    const others = [
      { engine: 'sipbake roll', instances: 3, x: [1, 2] },
      { engine: 'sipbake roll', break: 'start' },
    ];
    const text = JSON.stringify({ what: 'w', at: 'then', runs: [others[0], { baked: true, engine: 'rehearsal controller' }, others[1]] });
    const out = JSON.parse(upsertBakedRun(text, run)) as { what: string; at: string; runs: Record<string, unknown>[] };
    expect(out.what).toBe('w');
    expect(out.at).toBe('then');
    expect(out.runs).toEqual([others[0], run, others[1]]);
  });

  it('appends the baked run when the file has none, and keeps only one when it had several', () => {
    const none = JSON.parse(upsertBakedRun(JSON.stringify({ runs: [{ engine: 'a' }] }), run)) as { runs: unknown[] };
    expect(none.runs).toEqual([{ engine: 'a' }, run]);
    const two = JSON.parse(upsertBakedRun(JSON.stringify({ runs: [{ baked: true }, { engine: 'a' }, { baked: true }] }), run)) as { runs: unknown[] };
    expect(two.runs).toEqual([run, { engine: 'a' }]);
  });

  it('refuses a file without runs, and says what writes it', () => {
    expect(() => upsertBakedRun('{}', run)).toThrow(/no "runs" array; run npm run bench:topology first/);
  });
});
