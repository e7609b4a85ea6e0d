import type { InstanceBoot } from './boot.js';
import type { CallOutcome } from './calls.js';

// What a rehearsal is asked (RehearseOptions) and what it reports (RehearsalSummary).

export interface RehearseOptions {
  root: string;
  image: string;
  to?: string;
  instances: number;
  calls: number;
  /** Longest call, in real (unscaled) seconds; calls hold for 1/3 to all of it, scaled. */
  callSeconds: number;
  /** Time scale: AWS's and the calls' seconds are divided by this. */
  scale: number;
  deregistrationDelaySeconds: number;
  hookTimeoutSeconds: number;
  /** Negative control: stop every old instance's drain agent before the roll. */
  stopDrainAgents?: boolean;
  /** A busy SIP trunk besides the callers: all its calls from one address and port, through the whole roll (default on). */
  trunk?: boolean;
  /** Serve EC2 DescribeInstances to the drain agents (SIPBAKE_EC2_ENDPOINT), so a draining instance can find the
   *  serving peers it hands new INVITEs to (default on). Off: nothing answers at that endpoint (the negative control:
   *  the lookup fails, a draining instance refuses them). */
  peerDiscovery?: boolean;
  /** Tag appended to namespace names (tests running in parallel). */
  tag?: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
  keepDir?: boolean;
}

export interface TimelineEntry {
  t: number;
  id: string;
  what: string;
}

export interface InstanceSummary {
  id: string;
  image: 'old' | 'new';
  /** Seconds (scaled) from the pick to termination. */
  drainSeconds?: number;
  /** Seconds (scaled) from the pick to the end of its last call. */
  longestRemainingCallSeconds?: number;
  callsAtPick?: number;
  /** Calls still up when it was terminated. */
  callsCut?: number;
  endedBy?: 'complete' | 'timeout';
  heartbeats: number;
  /** drainSeconds within longest remaining call + deregistration delay + one poll. */
  withinBound?: boolean;
  /** What the image's boot agent wrote in this instance's namespace, read back from its boot include. */
  boot?: InstanceBoot;
}

export interface RehearsalSummary {
  image: string;
  to: string;
  instances: number;
  scale: number;
  deregistrationDelaySeconds: number;
  hookTimeoutSeconds: number;
  pollSeconds: number;
  calls: {
    placed: number;
    completed: number;
    dropped: number;
    refused: number;
    unanswered: number;
    callerBye: number;
    calleeBye: number;
  };
  perInstance: InstanceSummary[];
  rollSeconds: number;
  /** Σ per instance (launch-to-healthy + deregistration delay + what was left of its drain), the sequential floor. */
  floorSeconds: number;
  hooksTimedOut: number;
  timeline: TimelineEntry[];
  droppedCalls: CallOutcome[];
  /** The busy trunk: all its calls over one UDP 5-tuple (source port 5060), so the NLB keeps them on a target through
   *  its deregistration delay. handedOff: calls a draining instance relayed to a serving peer (seen at the callee);
   *  handoffsLogged: of those, the ones the instances' Kamailio logged ("handoff: INVITE Call-ID … to PEER"). */
  trunk?: {
    source: string;
    placed: number;
    completed: number;
    refused: number;
    dropped: number;
    unanswered: number;
    callerBye: number;
    calleeBye: number;
    handedOff: number;
    handoffsLogged: number;
    /** Trunk calls placed while the target holding the trunk's flow was deregistered but its flows were kept. */
    placedWhileDraining: number;
  };
  /** Outbound INVITEs the destination received (they leave through the NAT gateway), how many had rport in the
   *  proxy's Via (needed for responses through a port-translating NAT), caller BYEs relayed to the callee; and the
   *  NAT gateway's translations seen in its conntrack table (source ports kept = not random). */
  natPath: {
    outboundInvites: number;
    invitesWithRport: number;
    byesFromProxy: number;
    natFlows: number;
    natPortsKept: number;
    natSamples: string[];
  };
  failed?: string;
}
