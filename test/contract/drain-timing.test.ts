import { describe, expect, it } from 'vitest';
import { agentTiming, replacementTime, sequentialFloorSeconds, timingAdvice } from '../../src/contract/drain-timing.js';

const base = { deregistrationDelaySeconds: 300, hookTimeoutSeconds: 120, drainMaxSeconds: 900, pollSeconds: 5 };

describe('drain timing in AWS order (pure)', () => {
  it.each([
    // [longest call, agent completes, total, hook wait, ended by]
    [0, true, 305, 5, 'agent'],
    [200, true, 305, 5, 'agent'],
    [600, true, 605, 305, 'agent'],
    [5000, true, 905, 605, 'agent'], // capped by drain.maxSeconds
    [0, false, 420, 120, 'hook-timeout'],
  ] as const)('longest call %s s, agent %s: %s s', (call, agent, total, wait, by) => {
    const r = replacementTime({ ...base, longestCallSeconds: call, agentCompletes: agent });
    expect(r).toMatchObject({ totalSeconds: total, hookWaitSeconds: wait, endedBy: by, deregistrationSeconds: 300 });
  });

  it('the hook global timeout (100 x HeartbeatTimeout) caps the wait', () => {
    expect(replacementTime({ ...base, hookTimeoutSeconds: 5, longestCallSeconds: 900 })).toMatchObject({
      hookWaitSeconds: 500,
      endedBy: 'global-timeout',
    });
  });

  it('the sequential floor sums each instance', () => {
    expect(sequentialFloorSeconds([0, 400, 100], { ...base })).toBe(300 + 400 + 300);
  });

  it('advises a shorter deregistration delay when it exceeds the drain, and a longer hook timeout when the global timeout is too short', () => {
    const a = timingAdvice({
      ...base,
      deregistrationDelaySeconds: 1200,
      hookTimeoutSeconds: 30,
      drainMaxSeconds: 3600 * 2,
    });
    expect(a.filter((x) => x.level === 'warning').map((x) => x.field)).toEqual(['hookTimeout']);
    const b = timingAdvice({ ...base, deregistrationDelaySeconds: 1200 });
    expect(b[0]).toMatchObject({ level: 'warning', field: 'deregistrationDelay' });
    expect(timingAdvice({ ...base, hookTimeoutSeconds: 12 }).some((x) => /missed heartbeat/.test(x.message))).toBe(true);
    // Media through the NLB: the delay must cover the drain, or the flows' end cuts RTP.
    expect(timingAdvice({ ...base, mediaAnchored: true })[0]).toMatchObject({
      level: 'warning',
      field: 'deregistrationDelay',
      message: expect.stringMatching(/cutting the RTP/),
    });
    expect(timingAdvice({ ...base, deregistrationDelaySeconds: 900, mediaAnchored: true }).filter((x) => x.level === 'warning')).toEqual([]);
  });
});

describe('the drain agent timers', () => {
  it('heartbeat at half the hook timeout (at least 1 s), complete offers until one hook timeout past the deadline, back-off from half the poll', () => {
    expect(agentTiming(300, 10)).toEqual({ heartbeatEveryMs: 150_000, completeGraceMs: 300_000, completeBackoffBaseMs: 5_000, peerCheckEveryMs: 30_000 });
    expect(agentTiming(1, 0.2)).toEqual({ heartbeatEveryMs: 1_000, completeGraceMs: 1_000, completeBackoffBaseMs: 100, peerCheckEveryMs: 600 });
  });
});
