// The effects of a roll: hook, launch template version, refresh start, rollback, and the record on AWS.
import {
  CancelInstanceRefreshCommand,
  CreateOrUpdateTagsCommand,
  PutLifecycleHookCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  type RefreshPreferences,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients.js';
import { returned } from '../aws/response.js';
import { aws, isAwsError } from '../aws/errors.js';
import { hookTimeoutFor } from './preflight-drain.js';
import { describeRefreshes } from './observe.js';
import { formatMarker, type RollMarker } from './types.js';

export async function ensureTerminationHook(c: AwsClients, asgName: string, hookName: string, drainMaxSeconds: number): Promise<void> {
  await aws(`creating lifecycle hook ${hookName} on ${asgName}`, () =>
    c.autoScaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: asgName,
        LifecycleHookName: hookName,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: hookTimeoutFor(drainMaxSeconds),
        DefaultResult: 'CONTINUE',
      }),
    ),
  );
}

/** A new launch template version: the live one with only ImageId changed. Its description marks it as sipbake's. */
export async function createVersion(c: AwsClients, ltId: string, sourceVersion: number, marker: RollMarker): Promise<number> {
  const out = await aws(`creating a launch template version of ${ltId}`, () =>
    c.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: ltId,
        SourceVersion: String(sourceVersion),
        VersionDescription: formatMarker(marker),
        LaunchTemplateData: { ImageId: marker.ami },
      }),
    ),
  );
  return returned(out.LaunchTemplateVersion?.VersionNumber, 'CreateLaunchTemplateVersion LaunchTemplateVersion.VersionNumber');
}

export async function startRefresh(c: AwsClients, asgName: string, ltId: string, version: number, prefs: RefreshPreferences): Promise<string> {
  const out = await aws(`starting an instance refresh of ${asgName}`, () =>
    c.autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: asgName,
        Strategy: 'Rolling',
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: ltId, Version: String(version) } },
        Preferences: prefs,
      }),
    ),
  );
  return returned(out.InstanceRefreshId, 'StartInstanceRefresh InstanceRefreshId');
}

/** Preferences for the fallback refresh back to the previous version: no checkpoints, no alarms, no bake. */
function fallbackPreferences(p: RefreshPreferences): RefreshPreferences {
  return {
    MinHealthyPercentage: p.MinHealthyPercentage,
    MaxHealthyPercentage: p.MaxHealthyPercentage,
    InstanceWarmup: p.InstanceWarmup,
    SkipMatching: true,
    AutoRollback: false,
    BakeTime: 0,
    ScaleInProtectedInstances: p.ScaleInProtectedInstances,
    StandbyInstances: p.StandbyInstances,
  };
}

export type RollbackStart = { kind: 'aws-rollback'; refreshId: string } | { kind: 'new-refresh'; refreshId: string; why: string };

/**
 * RollbackInstanceRefresh; when AWS refuses (irreversible, or no active refresh any more), a new refresh to the
 * previous version. An irreversible refresh that is still active is cancelled first (`waitInactive` polls).
 */
export async function beginRollback(
  c: AwsClients,
  asgName: string,
  previous: { ltId: string; version: number },
  prefs: RefreshPreferences,
  waitInactive: () => Promise<void>,
): Promise<RollbackStart> {
  try {
    const out = await c.autoScaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: asgName }));
    return {
      kind: 'aws-rollback',
      refreshId: returned(out.InstanceRefreshId, 'RollbackInstanceRefresh InstanceRefreshId'),
    };
  } catch (e) {
    const irreversible = isAwsError(e, /^IrreversibleInstanceRefresh(Fault)?$/);
    if (!irreversible && !isAwsError(e, /^ActiveInstanceRefreshNotFound(Fault)?$/)) throw e;
    // AWS may have started its own rollback (AutoRollback on an alarm) since the last poll: follow it. Never cancel
    // it: CancelInstanceRefresh cancels a rollback in progress too (API reference, CancelInstanceRefresh).
    const awsOwn = await awsRollingBack(c, asgName);
    if (awsOwn) return { kind: 'aws-rollback', refreshId: awsOwn };
    if (irreversible) {
      await aws(`cancelling the irreversible refresh of ${asgName}`, () =>
        c.autoScaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: asgName })),
      ).catch((err: unknown) => {
        if (!isAwsError(err, /^ActiveInstanceRefreshNotFound/)) throw err;
      });
      await waitInactive();
    }
    const refreshId = await startRefresh(c, asgName, previous.ltId, previous.version, fallbackPreferences(prefs));
    return {
      kind: 'new-refresh',
      refreshId,
      why: irreversible ? 'AWS called the refresh irreversible' : 'the refresh had already ended',
    };
  }
}

/** The id of the group's refresh AWS is rolling back now, if any. */
async function awsRollingBack(c: AwsClients, asgName: string): Promise<string | undefined> {
  const refreshes = await aws(`reading the refreshes of ${asgName}`, () => describeRefreshes(c, asgName));
  return refreshes.find((r) => r.status === 'RollbackInProgress')?.id;
}

export async function tagGroup(c: AwsClients, asgName: string, tags: Record<string, string>): Promise<void> {
  await aws(`tagging ${asgName}`, () =>
    c.autoScaling.send(
      new CreateOrUpdateTagsCommand({
        Tags: Object.entries(tags).map(([Key, Value]) => ({
          ResourceId: asgName,
          ResourceType: 'auto-scaling-group',
          Key,
          Value: Value.slice(0, 256),
          PropagateAtLaunch: false,
        })),
      }),
    ),
  );
}
