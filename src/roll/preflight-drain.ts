// Preflight checks of the drain's timing (pure): the termination hook and the deregistration delay, judged by
// AWS's real termination order (drain-timing.ts).
import { globalTimeoutSeconds, timingAdvice, type TimingAdvice } from '../contract/drain-timing.js';
import { ok, refuse, type Check, type PreflightInput } from './finding.js';

/** The advice of src/contract/drain-timing.ts for this group: the real termination order decides it. */
function adviceFor(i: PreflightInput, hookTimeoutSeconds: number): TimingAdvice[] {
  const dereg = Math.max(0, ...i.obs.targetGroups.map((t) => t.deregistrationDelay));
  return timingAdvice({
    deregistrationDelaySeconds: dereg,
    hookTimeoutSeconds,
    drainMaxSeconds: i.drainMaxSeconds,
    pollSeconds: i.drainPollSeconds ?? 5,
    mediaAnchored: i.mediaAnchored ?? true,
  });
}

export function hookTimeoutFor(drainMaxSeconds: number): number {
  return Math.min(7200, drainMaxSeconds + 60);
}

export const terminationHook: Check = (input) => {
  const { obs, deploy, drainMaxSeconds } = input;
  if (!obs.group) return undefined;
  // The one name (deploy.lifecycleHook.name): render writes it into the image manifest for the drain agent.
  const ours = deploy.lifecycleHook.name;
  const terminating = obs.hooks.filter((h) => h.transition === 'autoscaling:EC2_INSTANCE_TERMINATING');
  const hook = terminating.find((h) => h.name === ours);
  const want = hookTimeoutFor(drainMaxSeconds);
  const [other] = terminating;
  if (!hook && other !== undefined)
    return refuse(
      'terminationHook',
      `${deploy.asgName}'s termination hook ${terminating.map((h) => h.name).join(', ')} is not the one the drain agent completes (${ours}): every leaving instance would wait out that hook's timeout`,
      `name it in the image definition (deploy.lifecycleHook.name: ${other.name}), render and bake again, or delete it: aws autoscaling delete-lifecycle-hook --auto-scaling-group-name ${deploy.asgName} --lifecycle-hook-name ${other.name}`,
    );
  if (!hook) {
    if (deploy.lifecycleHook.create)
      return {
        check: 'terminationHook',
        level: 'act',
        message: `will create termination lifecycle hook ${deploy.lifecycleHook.name} (heartbeat timeout ${want} s ≥ drain.maxSeconds ${drainMaxSeconds} s, default CONTINUE)`,
      };
    return {
      check: 'terminationHook',
      level: 'warn',
      message: `${deploy.asgName} has no termination lifecycle hook: leaving instances are terminated without draining their calls`,
      fix: `set deploy.lifecycleHook.create: true, or aws autoscaling put-lifecycle-hook --auto-scaling-group-name ${deploy.asgName} --lifecycle-hook-name ${deploy.lifecycleHook.name} --lifecycle-transition autoscaling:EC2_INSTANCE_TERMINATING --heartbeat-timeout ${want} --default-result CONTINUE`,
    };
  }
  // While the agent heartbeats, only the global timeout (100 x HeartbeatTimeout) ends the wait (drain-timing.ts).
  const hookWarning = adviceFor(input, hook.heartbeatTimeout).find((a) => a.field === 'hookTimeout' && a.level === 'warning');
  if (hookWarning)
    return {
      check: 'terminationHook',
      level: 'warn',
      message: `termination hook ${hook.name}: ${hookWarning.message}`,
      fix: `aws autoscaling put-lifecycle-hook --auto-scaling-group-name ${deploy.asgName} --lifecycle-hook-name ${hook.name} --lifecycle-transition autoscaling:EC2_INSTANCE_TERMINATING --heartbeat-timeout ${want} --default-result ${hook.defaultResult}`,
    };
  return ok(
    'terminationHook',
    `termination hook ${hook.name}: heartbeat timeout ${hook.heartbeatTimeout} s, heartbeats keep it open up to ${globalTimeoutSeconds(hook.heartbeatTimeout)} s ≥ drain.maxSeconds ${drainMaxSeconds} s`,
  );
};

/**
 * The agent waits for its lifecycle action at most drain.maxSeconds + the hook timeout after the pick; the action
 * exists only once the deregistration delay is over ("How lifecycle hooks work", steps 4-5). A longer delay: the
 * agent has given up when it appears, and every instance then waits out the whole hook timeout. Refused.
 */
function outlastsTheDrain(input: PreflightInput, hookSeconds: number): ReturnType<Check> {
  const limit = input.drainMaxSeconds + hookSeconds;
  const long = input.obs.targetGroups.filter((t) => t.deregistrationDelay > limit);
  if (!long.length) return undefined;
  return refuse(
    'deregistrationDelay',
    `deregistration delay ${long.map((t) => `${t.name} ${t.deregistrationDelay} s`).join(', ')} outlasts the drain: the agent stops waiting after drain.maxSeconds ${input.drainMaxSeconds} s + hook timeout ${hookSeconds} s = ${limit} s, before the lifecycle action exists, so every replaced instance would wait out the hook timeout as well`,
    long
      .map(
        (t) =>
          `aws elbv2 modify-target-group-attributes --target-group-arn ${t.arn} --attributes Key=deregistration_delay.timeout_seconds,Value=${Math.min(3600, input.drainMaxSeconds)}`,
      )
      .join('; '),
  );
}

export const deregistrationDelay: Check = (input) => {
  const { obs, drainMaxSeconds, deploy } = input;
  if (obs.targetGroups.length === 0) return undefined;
  const hook = obs.hooks.find((h) => h.name === deploy.lifecycleHook.name);
  const advice = adviceFor(input, hook?.heartbeatTimeout ?? hookTimeoutFor(drainMaxSeconds)).filter((a) => a.field === 'deregistrationDelay');
  const warning = advice.find((a) => a.level === 'warning');
  const delays = obs.targetGroups.map((t) => `${t.name} ${t.deregistrationDelay} s`).join(', ');
  const outlast = outlastsTheDrain(input, hook?.heartbeatTimeout ?? hookTimeoutFor(drainMaxSeconds));
  if (outlast) return outlast;
  if (!warning) return ok('deregistrationDelay', `deregistration delay ${delays}${advice[0] ? `: ${advice[0].message}` : ''}`);
  // With media on the instance the delay must cover the drain; without, a short delay only saves time.
  const want = (input.mediaAnchored ?? true) ? Math.min(3600, drainMaxSeconds) : 30;
  return {
    check: 'deregistrationDelay',
    level: 'warn',
    message: `target group ${delays}: ${warning.message}`,
    fix: obs.targetGroups
      .filter((t) => t.deregistrationDelay !== want)
      .map((t) => `aws elbv2 modify-target-group-attributes --target-group-arn ${t.arn} --attributes Key=deregistration_delay.timeout_seconds,Value=${want}`)
      .join('; '),
  };
};
