// `sipbake drain INSTANCE-ID`: load (the instance, its group, the termination hook, refreshes), plan (pure: what
// will happen, or why not), apply (one TerminateInstanceInAutoScalingGroup). Auto Scaling then does what a roll
// does to an old instance: deregistration, the hook's Terminating:Wait while the instance's agent drains, and a
// replacement (the desired capacity is kept).
import { DescribeAutoScalingInstancesCommand, DescribeLifecycleHooksCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../../aws/clients.js';
import { describeRefreshes } from '../../roll/observe.js';

const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';
const ACTIVE_REFRESH = ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'];

export interface DrainObserved {
  instanceId: string;
  /** The group Auto Scaling says the instance is in; absent: not in any group. */
  group?: string;
  lifecycle?: string;
  hooks: { name: string; transition: string; heartbeatTimeout: number; defaultResult: string }[];
  /** An instance refresh running on the group (it replaces instances itself). */
  activeRefresh?: { id: string; status: string };
}

export interface DrainTarget {
  image: string;
  asgName: string;
  region: string;
  /** drain.maxSeconds of the image: the longest the agent waits for calls before it cuts them. */
  drainMaxSeconds: number;
  /** deploy.lifecycleHook.name (the hook the agent completes). */
  hookName: string;
}

export type DrainPlan =
  | {
      ok: true;
      instanceId: string;
      asgName: string;
      region: string;
      hook: { name: string; heartbeatTimeout: number; defaultResult: string };
      drainMaxSeconds: number;
      lines: string[];
    }
  | { ok: false; refusal: string; fix: string };

export async function observeDrain(c: Pick<AwsClients, 'autoScaling'>, instanceId: string): Promise<DrainObserved> {
  const r = await c.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
  const i = r.AutoScalingInstances?.[0];
  if (!i?.AutoScalingGroupName) return { instanceId, hooks: [] };
  const group = i.AutoScalingGroupName;
  const h = await c.autoScaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }));
  const [refresh] = (await describeRefreshes(c, group)).filter((x) => ACTIVE_REFRESH.includes(x.status));
  return {
    instanceId,
    group,
    ...(i.LifecycleState ? { lifecycle: i.LifecycleState } : {}),
    hooks: (h.LifecycleHooks ?? []).map((x) => ({
      name: x.LifecycleHookName ?? '',
      transition: x.LifecycleTransition ?? '',
      heartbeatTimeout: x.HeartbeatTimeout ?? 3600,
      defaultResult: x.DefaultResult ?? 'ABANDON',
    })),
    ...(refresh ? { activeRefresh: { id: refresh.id, status: refresh.status } } : {}),
  };
}

/** Pure: the plan, or the one reason not to, with what to do. */
export function planDrain(o: DrainObserved, t: DrainTarget): DrainPlan {
  const no = (refusal: string, fix: string): DrainPlan => ({ ok: false, refusal, fix });
  if (!o.group)
    return no(
      `${o.instanceId} is not in any Auto Scaling group in ${t.region}`,
      `check the id (sipbake status ${t.image} lists the group's instances) and --region`,
    );
  if (o.group !== t.asgName)
    return no(
      `${o.instanceId} is in ${o.group}, not in ${t.asgName} (deploy.asgName of ${t.image})`,
      `give an instance of ${t.asgName}, or the image whose group holds it`,
    );
  if (o.lifecycle !== 'InService')
    return no(
      `${o.instanceId} is ${o.lifecycle ?? 'in an unknown state'}, not InService: ${o.lifecycle?.startsWith('Terminating') ? 'it is already leaving (and draining)' : 'only a serving instance can be drained'}`,
      `watch it with sipbake status ${t.image}`,
    );
  const hook = o.hooks.find((h) => h.transition === TERMINATING && h.name === t.hookName);
  if (!hook)
    return no(
      `${t.asgName} has no termination lifecycle hook named ${t.hookName}: the instance would be terminated without waiting for its calls`,
      'add the hook (sipbake infra, or deploy.lifecycleHook and a roll, which puts it) before draining by hand',
    );
  if (o.activeRefresh)
    return no(
      `instance refresh ${o.activeRefresh.id} is ${o.activeRefresh.status} on ${t.asgName}: it replaces instances itself`,
      `wait for it (sipbake status ${t.image}), or stop it first`,
    );
  const lines = [
    `Drain ${o.instanceId} of ${t.asgName} (${t.image}, ${t.region}):`,
    `  1. TerminateInstanceInAutoScalingGroup, ShouldDecrementDesiredCapacity false: a replacement launches; the desired capacity stays.`,
    `  2. The load balancer deregisters it (its deregistration delay); existing flows stay on it meanwhile.`,
    `  3. Lifecycle hook ${hook.name}: Terminating:Wait, heartbeat timeout ${hook.heartbeatTimeout} s (the agent extends it), default result ${hook.defaultResult}.`,
    `  4. The agent drains: new calls to a serving peer (or 503), up to drain.maxSeconds = ${t.drainMaxSeconds} s for the calls up, then CompleteLifecycleAction CONTINUE.`,
    `  Watch: sipbake status ${t.image}; on the instance: sudo sipbake-status (run/sipbake/drain.json).`,
  ];
  return { ok: true, instanceId: o.instanceId, asgName: t.asgName, region: t.region, hook, drainMaxSeconds: t.drainMaxSeconds, lines };
}

export async function applyDrain(
  c: Pick<AwsClients, 'autoScaling'>,
  instanceId: string,
): Promise<{ activityId?: string; description?: string; statusCode?: string }> {
  const r = await c.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: false }));
  const a = r.Activity;
  return {
    ...(a?.ActivityId ? { activityId: a.ActivityId } : {}),
    ...(a?.Description ? { description: a.Description } : {}),
    ...(a?.StatusCode ? { statusCode: a.StatusCode } : {}),
  };
}
