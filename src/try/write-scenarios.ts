// `npm run sipp-scenarios`: writes share/sipp/*.xml from sipp-scenarios.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SCENARIO_DIR, shippedScenarios } from './scenario-files.js';

await mkdir(SCENARIO_DIR, { recursive: true });
for (const [name, text] of Object.entries(shippedScenarios())) {
  await writeFile(path.join(SCENARIO_DIR, name), text);
  console.log(`share/sipp/${name}`);
}
