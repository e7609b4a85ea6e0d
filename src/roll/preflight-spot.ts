// Preflight (pure): a launch template that asks for Spot capacity. EC2 reclaims a Spot Instance two minutes after
// its interruption notice ("Spot Instance interruption notices"), whatever the drain and the hook would allow: the
// agent drains on the notice, but a call longer than that is cut. A warning, not a refusal.
import type { Check } from './finding.js';
import { SPOT_MARGIN_MS, SPOT_NOTICE_MS } from '../agent/drain-machine.js';

/**
 * The instance profile the launch template names: StartInstanceRefresh needs iam:PassRole for its role, and
 * `sipbake iam roll --instance-role` scopes PassRole to exactly that role. Said at plan time, so the policy can
 * be printed for it.
 */
export const instanceProfile: Check = ({ obs, deploy }) => {
  const v = obs.current;
  if (!v?.instanceProfile) return undefined;
  const name = v.instanceProfile.split('/').pop();
  return {
    check: 'instanceProfile',
    level: 'ok',
    message: `launch template ${v.ltName ?? v.ltId} passes instance profile ${name}: the roll role needs iam:PassRole for its role only (sipbake iam roll --image … --launch-template ${v.ltId} --instance-role ROLE; aws iam get-instance-profile --instance-profile-name ${name} names the role; group ${deploy.asgName})`,
  };
};

export const spotOptions: Check = ({ obs, drainMaxSeconds }) => {
  const v = obs.current;
  if (!v || v.marketType !== 'spot') return undefined;
  const budget = (SPOT_NOTICE_MS - SPOT_MARGIN_MS) / 1000;
  return {
    check: 'spotOptions',
    level: 'warn',
    message: `launch template ${v.ltName ?? v.ltId} version ${v.version} launches Spot Instances: on an interruption notice EC2 takes the instance two minutes later, so its drain gets ${budget} s instead of drain.maxSeconds (${drainMaxSeconds} s) and longer calls are cut`,
    fix: 'use On-Demand capacity for the SIP proxies (remove InstanceMarketOptions from the launch template), or accept that Spot interruptions cut calls',
  };
};
