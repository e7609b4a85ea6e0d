import type { ImageDefinition } from '../definition/schema.js';
import type { ContentParts } from './hash.js';
import type { Decision } from './decide.js';
import type { FoundImage } from './lookup.js';

/** After "Validate and render": the definition, loaded once and handed on, and what it rendered to. */
interface Rendered {
  image: ImageDefinition;
  modules: string[];
  template: { template: string; plugins: string };
}

/** After "Content hash". */
interface Prepared extends Rendered {
  parts: ContentParts;
  hash: string;
}

/** After "Look up AMIs with this content": what the build does next. */
interface Decided extends Prepared {
  /** The build region first, then bake.amiRegions. */
  regions: string[];
  region: string;
  found: Record<string, FoundImage | undefined>;
  decision: Decision;
  previous?: FoundImage;
}

/** The listr2 context: each stage leaves its typed result for the next. */
export interface BuildState {
  bakeDir: string;
  rendered?: Rendered;
  prepared?: Prepared;
  decided?: Decided;
  amis?: Record<string, string>;
  stages: string[];
}

/** A stage's result, which the stages before it must have left (a bug in the step order otherwise). */
export function need<T>(value: T | undefined, stage: string): T {
  if (value === undefined) throw new Error(`internal: the build stage "${stage}" has not run`);
  return value;
}
