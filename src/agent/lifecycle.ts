import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { UserError } from '../core/errors.js';
import type { Log } from './log.js';

// The instance's side of the termination lifecycle hook. The ASG name is not in IMDS, so it comes from
// DescribeAutoScalingInstances with our instance id; the hook name from the manifest (render writes deploy.lifecycleHook.name there).

export interface LifecycleHook {
  /** Resolves the ASG and the hook's HeartbeatTimeout (falls back to the configured one). */
  prepare(): Promise<{ asgName: string; hookName: string; heartbeatTimeoutSeconds: number }>;
  heartbeat(): Promise<void>;
  complete(): Promise<void>;
}

export interface LifecycleOptions {
  autoScaling: Pick<AutoScalingClient, 'send'>;
  instanceId: string;
  hookName: string;
  fallbackHeartbeatTimeoutSeconds: number;
  log: Log;
}

export function lifecycleHook(o: LifecycleOptions): LifecycleHook {
  let asg: Promise<string> | undefined;
  const asgName = () =>
    (asg ??= o.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [o.instanceId] })).then((out) => {
      const name = out.AutoScalingInstances?.[0]?.AutoScalingGroupName;
      if (!name) {
        asg = undefined;
        throw new UserError(
          `instance ${o.instanceId} is not in any Auto Scaling group (DescribeAutoScalingInstances)`,
          'the drain agent can only complete lifecycle actions for ASG instances',
        );
      }
      return name;
    }));
  const ids = async () => ({
    AutoScalingGroupName: await asgName(),
    LifecycleHookName: o.hookName,
    InstanceId: o.instanceId,
  });
  return {
    async prepare() {
      const name = await asgName();
      try {
        const out = await o.autoScaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: name, LifecycleHookNames: [o.hookName] }));
        const hook = out.LifecycleHooks?.[0];
        if (!hook) {
          o.log(`lifecycle hook ${o.hookName} not found on ${name}: Auto Scaling may not wait for the drain; run sipbake roll to create it`);
        } else if (hook.HeartbeatTimeout) {
          return { asgName: name, hookName: o.hookName, heartbeatTimeoutSeconds: hook.HeartbeatTimeout };
        }
      } catch (e) {
        o.log(
          `cannot read lifecycle hook ${o.hookName} on ${name} (${e instanceof Error ? e.name : String(e)}): assuming a ${o.fallbackHeartbeatTimeoutSeconds} s heartbeat timeout`,
        );
      }
      return { asgName: name, hookName: o.hookName, heartbeatTimeoutSeconds: o.fallbackHeartbeatTimeoutSeconds };
    },
    async heartbeat() {
      await o.autoScaling.send(new RecordLifecycleActionHeartbeatCommand(await ids()));
    },
    async complete() {
      await o.autoScaling.send(new CompleteLifecycleActionCommand({ ...(await ids()), LifecycleActionResult: 'CONTINUE' }));
    },
  };
}
