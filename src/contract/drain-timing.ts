// Pure: how long Auto Scaling takes to replace one instance, in AWS's documented order, and what the roll's
// preflight should say about the deregistration delay and the hook timeout. The order (src/rehearse/README.md):
//   1. the instance is picked; IMDS target-lifecycle-state turns Terminated (the drain agent starts draining);
//   2. the load balancer deregisters it and waits out the deregistration delay in full;
//   3. only then the termination hook puts it into Terminating:Wait (a lifecycle action exists);
//   4. CompleteLifecycleAction (the agent, once its calls are gone) or the hook timeout ends the wait;
//   5. the instance is terminated.
// Sources: https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html (steps 4-5),
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-target-groups.html#deregistration-delay,
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LifecycleHook.html (GlobalTimeout: 100 x HeartbeatTimeout, at most 48 h).

export interface DrainTimingInput {
  /** Target group deregistration_delay.timeout_seconds (the largest of the group's target groups). */
  deregistrationDelaySeconds: number;
  /** The termination hook's HeartbeatTimeout. */
  hookTimeoutSeconds: number;
  /** drain.maxSeconds: the agent completes at this point even with calls up. */
  drainMaxSeconds: number;
  /** drain.pollSeconds: the agent notices the action (and its calls ending) at most this late. */
  pollSeconds: number;
  /** The longest call still up when the instance is picked (estimate: drain.maxSeconds). */
  longestCallSeconds: number;
  /** False when no drain agent completes the action (the hook's timeout ends the wait). */
  agentCompletes?: boolean;
}

export interface ReplacementTime {
  /** Step 2: always the whole delay. */
  deregistrationSeconds: number;
  /** Steps 3-4: Terminating:Wait. */
  hookWaitSeconds: number;
  totalSeconds: number;
  /** What ended Terminating:Wait. */
  endedBy: 'agent' | 'hook-timeout' | 'global-timeout';
  /** From the pick to the agent's drain end (calls gone, or drain.maxSeconds). */
  drainSeconds: number;
}

const GLOBAL_TIMEOUT_CAP_SECONDS = 172_800;

/** The hook's GlobalTimeout: the one place sipbake computes it (preflight, plan, the rehearsal's endpoint). */
export function globalTimeoutSeconds(hookTimeoutSeconds: number): number {
  return Math.min(100 * hookTimeoutSeconds, GLOBAL_TIMEOUT_CAP_SECONDS);
}

/** Per-instance time from the pick to termination. */
export function replacementTime(i: DrainTimingInput): ReplacementTime {
  const dereg = Math.max(0, i.deregistrationDelaySeconds);
  const drainSeconds = Math.min(i.longestCallSeconds, i.drainMaxSeconds);
  if (i.agentCompletes === false) {
    return {
      deregistrationSeconds: dereg,
      hookWaitSeconds: i.hookTimeoutSeconds,
      totalSeconds: dereg + i.hookTimeoutSeconds,
      endedBy: 'hook-timeout',
      drainSeconds,
    };
  }
  // The drain ran during the delay; what is left of it after the delay, plus one poll to see the action.
  const left = Math.max(0, drainSeconds - dereg) + i.pollSeconds;
  const cap = globalTimeoutSeconds(i.hookTimeoutSeconds);
  const hookWait = Math.min(left, cap);
  return {
    deregistrationSeconds: dereg,
    hookWaitSeconds: hookWait,
    totalSeconds: dereg + hookWait,
    endedBy: left > cap ? 'global-timeout' : 'agent',
    drainSeconds,
  };
}

/** The AWS floor for replacing instances one after another: Σ (delay + what is left of each drain). Launch/warm-up excluded. */
export function sequentialFloorSeconds(longestCalls: number[], t: Omit<DrainTimingInput, 'longestCallSeconds' | 'pollSeconds'>): number {
  return longestCalls.reduce((sum, c) => sum + replacementTime({ ...t, pollSeconds: 0, longestCallSeconds: c }).totalSeconds, 0);
}

export interface TimingAdvice {
  level: 'warning' | 'info';
  field: 'deregistrationDelay' | 'hookTimeout' | 'drain.maxSeconds';
  message: string;
}

/**
 * What preflight should tell the user, given the real order. mediaAnchored: the instance relays RTP (RTPProxy) through
 * the NLB (media.address signalling; with media on the instance's own address RTP never crosses the NLB), whose UDP flows are closed when the deregistration delay ends (connection termination, on by default for
 * UDP target groups), so the delay must cover the drain; signalling alone survives it (in-dialog requests are
 * re-hashed and forwarded to the dialog's owner).
 */
export function timingAdvice(i: Omit<DrainTimingInput, 'longestCallSeconds'> & { mediaAnchored?: boolean }): TimingAdvice[] {
  const out: TimingAdvice[] = [];
  const dereg = i.deregistrationDelaySeconds;
  if (i.mediaAnchored && dereg < i.drainMaxSeconds) {
    out.push({
      level: 'warning',
      field: 'deregistrationDelay',
      message: `deregistration delay ${dereg} s is shorter than drain.maxSeconds ${i.drainMaxSeconds} s: the NLB closes the instance's UDP flows when the delay ends, cutting the RTP of calls still up on its RTPProxy; set it to ${Math.min(3600, i.drainMaxSeconds)} s`,
    });
  } else if (!i.mediaAnchored && dereg > i.drainMaxSeconds) {
    out.push({
      level: 'warning',
      field: 'deregistrationDelay',
      message: `deregistration delay ${dereg} s is longer than drain.maxSeconds ${i.drainMaxSeconds} s: every replaced instance waits the whole delay before its hook even starts, ${dereg - i.drainMaxSeconds} s per instance with nothing to drain; the drain agent (not the delay) holds calls, and no RTP crosses the NLB (no RTPProxy, or media.address on the instance's own address, which outlives deregistration), so a short delay (e.g. 30 s) is enough`,
    });
  } else if (dereg > 0) {
    out.push({
      level: 'info',
      field: 'deregistrationDelay',
      message: `each replaced instance takes at least ${dereg} s (the deregistration delay) even when idle: Auto Scaling starts the termination hook only after it`,
    });
  }
  const needed = Math.max(0, i.drainMaxSeconds - dereg) + i.pollSeconds;
  if (globalTimeoutSeconds(i.hookTimeoutSeconds) < needed) {
    out.push({
      level: 'warning',
      field: 'hookTimeout',
      message: `the hook's global timeout (${globalTimeoutSeconds(i.hookTimeoutSeconds)} s = 100 x HeartbeatTimeout, at most 48 h) ends Terminating:Wait before a ${i.drainMaxSeconds} s drain can: raise HeartbeatTimeout to at least ${Math.ceil(needed / 100)} s`,
    });
  }
  if (i.hookTimeoutSeconds < 2 * i.pollSeconds + 10) {
    out.push({
      level: 'warning',
      field: 'hookTimeout',
      message: `HeartbeatTimeout ${i.hookTimeoutSeconds} s leaves no room for a missed heartbeat at drain.pollSeconds ${i.pollSeconds}: use at least ${2 * i.pollSeconds + 10} s`,
    });
  }
  return out;
}

export interface AgentTiming {
  /** RecordLifecycleActionHeartbeat this often: half the hook's HeartbeatTimeout (at least 1 s). */
  heartbeatEveryMs: number;
  /** Offer CompleteLifecycleAction this long past the drain deadline when no action has appeared yet. */
  completeGraceMs: number;
  /** First back-off between CompleteLifecycleAction offers: half the poll, so a scaled-down poll scales it too. */
  completeBackoffBaseMs: number;
  /**
   * Serving peers looked up again this often while draining: 3 polls (30 s at the default 10 s poll). The one
   * limit on peer lookups (the finder keeps no cache of its own), so it follows a scaled-down poll too.
   */
  peerCheckEveryMs: number;
}

/** The drain agent's timers, from the hook's HeartbeatTimeout and drain.pollSeconds (the agent's one source). */
export function agentTiming(hookTimeoutSeconds: number, pollSeconds: number): AgentTiming {
  return {
    heartbeatEveryMs: Math.max(1000, (hookTimeoutSeconds * 1000) / 2),
    completeGraceMs: hookTimeoutSeconds * 1000,
    completeBackoffBaseMs: (pollSeconds * 1000) / 2,
    peerCheckEveryMs: Math.round(3 * pollSeconds * 1000),
  };
}
