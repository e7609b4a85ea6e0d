// Human lines for a roll plan (pure). The same plan is the --json document.
import type { Finding } from './finding.js';
import type { RollPlan } from './plan.js';

const mark: Record<Finding['level'], string> = { ok: 'ok    ', warn: 'warn  ', act: 'will  ', refuse: 'REFUSE' };

export function duration(s: number): string {
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60 ? `${s % 60} s` : ''}`.trim() : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatFindings(findings: Finding[]): string[] {
  const out: string[] = [];
  for (const f of findings) {
    out.push(`  ${mark[f.level]} ${f.check}: ${f.message}`);
    if (f.fix && f.level !== 'ok') out.push(`         fix: ${f.fix}`);
  }
  return out;
}

export function formatPlan(p: RollPlan): string[] {
  const out = [`roll plan for ${p.image} → ${p.asgName}: ${p.mode}`];
  for (const r of p.reasons) out.push(`  why: ${r}`);
  if (p.from) out.push(`  live: launch template ${p.from.ltId} version ${p.from.version}, ${p.from.ami ?? 'unknown AMI'}`);
  const fleet = Object.entries(p.fleet);
  if (fleet.length) out.push(`  instances in service: ${fleet.map(([ami, n]) => `${n} on ${ami}`).join(', ')}`);
  out.push(`  target: ${p.to.ami}`);
  out.push('  AMI diff:');
  for (const d of p.amiDiff) out.push(`    ${d.tag.padEnd(18)} ${d.from ?? '-'}${d.from === d.to ? ' (same)' : ` → ${d.to ?? '-'}`}`);
  if (p.createVersion) {
    out.push('  launch template diff (new version, SourceVersion = live version):');
    for (const d of p.ltDiff) out.push(`    ${d.field}: ${d.from ?? '-'} → ${d.to ?? '-'}`);
  } else out.push(`  launch template: no new version; the refresh brings every instance onto version ${p.from?.version ?? '?'}`);
  const pr = p.preferences;
  out.push(
    `  refresh: min ${pr.MinHealthyPercentage}% max ${pr.MaxHealthyPercentage}% warm-up ${pr.InstanceWarmup} s, checkpoints ${pr.CheckpointPercentages?.join('/') ?? 'none'}` +
      `${pr.CheckpointDelay !== undefined ? ` (delay ${pr.CheckpointDelay} s)` : ''}, bake ${pr.BakeTime} s, skip matching ${pr.SkipMatching}, auto rollback ${pr.AutoRollback}, ` +
      `alarms ${pr.AlarmSpecification?.Alarms?.join(', ') ?? 'none'}, scale-in protected ${pr.ScaleInProtectedInstances}, standby ${pr.StandbyInstances}`,
  );
  out.push(`  batches (${p.batches.length}):`);
  p.batches.forEach((b, n) =>
    out.push(`    ${n + 1}. launch ${b.launch}, then terminate ${b.terminate}${b.checkpoint ? `; checkpoint ${b.checkpoint}%` : ''}`),
  );
  out.push(`  expected duration: ${duration(p.expectedSeconds)} (up to ${duration(p.worstCaseSeconds)} while calls drain)`);
  out.push('  checks:');
  out.push(...formatFindings(p.findings));
  return out;
}
