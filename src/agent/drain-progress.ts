import path from 'node:path';
import { writeFilesAtomic } from './atomic.js';
import { SPOT_MARGIN_MS, type DrainParams, type DrainState, type Observation } from './drain-machine.js';

// The drain's progress for the operator: run/sipbake/drain.json (tmpfs), rewritten whole after every step, read
// by `sipbake-status`. Derived (pure) from the drain machine's state and the observation it stepped on; the
// runner only hands both over (drain.ts, one line), so the machine stays free of files.

export const DRAIN_PROGRESS_PATH = 'run/sipbake/drain.json';

/** Where the lifecycle action stands: none asked yet, refused until Terminating:Wait, failed, or accepted. */
type LifecycleActionState = 'not-yet' | 'waiting-for-terminating-wait' | 'offered' | 'failed' | 'completed' | 'given-up';

export interface DrainProgress {
  /** The machine's phase: serving (not leaving), draining (calls left), completing (CompleteLifecycleAction), done. */
  state: DrainState['phase'];
  /** autoscaling/target-lifecycle-state as IMDS last said (InService, Terminated, …); absent when unknown. */
  lifecycle?: string;
  started?: string;
  /** When the drain cuts what is left: drain.maxSeconds after the start, earlier on a Spot notice. */
  deadline?: string;
  /** Dialogs up at the last read. */
  callsLeft?: number;
  /** INVITE transactions in flight (handed-off calls ringing on the peer). */
  transactionsInFlight?: number;
  /** The peer new INVITEs are handed to; absent while none (they get 503). */
  peer?: string;
  /** Why there is no peer, when there is none. */
  peerNote?: string;
  /** Dialogs the drain waited for (the peak since it started). */
  peakCalls: number;
  lifecycleAction: LifecycleActionState;
  completeAttempts: number;
  /** Set once the calls are over or cut. */
  outcome?: { reason: string; endedNormally: number; cut: number; drainSeconds: number };
  spotInterruptionAt?: string;
  updated: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Pure: the lifecycle action's state from the machine's counters and the last answer. */
function actionState(s: DrainState, o: Observation): LifecycleActionState {
  if (s.phase === 'done') return o.completeResult === 'accepted' ? 'completed' : 'given-up';
  if (o.completeResult === 'failed') return 'failed';
  if (s.noActionAnswers > 0 && o.completeResult !== 'accepted') return 'waiting-for-terminating-wait';
  return s.completeAttempts > 0 ? 'offered' : 'not-yet';
}

/** Pure: the file's content after one step (the state the machine moved to, the observation it saw). */
function drainProgress(s: DrainState, o: Observation, p: DrainParams): DrainProgress {
  const started = s.drainStartedAt;
  const deadline = started === undefined ? undefined : s.spotAt === undefined ? started + p.maxMs : Math.min(started + p.maxMs, s.spotAt - SPOT_MARGIN_MS);
  const out = s.outcome;
  const v: DrainProgress = {
    state: s.phase,
    lifecycle: o.lifecycle,
    started: iso(started),
    deadline: iso(deadline),
    callsLeft: o.dialogs ?? s.lastDialogs,
    transactionsInFlight: o.transactions ?? s.lastTransactions,
    peer: s.handoffPeer,
    peerNote: s.handoffPeer === undefined ? s.peerNote : undefined,
    peakCalls: s.peakDialogs,
    lifecycleAction: actionState(s, o),
    completeAttempts: s.completeAttempts,
    outcome: out && { reason: out.reason, endedNormally: out.endedNormally, cut: out.cut, drainSeconds: Math.round(out.drainMs / 1000) },
    spotInterruptionAt: iso(s.spotAt),
    updated: new Date(o.now).toISOString(),
  };
  // Absent, not undefined: the file holds only what is known.
  return JSON.parse(JSON.stringify(v)) as DrainProgress;
}

export type DrainProgressSink = (s: DrainState, o: Observation, p: DrainParams) => Promise<void>;

/** The writer the agent hands to runDrain: whole files only (temp + rename), a failed write logged, never fatal. */
export function drainProgressFile(root: string, log: (line: string) => void): DrainProgressSink {
  const file = path.join(root || '/', DRAIN_PROGRESS_PATH);
  let failedOnce = false;
  return async (s, o, p) => {
    try {
      await writeFilesAtomic([{ path: file, content: `${JSON.stringify(drainProgress(s, o, p), null, 2)}\n`, mode: 0o644 }]);
    } catch (e) {
      // Once: a read-only or full /run must not flood the journal every poll.
      if (!failedOnce) log(`cannot write ${file}: ${e instanceof Error ? e.message : String(e)} (sipbake-status will not show the drain)`);
      failedOnce = true;
    }
  };
}
