import { ADDR } from './net-plan.js';
import type { RehearseOptions } from './types.js';

// Pure: a rehearsal's timings and load from its options, decided once before anything starts. Times are scaled
// (real seconds ÷ scale) except where a field says otherwise.

interface CallGroup {
  src: string;
  kind: 'caller' | 'callee';
  /** The callee's Request-URI user: which side ends the call. */
  service: 'callerbye' | 'calleebye';
  /** Calls this group's SIPp places. */
  calls: number;
  /** Its SIPp's first call is placed this long after the load starts (arrivals are even overall). */
  delayMs: number;
}

export interface RehearsalPlan {
  hookTimeoutMs: number;
  deregMs: number;
  /** How long calls hold: 1/3 to all of --call-seconds, scaled. */
  hold: { minMs: number; maxMs: number };
  /** How long a call's side waits for the other (its answer, its BYE) before giving up. */
  waitMs: number;
  /** The roll's estimated length: calls are spread over it. */
  estimateMs: number;
  /** Each caller group places one call per period. */
  periodMs: number;
  /** From the first call to the last one's end. */
  windowMs: number;
  groups: CallGroup[];
  /** The busy trunk: one call per period, at most cap calls. */
  trunkPeriodMs: number;
  trunkCap: number;
  /** NLB UDP idle timeout in the rehearsal (AWS: 120 s, scaled). */
  udpIdleSeconds: number;
}

export function planRehearsal(
  o: Pick<RehearseOptions, 'instances' | 'calls' | 'callSeconds' | 'scale' | 'deregistrationDelaySeconds' | 'hookTimeoutSeconds'>,
): RehearsalPlan {
  const hookTimeoutMs = (o.hookTimeoutSeconds * 1000) / o.scale;
  const deregMs = (o.deregistrationDelaySeconds * 1000) / o.scale;
  const hold = {
    minMs: Math.round((o.callSeconds * 1000) / 3 / o.scale),
    maxMs: Math.round((o.callSeconds * 1000) / o.scale),
  };
  const waitMs = hold.maxMs + 30_000;
  // Calls spread over the time the roll should take, so that every instance has calls when it is picked. SIPp
  // places a UAC's first call one period after it starts, so the UACs start staggered: arrivals are even overall.
  const estimateMs = o.instances * (1500 + deregMs + (hold.minMs + hold.maxMs) / 2 + 1000);
  const kinds = ADDR.sources.flatMap((src) => [
    { src, kind: 'caller' as const, service: 'callerbye' as const },
    { src, kind: 'callee' as const, service: 'calleebye' as const },
  ]);
  const periodMs = Math.max(200, Math.round(estimateMs / Math.max(1, o.calls / kinds.length)));
  const windowMs = periodMs * (Math.ceil(o.calls / kinds.length) + 1) + hold.maxMs;
  let left = o.calls;
  const groups = kinds.map((g, gi) => {
    const calls = Math.floor(left / (kinds.length - gi));
    left -= calls;
    return { ...g, calls, delayMs: Math.round((gi * periodMs) / kinds.length) };
  });
  const trunkPeriodMs = Math.max(200, Math.round(deregMs / 4));
  return {
    hookTimeoutMs,
    deregMs,
    hold,
    waitMs,
    estimateMs,
    periodMs,
    windowMs,
    groups,
    trunkPeriodMs,
    trunkCap: Math.ceil((estimateMs * 4 + 60_000) / trunkPeriodMs),
    udpIdleSeconds: Math.max(1, Math.round(120 / o.scale)),
  };
}
