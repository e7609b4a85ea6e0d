import type { ImageDefinition } from '../definition/schema.js';
import type { ContentParts } from './hash.js';
import type { Decision } from './decide.js';
import type { FoundImage } from './lookup.js';

/** What a build learns as it goes; the listr2 context. */
export interface BuildState {
  bakeDir: string;
  image?: ImageDefinition;
  modules?: string[];
  template?: { template: string; plugins: string };
  parts?: ContentParts;
  hash?: string;
  regions?: string[];
  found?: Record<string, FoundImage | undefined>;
  decision?: Decision;
  previous?: FoundImage;
  amis?: Record<string, string>;
  stages: string[];
}
