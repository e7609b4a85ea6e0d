import type { DrainConfig } from '../definition/drain-schema.js';
import { initialState, isLeaving, nextDelayMs, step, type Action, type DrainParams, type DrainState, type Observation, type Outcome } from './drain-plan.js';
import type { KamailioRpc } from './kamailio-rpc.js';
import type { LifecycleHook } from './lifecycle.js';
import type { Log } from './log.js';

// The drain loop: observe (IMDS, Kamailio), decide (drain-plan.ts, pure), act. Every effect is injected.

export interface DrainEffects {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** autoscaling/target-lifecycle-state; undefined when absent or unreadable. */
  lifecycleState(): Promise<string | undefined>;
  kamailio: KamailioRpc;
  health: { open(): Promise<void>; fail(): Promise<void> };
  lifecycle: LifecycleHook;
  log: Log;
  /** Set when the process is asked to stop (SIGTERM): the loop returns. */
  signal?: AbortSignal;
}

export interface DrainReport extends Outcome {
  completed: boolean;
}

const errText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

async function observe(fx: DrainEffects, state: DrainState): Promise<Observation> {
  let lifecycle: string | undefined;
  try {
    lifecycle = await fx.lifecycleState();
  } catch (e) {
    fx.log(`cannot read the lifecycle state: ${errText(e)}`);
  }
  const kamailioAlive = await fx.kamailio.alive();
  let dialogs: number | undefined;
  if (kamailioAlive && (state.phase === 'draining' || isLeaving(lifecycle))) {
    try {
      dialogs = await fx.kamailio.activeDialogs();
    } catch (e) {
      fx.log(`cannot read active dialogs: ${errText(e)}`);
    }
  }
  return { now: fx.now(), kamailioAlive, ...(lifecycle !== undefined ? { lifecycle } : {}), ...(dialogs !== undefined ? { dialogs } : {}) };
}

async function completeWithRetry(fx: DrainEffects, attempts = 5): Promise<boolean> {
  for (let i = 1; i <= attempts; i++) {
    try {
      await fx.lifecycle.complete();
      fx.log('CompleteLifecycleAction CONTINUE sent');
      return true;
    } catch (e) {
      fx.log(`CompleteLifecycleAction failed (attempt ${i}/${attempts}): ${errText(e)}`);
      if (i < attempts) await fx.sleep(1000 * 2 ** (i - 1));
    }
  }
  fx.log('giving up: Auto Scaling will apply the hook default result when its timeout ends');
  return false;
}

/** Runs until the drain is over and the lifecycle action is completed (or the signal aborts). */
export async function runDrain(cfg: DrainConfig, fx: DrainEffects): Promise<DrainReport | undefined> {
  const pollMs = cfg.pollSeconds * 1000;
  const params: DrainParams = { maxMs: cfg.maxSeconds * 1000, heartbeatEveryMs: (cfg.heartbeatTimeoutSeconds * 1000) / 2 };
  let state = initialState;
  while (!fx.signal?.aborted) {
    const o = await observe(fx, state);
    if (state.phase === 'serving' && isLeaving(o.lifecycle)) {
      try {
        const hook = await fx.lifecycle.prepare();
        params.heartbeatEveryMs = Math.max(1000, (hook.heartbeatTimeoutSeconds * 1000) / 2);
        fx.log(`leaving ${hook.asgName}: hook ${cfg.lifecycleHookName}, heartbeat every ${Math.round(params.heartbeatEveryMs / 1000)} s, at most ${cfg.maxSeconds} s`);
      } catch (e) {
        fx.log(`cannot resolve the Auto Scaling group yet: ${errText(e)} (draining anyway)`);
      }
    }
    const r = step(state, o, params);
    state = r.state;
    for (const a of r.actions) {
      const report = await perform(a, fx);
      if (report) return report;
    }
    await fx.sleep(nextDelayMs(state, fx.now(), pollMs, params));
  }
  return undefined;
}

async function perform(a: Action, fx: DrainEffects): Promise<DrainReport | undefined> {
  try {
    switch (a.type) {
      case 'log':
        fx.log(a.line);
        return undefined;
      case 'health-open':
        await fx.health.open();
        return undefined;
      case 'health-fail':
        await fx.health.fail();
        return undefined;
      case 'set-draining':
        await fx.kamailio.setDraining(true);
        return undefined;
      case 'heartbeat':
        await fx.lifecycle.heartbeat();
        return undefined;
      case 'complete':
        return { ...a.outcome, completed: await completeWithRetry(fx) };
    }
  } catch (e) {
    // One failed effect must not stop the drain: the next observation retries what still matters.
    fx.log(`${a.type} failed: ${errText(e)}`);
    return undefined;
  }
}
