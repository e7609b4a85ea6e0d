// The SIPp scenarios shipped as sipbake's own data (share/sipp/), so the command `try` prints works from any
// directory: SIPp's built-in `uac` ignores Record-Route (its ACK and BYE go to the wrong place and get 404),
// these follow the route set. The files are generated from sipp-scenarios.ts (`npm run sipp-scenarios`) and a
// test keeps them equal.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { uacScenario, uasScenario } from './sipp-scenarios.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCENARIO_DIR = path.join(packageRoot, 'share', 'sipp');

/** File name → its content (pure). */
export function shippedScenarios(): Record<string, string> {
  return { 'sipbake-uac.xml': uacScenario(), 'sipbake-uas.xml': uasScenario() };
}

export const UAC_SCENARIO = path.join(SCENARIO_DIR, 'sipbake-uac.xml');
