// docs/examples/github-actions.yml is the CI workflow users copy: it must parse, pass the GitHub Actions
// workflow schema (@action-validator/core, SchemaStore's github-workflow schema), and keep its logic.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { validateWorkflow } from '@action-validator/core';
import { repoRoot } from '../bake/helpers.js';

interface Step {
  id?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
  with?: Record<string, string | number>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  outputs?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  steps: Step[];
}

const file = path.join(repoRoot, 'docs/examples/github-actions.yml');
const load = async () => {
  const text = await readFile(file, 'utf8');
  return { text, wf: parse(text) as { on: Record<string, unknown>; jobs: Record<string, Job> } };
};
const runs = (j: Job): string => j.steps.map((s) => s.run ?? '').join('\n');
const roles = (j: Job): string[] =>
  j.steps.flatMap((s) => (typeof s.with?.['role-to-assume'] === 'string' ? [String(s.with['role-to-assume']).replace(/^.*:role\//, '')] : []));

describe('docs/examples/github-actions.yml', () => {
  it('parses as YAML and passes the GitHub Actions workflow schema', async () => {
    const { text } = await load();
    const state = validateWorkflow(text);
    expect(state.errors).toEqual([]);
  });

  it('the validator would catch the old flow-mapping concurrency with ${{ }} (the check is not vacuous)', () => {
    const old =
      'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    concurrency: { group: roll-${{ github.ref }}, cancel-in-progress: false }\n    steps:\n      - run: echo\n';
    expect(validateWorkflow(old).errors.map((e) => e.code)).toContain('parse_error');
  });

  it('rolls exactly the AMI that `build --json` returned (--ami)', async () => {
    const { wf } = await load();
    const build = wf.jobs.build!;
    const bake = build.steps.find((s) => s.id === 'bake')!;
    expect(bake.run).toMatch(/npx sipbake build "\$IMAGE" --json > build\.json/);
    // jq -e: a missing AMI fails the bake step instead of handing the roll an empty --ami.
    expect(bake.run).toMatch(/ami=\$\(jq -er --arg r "\$AWS_REGION" '\.amis\[\$r\]' build\.json\)\n.*echo "ami=\$ami" >> "\$GITHUB_OUTPUT"/);
    expect(build.outputs?.ami).toBe('${{ steps.bake.outputs.ami }}');
    const roll = wf.jobs.roll!;
    expect(roll.needs).toBe('build');
    const step = roll.steps.find((s) => /sipbake roll/.test(s.run ?? ''))!;
    expect(step.env?.AMI).toBe('${{ needs.build.outputs.ami }}');
    // exec: a cancelled job's SIGINT reaches sipbake (not only the step's shell), so it releases its lease.
    expect(step.run).toMatch(/^exec npx sipbake roll "\$IMAGE" --ami "\$AMI" --yes --json/);
    for (const line of runs(wf.jobs.rollback!)
      .split('\n')
      .filter((l) => /npx sipbake rollback/.test(l)))
      expect(line).toMatch(/exec npx sipbake rollback/);
  });

  it('the rollback job shares the roll concurrency group and cancels a roll in progress; rolls never cancel each other', async () => {
    const { wf } = await load();
    const roll = wf.jobs.roll!.concurrency!;
    const rollback = wf.jobs.rollback!.concurrency!;
    expect(rollback.group).toBe(roll.group);
    expect(roll['cancel-in-progress']).toBe(false);
    expect(rollback['cancel-in-progress']).toBe(true);
    expect(wf.jobs.rollback!.if).toBe("github.event_name == 'workflow_dispatch'");
    expect(runs(wf.jobs.rollback!)).toMatch(/sipbake rollback "\$IMAGE" --previous --yes --json/);
  });

  it('pull requests get build --plan and roll --plan, and change nothing', async () => {
    const { wf } = await load();
    const plan = wf.jobs.plan!;
    expect(plan.if).toBe("github.event_name == 'pull_request'");
    const r = runs(plan);
    expect(r).toMatch(/sipbake build "\$IMAGE" --plan --detailed-exitcode/);
    expect(r).toMatch(/sipbake roll "\$IMAGE" --plan/);
    for (const line of r.split('\n').filter((l) => /npx sipbake (build|roll|rollback)/.test(l))) expect(line).toContain('--plan');
  });

  it('the plan and build jobs install a Packer that can bake, and its amazon plugin, before sipbake build runs', async () => {
    const { wf } = await load();
    const env = (wf as unknown as { env: Record<string, string> }).env;
    const [major, minor] = (env.PACKER_VERSION ?? '').split('.').map(Number);
    expect((major ?? 0) > 1 || (major === 1 && (minor ?? 0) >= 8), `PACKER_VERSION ${env.PACKER_VERSION}`).toBe(true);
    for (const name of ['plan', 'build']) {
      const steps = wf.jobs[name]!.steps;
      const setup = steps.findIndex((s) => /^hashicorp\/setup-packer@/.test(s.uses ?? ''));
      const init = steps.findIndex((s) => /^packer init \.$/.test(s.run ?? ''));
      const build = steps.findIndex((s) => /npx sipbake build/.test(s.run ?? ''));
      expect(setup, `${name}: hashicorp/setup-packer`).toBeGreaterThanOrEqual(0);
      expect(steps[setup]!.with?.version).toBe('${{ env.PACKER_VERSION }}');
      expect(init, `${name}: packer init after setup-packer`).toBeGreaterThan(setup);
      expect(build, `${name}: sipbake build after packer init`).toBeGreaterThan(init);
    }
  });

  it('uses exactly the roles docs/ci.md documents, each job the one meant for it', async () => {
    const { wf } = await load();
    const doc = await readFile(path.join(repoRoot, 'docs/ci.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(sipbake-[a-z]+)` \|/gm)].map((m) => m[1]);
    const used = [...new Set(Object.values(wf.jobs).flatMap(roles))].sort();
    expect(used).toEqual([...documented].sort());
    expect(doc.toLowerCase()).toContain(`${['zero', 'one', 'two', 'three'][documented.length]} roles`);
    expect(roles(wf.jobs.plan!)).toEqual(['sipbake-plan']);
    expect(roles(wf.jobs.build!)).toEqual(['sipbake-bake']);
    expect(roles(wf.jobs.roll!)).toEqual(['sipbake-roll']);
    expect(roles(wf.jobs.rollback!)).toEqual(['sipbake-roll']);
  });

  it('docs/ci.md points at the checked file instead of carrying a second copy of the workflow', async () => {
    const doc = await readFile(path.join(repoRoot, 'docs/ci.md'), 'utf8');
    expect(doc).toContain('docs/examples/github-actions.yml');
    expect(doc).not.toMatch(/```ya?ml[\s\S]*?\njobs:/);
  });
});
