// configure-aws-credentials exports session keys that die at role-duration-seconds: each job's session must last
// its timeout, and docs/ci.md must say to raise the roles' maximum session duration to that (default 1 h).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
type Step = { uses?: string; with?: Record<string, unknown> };
type Job = { 'timeout-minutes'?: number; steps?: Step[] };

describe('CI credentials last the job', () => {
  it("every job's role-duration-seconds covers its timeout, and docs/ci.md raises the roles' maximum session to the longest", async () => {
    const wf = parse(await readFile(path.join(root, 'docs/examples/github-actions.yml'), 'utf8')) as { jobs: Record<string, Job> };
    const durations: number[] = [];
    for (const [name, job] of Object.entries(wf.jobs)) {
      const creds = job.steps?.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'));
      if (!creds) continue;
      const seconds = Number(creds.with?.['role-duration-seconds'] ?? 3600);
      durations.push(seconds);
      expect(seconds, `${name}: the session keys would die before the job's timeout`).toBeGreaterThanOrEqual((job['timeout-minutes'] ?? 360) * 60);
    }
    const doc = await readFile(path.join(root, 'docs/ci.md'), 'utf8');
    const raised = [...doc.matchAll(/--max-session-duration (\d+)/g)].map((m) => Number(m[1]));
    expect(Math.max(0, ...raised)).toBeGreaterThanOrEqual(Math.max(...durations));
    expect(doc).not.toMatch(/AWS_ROLE_ARN` \+ `AWS_WEB_IDENTITY_TOKEN_FILE`,\s*set by `aws-actions\/configure-aws-credentials`/);
  });
});
