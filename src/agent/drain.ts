import type { DrainConfig } from '../definition/drain-schema.js';
import { agentTiming } from '../contract/drain-timing.js';
import {
  DEFAULT_DOWN_AFTER_FAILURES,
  peersDue,
  initialState,
  leavingNow,
  nextDelayMs,
  step,
  type Action,
  type CompleteResult,
  type DrainParams,
  type DrainState,
  type Observation,
  type Report,
} from './drain-machine.js';
import type { KamailioRpc } from './kamailio-rpc.js';
import type { LifecycleHook } from './lifecycle.js';
import type { Log } from './log.js';
import type { PeerFinder } from './peers.js';

// The drain loop: observe (IMDS, Kamailio), decide (drain-machine.ts, pure), act. Every effect is injected.

export interface DrainEffects {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** autoscaling/target-lifecycle-state; undefined when absent or unreadable. */
  lifecycleState(): Promise<string | undefined>;
  /** IMDS spot/instance-action's time (ms), when EC2 has sent a Spot interruption notice; absent: not Spot. */
  spotInterruption?(): Promise<number | undefined>;
  kamailio: KamailioRpc;
  health: { open(): Promise<void>; fail(): Promise<void> };
  lifecycle: LifecycleHook;
  /** The group's serving peers (new INVITEs are handed to one while draining); absent: 503 only. */
  peers?: PeerFinder;
  log: Log;
  /** Set when the process is asked to stop (SIGTERM): the loop returns. */
  signal?: AbortSignal;
  /** After each step: the state for run/sipbake/drain.json (drain-progress.ts); absent in tests that need no file. */
  progress?(s: DrainState, o: Observation, p: DrainParams): Promise<void>;
}

export type DrainReport = Report;

const errText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Pure: Auto Scaling's answer before Terminating:Wait (the action does not exist yet). */
function isNoActiveAction(e: unknown): boolean {
  return e instanceof Error && /No active Lifecycle Action/i.test(e.message);
}

async function observe(fx: DrainEffects, state: DrainState, params: DrainParams, completeResult: CompleteResult | undefined): Promise<Observation> {
  let lifecycle: string | undefined;
  try {
    lifecycle = await fx.lifecycleState();
  } catch (e) {
    fx.log(`cannot read the lifecycle state: ${errText(e)}`);
  }
  let spotInterruptionAt: number | undefined;
  try {
    spotInterruptionAt = await fx.spotInterruption?.();
  } catch (e) {
    fx.log(`cannot read the Spot interruption notice: ${errText(e)}`);
  }
  const kamailioAlive = await fx.kamailio.alive();
  // The process check runs only behind a failed RPC: a slow answer from a busy Kamailio is not a death.
  const processAlive = kamailioAlive ? true : await fx.kamailio.processAlive().catch(() => undefined);
  let dialogs: number | undefined;
  let transactions: number | undefined;
  let statsFailed = false;
  const leaving = leavingNow({ lifecycle, spotInterruptionAt });
  if (kamailioAlive && (state.phase === 'draining' || state.phase === 'completing' || leaving)) {
    if (state.phase !== 'completing')
      try {
        dialogs = await fx.kamailio.activeDialogs();
      } catch (e) {
        statsFailed = true;
        fx.log(`cannot read active dialogs: ${errText(e)}`);
      }
    try {
      transactions = await fx.kamailio.transactions();
    } catch (e) {
      statsFailed = true;
      fx.log(`cannot read tm transactions: ${errText(e)}`);
    }
  }
  const peers = fx.peers && peersDue(state, leaving, fx.now(), params) ? await fx.peers.find() : undefined;
  return {
    now: fx.now(),
    kamailioAlive,
    ...(statsFailed ? { statsFailed } : {}),
    ...(transactions !== undefined ? { transactions } : {}),
    ...(peers !== undefined ? { peers } : {}),
    ...(processAlive !== undefined ? { processAlive } : {}),
    ...(lifecycle !== undefined ? { lifecycle } : {}),
    ...(dialogs !== undefined ? { dialogs } : {}),
    ...(completeResult !== undefined ? { completeResult } : {}),
    ...(spotInterruptionAt !== undefined ? { spotInterruptionAt } : {}),
  };
}

/** Runs until the drain is over and the lifecycle action is completed or given up (or the signal aborts). */
export async function runDrain(cfg: DrainConfig, fx: DrainEffects): Promise<DrainReport | undefined> {
  const pollMs = cfg.pollSeconds * 1000;
  const params: DrainParams = {
    maxMs: cfg.maxSeconds * 1000,
    downAfterFailures: DEFAULT_DOWN_AFTER_FAILURES,
    ...agentTiming(cfg.heartbeatTimeoutSeconds, cfg.pollSeconds),
  };
  let state = initialState;
  let completeResult: CompleteResult | undefined;
  while (!fx.signal?.aborted) {
    const o = await observe(fx, state, params, completeResult);
    completeResult = undefined;
    if (state.phase === 'serving' && leavingNow(o)) {
      try {
        const hook = await fx.lifecycle.prepare();
        Object.assign(params, agentTiming(hook.heartbeatTimeoutSeconds, cfg.pollSeconds));
        fx.log(`leaving ${hook.asgName}: hook ${hook.hookName}, heartbeat every ${Math.round(params.heartbeatEveryMs / 1000)} s, at most ${cfg.maxSeconds} s`);
      } catch (e) {
        fx.log(`cannot resolve the Auto Scaling group yet: ${errText(e)} (draining anyway)`);
      }
    }
    const r = step(state, o, params);
    state = r.state;
    await fx.progress?.(state, o, params);
    for (const a of r.actions) {
      if (a.type === 'done') return a.report;
      if (a.type === 'complete') completeResult = await complete(fx);
      else await perform(a, fx);
    }
    await fx.sleep(nextDelayMs(state, fx.now(), pollMs, params));
  }
  return undefined;
}

async function complete(fx: DrainEffects): Promise<CompleteResult> {
  try {
    await fx.lifecycle.complete();
    fx.log('CompleteLifecycleAction CONTINUE sent');
    return 'accepted';
  } catch (e) {
    if (isNoActiveAction(e)) return 'no-action';
    fx.log(`CompleteLifecycleAction failed: ${errText(e)} (retrying at the next poll)`);
    return 'failed';
  }
}

async function perform(a: Exclude<Action, { type: 'done' | 'complete' }>, fx: DrainEffects): Promise<void> {
  try {
    switch (a.type) {
      case 'log':
        fx.log(a.line);
        return;
      case 'health-open':
        await fx.health.open();
        return;
      case 'health-fail':
        await fx.health.fail();
        return;
      case 'set-draining':
        await fx.kamailio.setDraining(true);
        return;
      case 'set-handoff':
        await fx.kamailio.setHandoff(a.peer);
        return;
      case 'heartbeat':
        await fx.lifecycle.heartbeat();
        return;
    }
  } catch (e) {
    // One failed effect must not stop the drain: the next observation retries what still matters.
    // Before Terminating:Wait a heartbeat has no action to extend; that is expected, not news.
    if (a.type === 'heartbeat' && isNoActiveAction(e)) return;
    fx.log(`${a.type} failed: ${errText(e)}`);
  }
}
