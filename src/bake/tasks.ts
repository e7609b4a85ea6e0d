// The listr2 task lists of a build, each returned with its typed context and run by index.ts.
import { Listr } from 'listr2';
import type { BuildState } from './state.js';

export type Renderer = 'default' | 'simple' | 'silent';

/** Default renderer on a TTY, the plain one in CI or when piped, none with --json (lines go to stderr). */
export function pickRenderer(o: { json: boolean; env: NodeJS.ProcessEnv; isTTY: boolean }): Renderer {
  if (o.json) return 'silent';
  if (o.env.CI || !o.isTTY) return 'simple';
  return 'default';
}

export interface Step {
  title: string;
  run: (state: BuildState, setOutput: (line: string) => void, setTitle: (title: string) => void) => Promise<void>;
}

export function taskList(steps: Step[], state: BuildState, renderer: Renderer): Listr<BuildState, Renderer> {
  return new Listr<BuildState, Renderer, 'simple'>(
    steps.map((s) => ({
      title: s.title,
      task: async (ctx: BuildState, task) => {
        await s.run(
          ctx,
          (line) => (task.output = line),
          (title) => (task.title = title),
        );
      },
    })),
    { renderer, fallbackRenderer: 'simple', registerSignalListeners: false, exitOnError: true, ctx: state },
  );
}
