import { describe, expect, it } from 'vitest';
import { drainWithinBound } from '../../src/rehearse/report.js';

// The drain bound (deregistration delay + one poll + 1 s after the pick or the last call's end) counts from when the
// drain agent could first read IMDS: for a new instance a rollback picked while it was still booting, its agent's
// start. The rig's boot is not scaled; a 10 s boot under load is not 100 AWS seconds of drain.
// Times of the round-28 --break 503 run (scale 1/10: delay 3 s, poll 1 s), in ms from the pick.
const base = { pickedAt: 0, lastEnd: 0, handoffsUntil: 0, deregMs: 3000, pollMs: 1000 };

describe('drainWithinBound', () => {
  it('an instance picked mid-boot: counted from its agent start, terminated at the action plus a poll', () => {
    expect(drainWithinBound({ ...base, agentStartedAt: 8_900, terminatedAt: 10_600 })).toBe(true);
  });

  it('stays strict: an agent that ran but took longer than delay + poll + 1 s exceeds it', () => {
    expect(drainWithinBound({ ...base, agentStartedAt: 8_900, terminatedAt: 14_000 })).toBe(false);
    expect(drainWithinBound({ ...base, agentStartedAt: -5_000, terminatedAt: 5_100 })).toBe(false);
    expect(drainWithinBound({ ...base, terminatedAt: 5_000 })).toBe(true);
  });

  it('a call still up: from its end, as before', () => {
    expect(drainWithinBound({ ...base, agentStartedAt: -20_000, lastEnd: 12_000, terminatedAt: 16_500 })).toBe(true);
    expect(drainWithinBound({ ...base, agentStartedAt: -20_000, lastEnd: 12_000, terminatedAt: 17_500 })).toBe(false);
  });
});
