// Build progress as NDJSON events (Reporter.event: one JSON line on stderr with --json), so a CI log shows a
// bake's stages and Packer's own lines as they happen, while stdout stays the one result document.
import type { Reporter } from '../core/reporter.js';
import type { Step } from './tasks.js';

/** Wraps steps so each start, end and failure is an event: {"event":"stage","stage":…,"state":…,"seconds":…}. */
export function withStageEvents(steps: Step[], reporter: Reporter, now: () => number = Date.now): Step[] {
  return steps.map((s) => ({
    ...s,
    run: async (state, out, title) => {
      const t0 = now();
      reporter.event({ event: 'stage', stage: s.title, state: 'started' });
      try {
        await s.run(state, out, title);
        reporter.event({
          event: 'stage',
          stage: s.title,
          state: 'done',
          seconds: Math.round((now() - t0) / 100) / 10,
        });
      } catch (e) {
        reporter.event({
          event: 'stage',
          stage: s.title,
          state: 'failed',
          seconds: Math.round((now() - t0) / 100) / 10,
          reason: e instanceof Error ? e.message : String(e),
        });
        throw e;
      }
    },
  }));
}
