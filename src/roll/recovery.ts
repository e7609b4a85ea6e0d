// The lines a person (or a cancelled CI job) needs after a roll or rollback is interrupted: the refresh goes
// on in AWS; these are the exact commands to follow it, resume watching, or roll back. Pure.
// runRoll registers them through RollDeps.onInterrupt once its refresh has started.

export interface RefreshRecovery {
  kind: 'roll' | 'rollback';
  image: string;
  refreshId: string;
  asgName: string;
  region: string;
  /** The AMI being rolled to (for the resume command). */
  to?: string;
  /** The AMI the group ran before (for a pinned rollback); --previous otherwise. */
  from?: string;
  /** Passed on to the printed commands when the user gave them. */
  profile?: string;
  regionFlag?: boolean;
}

export function refreshRecoveryLines(r: RefreshRecovery): string[] {
  const opts = `${r.regionFlag ? ` --region ${r.region}` : ''}${r.profile ? ` --profile ${r.profile}` : ''}`;
  const back = r.from ? `--to ${r.from}` : '--previous';
  return [
    `instance refresh ${r.refreshId} of ${r.asgName} (${r.region}) goes on in AWS; sipbake only stopped watching it.`,
    `  follow it:     sipbake status ${r.image}${opts}`,
    ...(r.kind === 'roll' && r.to ? [`  watch again:   sipbake roll ${r.image} --ami ${r.to}${opts}   (attaches to the same refresh)`] : []),
    `  roll back:     sipbake rollback ${r.image} ${back}${opts}`,
  ];
}
