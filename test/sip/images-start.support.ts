// Helpers for images-start.live.test.ts: the image names are listed synchronously for it.each.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/index.js';

export { freePort, makeTmpDir, renderDefinition, seedDefinition, startKamailio, type TmpDir } from '../support/index.js';

export function listImagesForTest(): string[] {
  return readdirSync(path.join(REPO_ROOT, 'images'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}
