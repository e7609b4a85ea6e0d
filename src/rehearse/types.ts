import type { RtpFigures } from './rtp-report.js';
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
  /** TCP calls besides the UDP ones (SIPp -t tn through the NLB's TCP listener; default on). */
  tcp?: boolean;
  /** Serve EC2 DescribeInstances and ELBv2 DescribeTargetHealth to the drain agents (SIPBAKE_EC2_ENDPOINT,
   *  SIPBAKE_ELBV2_ENDPOINT), so a draining instance can find the
   *  serving peers it hands new INVITEs to (default on). Off: nothing answers at that endpoint (the negative control:
   *  the lookup fails, a draining instance refuses them). */
  peerDiscovery?: boolean;
  /** r4-baked: each instance boots the locally baked root under systemd-nspawn (src/rehearse/baked-instance.ts). */
  baked?: boolean;
  /** Where RTPProxy advertises media: `instance` (default), each instance's own media Elastic IP, so RTP never
   *  crosses the NLB; `signalling`, the NLB's single address for signalling and media alike (the negative control:
   *  media hashed by the NLB to an instance that may hold no session, so calls without audio). */
  mediaAddress?: MediaAddressMode;
  /** A broken second image: its Kamailio never starts, it answers 503 to every request (INVITEs and the health
   *  probe alike), or it boots slowly (but well). */
  break?: BreakKind;
  /** Fault injection: SIGKILL the Kamailio of old instance K (1-instances) as the roll starts. */
  killKamailio?: number;
  /** Tag appended to namespace names (tests running in parallel). */
  tag?: string;
  log?: (line: string) => void;
  /** Each timeline event as it happens (instead of a log line: --json progress). */
  onEvent?: (e: TimelineEntry) => void;
  signal?: AbortSignal;
  /** Registers a synchronous clean-up run on a forced exit (second Ctrl-C), when no `finally` runs. */
  onForcedExit?: (cleanup: () => void) => () => void;
  keepDir?: boolean;
}

export type BreakKind = 'start' | '503' | 'slow-boot';

export type MediaAddressMode = 'instance' | 'signalling';

export interface TimelineEntry {
  t: number;
  id: string;
  what: string;
}

export interface InstanceSummary {
  id: string;
  image: 'old' | 'new';
  /** r4-baked (--baked): seconds from systemd-nspawn's start to `systemctl is-system-running` (real time). */
  bootSeconds?: number;
  /** Seconds (scaled) from the pick to termination. */
  drainSeconds?: number;
  /** Seconds (scaled) from the pick to the end of its last call. */
  longestRemainingCallSeconds?: number;
  callsAtPick?: number;
  /** Calls still up when it was terminated. */
  callsCut?: number;
  endedBy?: 'complete' | 'timeout';
  heartbeats: number;
  /** drainSeconds within longest remaining call + deregistration delay + one poll (from the agent's start when later: report.ts drainWithinBound). */
  withinBound?: boolean;
  /** Real seconds from the pick to its drain agent's start: picked while still booting (not scaled: the rig's boot). */
  agentAfterPickSeconds?: number;
  /** What the image's boot agent wrote in this instance's namespace, read back from its boot include. */
  boot?: InstanceBoot;
  /** The peers (instance ids) its drain agent handed new INVITEs to, from its log; absent when none. */
  handedTo?: string[];
}

/** Calls by outcome. unplaced: planned but never placed by the caller; cutByRehearsal: still up when the rehearsal
 *  stopped waiting (counted as dropped too); answeredAfterRetransmission: completed, but only after the caller
 *  retransmitted its INVITE (a slow or lossy path that "completed" would hide). */
export interface CallCounts {
  placed: number;
  completed: number;
  dropped: number;
  refused: number;
  unanswered: number;
  unplaced: number;
  cutByRehearsal: number;
  answeredAfterRetransmission: number;
  callerBye: number;
  calleeBye: number;
}

/** Times, scaled and unscaled apart. The rehearsal divides AWS's delays and the calls' lengths by the scale; launches
 *  (a namespace boots as fast as it does), Kamailio's timers and the NAT's idle timeouts run in real time. */
export interface RollTimes {
  /** The roll on this machine's clock. */
  wallSeconds: number;
  /** Of which the replacements' launch-to-healthy (real time here; never scaled). */
  launchWallSeconds: number;
  /** The rest (deregistration delays, drains, calls), × scale: AWS seconds. */
  scaledAsAwsSeconds: number;
  /** What is never scaled in the rehearsal. */
  unscaled: string[];
}

/** One local bake of a --baked rehearsal: skipped when the bake already held this content. */
export interface LocalBakeFigures {
  which: 'old' | 'new';
  image: string;
  contentHash: string;
  action: 'built' | 'skipped';
  /** The compile stage came from the cache (no compile ran). */
  compileCached: boolean;
  /** Wall-clock seconds (base, compile, config, total), as buildLocal measured them. */
  seconds: { base: number; compile: number; config: number; total: number };
}

export interface RehearsalSummary {
  /** What played AWS's part and drove the roll. */
  engine: string;
  /** Where RTPProxy advertised media (--media-address; only with an RTPProxy image). */
  mediaAddress?: MediaAddressMode;
  /** r4-baked: the instances were booted baked roots (--baked). */
  baked?: boolean;
  /** --baked: the two local bakes (old and new image), as buildLocal reported them. */
  bakes?: LocalBakeFigures[];
  break?: BreakKind;
  /** succeeded: every instance runs the new image; rolled-back: the roll stopped with every InService instance still
   *  on the old image (nothing rolled onto); failed: anything else (a mixed fleet). */
  outcome: 'succeeded' | 'rolled-back' | 'failed';
  /** The group's InService instances when the roll ended, by AMI (old, new, any other). */
  fleetAtEnd?: { old: number; new: number; other: number };
  image: string;
  to: string;
  instances: number;
  scale: number;
  deregistrationDelaySeconds: number;
  hookTimeoutSeconds: number;
  pollSeconds: number;
  calls: CallCounts;
  perInstance: InstanceSummary[];
  /** The roll without its launches, × scale (AWS seconds); times.launchWallSeconds holds the launches. */
  rollSeconds: number;
  /** Σ per old instance (deregistration delay + what was left of its drain), × scale: the sequential floor of what
   *  rollSeconds measures (launches apart). */
  floorSeconds: number;
  times: RollTimes;
  /** What the run proved (verdict.ts). */
  verdict: { ok: boolean; reasons: string[]; notes: string[]; line: string };
  hooksTimedOut: number;
  timeline: TimelineEntry[];
  droppedCalls: CallOutcome[];
  /** The busy trunk: all its calls over one UDP 5-tuple (source port 5060), so the NLB keeps them on a target through
   *  its deregistration delay. handedOff: calls a draining instance relayed to a serving peer (seen at the callee);
   *  handoffsLogged: of those, the ones the instances' Kamailio logged ("handoff: INVITE Call-ID … to PEER"). */
  /** r3-media: the trunk's calls' RTP (media from another address than signalling): per call packets sent, received,
   *  longest gap; a call without audio counts as dropped (rtp-report.ts). Absent without RTPProxy. */
  rtp?: RtpFigures;
  trunk?: CallCounts & {
    source: string;
    handedOff: number;
    handoffsLogged: number;
    /** Trunk calls placed while the target holding the trunk's flow was deregistered but its flows were kept. */
    placedWhileDraining: number;
  };
  /** The holders (load.ts): per old instance, calls from a source the NLB hashes to it, placed until the roll ends,
   *  so that every old instance holds calls when it is picked. sources: instance id → source address. */
  holders?: CallCounts & { sources: Record<string, string> };
  /** The TCP calls (a connection each, through the NLB's TCP listener), counted apart. */
  tcp?: CallCounts;
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
