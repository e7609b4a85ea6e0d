// Which part of SipbakeFleet provides what a roll's preflight refused (pure, no CDK), so the refusal says how
// to have it made rather than only how to patch it by hand. Keys are preflight check names (src/roll/preflight.ts).
import type { Finding } from '../roll/finding.js';

const FLEET = 'SipbakeFleet (`sipbake infra IMAGE`, docs/infra.md)';

const INFRA_HINTS: Readonly<Record<string, string>> = {
  groupExists: `${FLEET} creates the group (its autoScalingGroupName is deploy.asgName)`,
  usesLaunchTemplate: `${FLEET} gives the group a launch template (LaunchTemplate)`,
  pinnedVersion: `${FLEET} pins the group to a numbered version (LaunchTemplate.Version = LatestVersionNumber)`,
  healthCheckIsElb: `${FLEET} sets HealthCheckType ELB with a 300 s grace period`,
  targetGroupAttached: `${FLEET} attaches its target group (TargetGroupARNs; output TargetGroupArn0 goes into deploy.targetGroupArns)`,
  requiresImdsV2: `${FLEET} requires IMDSv2 (LaunchTemplateData.MetadataOptions.HttpTokens required)`,
  terminationHook: `${FLEET} creates the termination hook (LifecycleHookSpecificationList, heartbeat drain.maxSeconds + 60 s)`,
  deregistrationDelay: `${FLEET} sets deregistration_delay.timeout_seconds to drain.maxSeconds (at most 3600 s)`,
};

/** The finding with the fleet's way to provide it added to its fix (refusals and warnings only). */
export function withInfraHint(f: Finding): Finding {
  const hint = INFRA_HINTS[f.check];
  if (!hint || (f.level !== 'refuse' && f.level !== 'warn')) return f;
  return { ...f, fix: f.fix ? `${f.fix}; or let ${hint}` : `let ${hint}` };
}
