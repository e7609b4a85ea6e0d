// The roll's listr2 tasks, built in one function (as the bake does): lease, start, health-gated wait, rollback.
// Each task is a stage: a timer in a terminal, a `stage` event with --json.
import { Listr, PRESET_TIMER } from 'listr2';
import type { Reporter } from '../core/reporter.js';
import type { MachineState } from './roll-machine.js';

export type Renderer = 'default' | 'simple' | 'silent';

export interface Stage<C> {
  name: string;
  title: string;
  enabled?: (ctx: C) => boolean;
  /** setTitle shows the refresh id and version as soon as they are known; setOutput the live progress. */
  run: (ctx: C, setOutput: (text: string) => void, setTitle: (title: string) => void) => Promise<void>;
  /** After run: a failure to show as ✖ with its reason while the next stages still run (a failed gate). */
  failed?: (ctx: C) => string | undefined;
}

export function rollTasks<C extends { state?: MachineState; thrown?: Error }>(
  stages: Stage<C>[],
  ctx: C,
  renderer: Renderer,
  reporter: Reporter,
  now: () => number,
): Listr<C, Renderer> {
  return new Listr<C, Renderer, 'simple'>(
    stages.map((s) => ({
      title: s.title,
      // After a stage threw (not a shown gate failure), nothing else runs: runRoll rethrows ctx.thrown.
      enabled: (c: C) => c.thrown === undefined && (s.enabled?.(c) ?? true),
      exitOnError: !s.failed,
      rendererOptions: { persistentOutput: true, outputBar: 1, timer: PRESET_TIMER },
      task: async (c: C, task) => {
        const t0 = now();
        reporter.event({ event: 'stage', stage: s.name, state: 'started', title: s.title });
        try {
          await s.run(
            c,
            (text) => (task.output = text),
            (title) => (task.title = title),
          );
        } catch (e) {
          reporter.event({
            event: 'stage',
            stage: s.name,
            state: 'failed',
            seconds: Math.round((now() - t0) / 1000),
            reason: (e as Error).message,
          });
          // listr2 collects, and does not rethrow, errors of a stage with exitOnError false: keep it for runRoll.
          c.thrown ??= e instanceof Error ? e : new Error(String(e));
          throw e;
        }
        const why = s.failed?.(c);
        reporter.event({
          event: 'stage',
          stage: s.name,
          state: why ? 'failed' : 'done',
          seconds: Math.round((now() - t0) / 1000),
          ...(why ? { reason: why } : {}),
        });
        if (why) throw new Error(why);
      },
    })),
    {
      renderer,
      fallbackRenderer: 'simple',
      registerSignalListeners: false,
      exitOnError: true,
      collectErrors: 'minimal',
      ctx,
      rendererOptions: { collapseErrors: false, timer: PRESET_TIMER },
      fallbackRendererOptions: { timer: PRESET_TIMER },
    },
  );
}
