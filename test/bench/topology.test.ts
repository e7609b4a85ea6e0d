// bench/topology.ts's pure parts: which runs of the old file survive a (partial) re-run, and every caller's calls
// summed into one `calls`.
import { describe, expect, it } from 'vitest';
import { allCalls, CASES, keptRuns, selectCases } from '../../bench/topology.js';
import type { CallCounts } from '../../src/rehearse/types.js';
import { callCounts } from '../support/call-counts.js';

const c = (placed: number, completed: number, dropped = 0, refused = 0): CallCounts => callCounts({ placed, completed, dropped, refused });

describe('bench:topology', () => {
  it('keeps the baked run and the cases not re-run; drops the old controller runs and the re-run cases', () => {
    const previous = [
      { engine: 'rehearsal controller', instances: 3 },
      { case: 'twilio-relay/baked', engine: 'sipbake roll', baked: true, instances: 2 },
      { case: 'twilio-relay/3', engine: 'sipbake roll' },
      { case: 'recorder-lb/3', engine: 'sipbake roll' },
    ];
    expect(keptRuns(previous, new Set(['recorder-lb/3']))).toEqual([previous[1], previous[2]]);
    // Re-running the baked case replaces its one run (bench:topology:baked).
    expect(keptRuns(previous, new Set(['twilio-relay/baked']))).toEqual([previous[2], previous[3]]);
  });

  it('runs the baked case only when named (it needs systemd-nspawn and the local bakes)', () => {
    expect(selectCases('twilio-relay/baked').map((k) => ({ name: k.name, baked: k.baked }))).toEqual([{ name: 'twilio-relay/baked', baked: true }]);
    expect(CASES.filter((k) => !k.baked).some((k) => k.name.includes('baked'))).toBe(false);
  });

  it('sums the UDP callers, holders, trunk and TCP calls into calls', () => {
    expect(allCalls({ calls: c(20, 20), holders: c(30, 29, 1), trunk: c(100, 99, 0, 1), tcp: c(6, 6) })).toEqual({
      placed: 156,
      completed: 154,
      dropped: 1,
      refused: 1,
      unanswered: 0,
      unplaced: 0,
    });
  });

  it('runs the issue’s cases: the default on 3 and 6, the three breaks, recorder-lb on 3 and 6 and the media control', () => {
    expect(CASES.map((k) => k.name)).toEqual([
      'twilio-relay/3',
      'twilio-relay/6',
      'twilio-relay/break-start',
      'twilio-relay/break-503',
      'twilio-relay/break-slow-boot',
      'recorder-lb/3',
      'recorder-lb/6',
      'recorder-lb/3/media-signalling',
      'twilio-relay/baked',
    ]);
  });

  it('--only: an exact name picks that case alone, a part every case containing it', () => {
    expect(selectCases('recorder-lb/3').map((k) => k.name)).toEqual(['recorder-lb/3']);
    expect(selectCases('recorder-lb/3,recorder-lb/6').map((k) => k.name)).toEqual(['recorder-lb/3', 'recorder-lb/6']);
    expect(selectCases('break').length).toBe(3);
  });
});
