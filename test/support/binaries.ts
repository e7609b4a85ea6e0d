// vitest globalSetup of the live project: says in one line which Kamailio and which RTPProxy the live suites run
// (vitest.config.ts put the pinned builds first on their PATH when .ci/upstream.sh made them), and writes it to
// .vitest-binaries.json for .ci/run's summary.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { rtpproxyBinary } from '../../src/try/upstream.js';
import { REPO_ROOT } from './image.js';

export interface LiveBinaries {
  kamailio: string;
  kamailioPath: string;
  rtpproxy: string;
  rtpproxyPath?: string;
}

function firstLine(cmd: string, args: string[], env: NodeJS.ProcessEnv): string {
  try {
    return (
      execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 })
        .split('\n')[0]
        ?.trim() ?? ''
    );
  } catch (e) {
    return (e as { stdout?: string }).stdout?.split('\n')[0]?.trim() ?? '';
  }
}

/** What `kamailio` and `rtpproxy` resolve to under this environment. */
export function liveBinaries(env: NodeJS.ProcessEnv = process.env): LiveBinaries {
  const which = (b: string): string => firstLine('sh', ['-c', `command -v ${b}`], env);
  const kamailioPath = which('kamailio');
  const kamailio = firstLine('kamailio', ['-v'], env).replace(/^version:\s*/, '') || 'kamailio not found';
  const rtpproxyPath = rtpproxyBinary(env);
  const rtpproxy = rtpproxyPath ? `rtpproxy ${firstLine(rtpproxyPath, ['-V'], env)}` : 'the Node RTPProxy stand-in (no rtpproxy binary)';
  return { kamailio, kamailioPath, rtpproxy, ...(rtpproxyPath ? { rtpproxyPath } : {}) };
}

export default function setup(project: TestProject): void {
  const env = { ...process.env, ...(project.config.env as NodeJS.ProcessEnv) };
  const b = liveBinaries(env);
  const line = `live suites run ${b.kamailio} (${b.kamailioPath}) and ${b.rtpproxy}${b.rtpproxyPath ? ` (${b.rtpproxyPath})` : ''}`;
  console.log(`==> ${line}${env.SIPBAKE_UPSTREAM_DIR ? '' : '; no pinned build (run .ci/setup with ../shared/upstream present)'}`);
  writeFileSync(path.join(REPO_ROOT, '.vitest-binaries.json'), `${JSON.stringify({ ...b, summary: line }, null, 2)}\n`);
}
