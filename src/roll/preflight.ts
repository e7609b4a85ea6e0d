// Preflight of a roll (pure): each check is a named predicate over the observed state that returns one finding
// with a sentence and, for refusals, the fix. Nothing here talks to AWS.
import { AMI_TAG } from '../contract/tags.js';
import { ok, refuse, type Check, type Finding, type PreflightInput } from './finding.js';
import { deregistrationDelay, terminationHook } from './preflight-drain.js';
import { instanceProfile, spotOptions } from './preflight-spot.js';
import { withInfraHint } from '../infra/preflight-hints.js';

/** AWS's own limits on StartInstanceRefresh (API reference, RefreshPreferences and AlarmSpecification). */
export const REFRESH_LIMITS = { alarms: 10, checkpointDelay: 172800, bakeTime: 172800 } as const;

const groupExists: Check = ({ obs, deploy }) =>
  obs.group
    ? ok('groupExists', `Auto Scaling group ${deploy.asgName} found (${obs.group.instances.length} instances, desired ${obs.group.desired})`)
    : refuse(
        'groupExists',
        `Auto Scaling group ${deploy.asgName} does not exist in ${deploy.region}`,
        'check deploy.asgName and deploy.region in the image definition, or --region',
      );

const usesLaunchTemplate: Check = ({ obs, deploy }) => {
  const g = obs.group;
  if (!g) return undefined;
  if (g.launchConfigurationName)
    return refuse(
      'usesLaunchTemplate',
      `${deploy.asgName} uses launch configuration ${g.launchConfigurationName}; instance refresh rollback needs a launch template`,
      'migrate the group to a launch template (aws ec2 create-launch-template … then aws autoscaling update-auto-scaling-group --launch-template …)',
    );
  if (g.mixedInstancesPolicy || !g.launchTemplate)
    return refuse(
      'usesLaunchTemplate',
      `${deploy.asgName} has no plain launch template (mixed instances policies are not supported)`,
      'give the group a launch template with a numbered version',
    );
  return ok('usesLaunchTemplate', `uses launch template ${g.launchTemplate.name ?? g.launchTemplate.id}`);
};

const pinnedVersion: Check = ({ obs, deploy }) => {
  const lt = obs.group?.launchTemplate;
  if (!lt) return undefined;
  if (!lt.version.startsWith('$')) return ok('pinnedVersion', `references launch template version ${lt.version}`);
  const n = obs.current?.version ?? 'N';
  return refuse(
    'pinnedVersion',
    `${deploy.asgName} references launch template version ${lt.version}: a refresh to ${lt.version} never notices a new version, and a rollback has nothing to return to`,
    `pin the version it runs today: aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${deploy.asgName} --launch-template LaunchTemplateId=${lt.id},Version=${n}`,
  );
};

const healthCheckIsElb: Check = ({ obs, deploy }) => {
  const g = obs.group;
  if (!g) return undefined;
  // HealthCheckType is a comma-separated list (e.g. "ELB,EBS"); EC2 checks are always on (UpdateAutoScalingGroup).
  const types = g.healthCheckType.split(',').map((t) => t.trim());
  if (types.includes('ELB')) return ok('healthCheckIsElb', `health check type ${g.healthCheckType} includes ELB`);
  return refuse(
    'healthCheckIsElb',
    `${deploy.asgName} uses ${g.healthCheckType} health checks: the refresh would call an instance healthy before the load balancer does`,
    `aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${deploy.asgName} --health-check-type ELB --health-check-grace-period 300`,
  );
};

const targetGroupAttached: Check = ({ obs, deploy }) => {
  const g = obs.group;
  if (!g) return undefined;
  if (obs.missingTargetGroups.length > 0)
    return refuse(
      'targetGroupAttached',
      `target group ${obs.missingTargetGroups.join(', ')} does not exist`,
      'fix deploy.targetGroupArns in the image definition',
    );
  const detached = deploy.targetGroupArns.filter((a) => !g.targetGroupArns.includes(a));
  if (g.targetGroupArns.length === 0 || detached.length > 0)
    return refuse(
      'targetGroupAttached',
      `${detached.length ? `target group ${detached.join(', ')} is` : 'no target group is'} attached to ${deploy.asgName}; new instances would never be health-gated`,
      `aws autoscaling attach-load-balancer-target-groups --auto-scaling-group-name ${deploy.asgName} --target-group-arns ${(detached.length ? detached : deploy.targetGroupArns).join(' ')}`,
    );
  return ok('targetGroupAttached', `${g.targetGroupArns.length} target group(s) attached`);
};

/** An active refresh that sipbake started for the same AMI is resumed, not refused. */
export function resumableRefresh(i: PreflightInput): string | undefined {
  const marker = i.obs.active?.desired?.marker;
  return marker && marker.image === i.image && marker.ami === i.amiId ? i.obs.active?.refresh.id : undefined;
}

const noActiveRefresh: Check = (i) => {
  const active = i.obs.active?.refresh;
  if (!active) return ok('noActiveRefresh', 'no instance refresh is active');
  if (resumableRefresh(i)) return ok('noActiveRefresh', `attaching to refresh ${active.id} that sipbake started for ${i.amiId}`);
  const marker = i.obs.active?.desired?.marker;
  const who = marker ? `sipbake's roll of ${marker.image} to ${marker.ami}` : 'a refresh sipbake did not start';
  return refuse(
    'noActiveRefresh',
    `instance refresh ${active.id} (${who}) is ${active.status} on ${i.deploy.asgName}; a second one would be refused by AWS`,
    `wait for it (sipbake status ${i.image})${marker && marker.image === i.image ? `, attach to it (sipbake roll ${i.image} --ami ${marker.ami})` : ''}, or cancel it: aws autoscaling cancel-instance-refresh --auto-scaling-group-name ${i.deploy.asgName}`,
  );
};

const amiUsable: Check = ({ obs, amiId, image }) => {
  const t = obs.target;
  if (!t || t.state === 'missing' || t.state === 'deregistered')
    return refuse('amiUsable', `AMI ${amiId} does not exist or was deregistered`, `pick one from \`sipbake history ${image}\``);
  if (t.state === 'disabled')
    return refuse(
      'amiUsable',
      `AMI ${amiId} is disabled`,
      `re-enable it (aws ec2 enable-image --image-id ${amiId}) or pick another from \`sipbake history ${image}\``,
    );
  if (t.state !== 'available') return refuse('amiUsable', `AMI ${amiId} is ${t.state}, not available`, 'wait until the bake finishes, or pick another AMI');
  return ok('amiUsable', `AMI ${amiId} is available`);
};

const amiOfThisImage: Check = ({ obs, image, amiId }) => {
  const t = obs.target;
  if (!t || t.state === 'missing') return undefined;
  const tagged = t.tags[AMI_TAG.image];
  if (tagged === image) return ok('amiOfThisImage', `AMI ${amiId} is tagged sipbake:image=${image}`);
  return refuse(
    'amiOfThisImage',
    `AMI ${amiId} is ${tagged ? `an AMI of image ${tagged}` : 'not a sipbake AMI (no sipbake:image tag)'}, not of ${image}`,
    `roll an AMI built from this image: \`sipbake history ${image}\` lists them`,
  );
};

const sameArchitecture: Check = ({ obs }) => {
  const t = obs.target;
  const c = obs.currentAmi;
  if (!t?.architecture || !c?.architecture || c.state === 'missing') return undefined;
  if (t.architecture === c.architecture) return ok('sameArchitecture', `architecture ${t.architecture} matches the live AMI`);
  return refuse(
    'sameArchitecture',
    `AMI ${t.imageId} is ${t.architecture} but the group runs ${c.architecture} (${c.imageId}); the instance type would not boot it`,
    'bake the image for the same architecture, or change the instance type in the launch template first',
  );
};

const requiresImdsV2: Check = ({ obs, deploy }) => {
  const v = obs.current;
  if (!v) return undefined;
  if (v.httpTokens === 'required') return ok('requiresImdsV2', 'launch template requires IMDSv2');
  // An AMI registered with ImdsSupport v2.0 (sipbake bakes with imds_support = "v2.0") launches with HttpTokens
  // required unless the launch template sets it explicitly ("Configure the AMI" in the EC2 user guide).
  const target = obs.target;
  if (v.httpTokens === undefined && target?.imdsSupport === 'v2.0')
    return ok('requiresImdsV2', `launch template leaves HttpTokens unset and AMI ${target.imageId} has ImdsSupport v2.0: IMDSv2 is required`);
  return refuse(
    'requiresImdsV2',
    `launch template ${v.ltName ?? v.ltId} version ${v.version} does not require IMDSv2 (HttpTokens=${v.httpTokens}); the drain agent relies on it`,
    `aws ec2 create-launch-template-version --launch-template-id ${v.ltId} --source-version ${v.version} --launch-template-data '{"MetadataOptions":{"HttpTokens":"required","HttpEndpoint":"enabled"}}' and pin ${deploy.asgName} to the new version`,
  );
};

/** Heartbeat timeout the created hook gets: the image's longest drain plus a minute of slack. */
const alarmsExist: Check = ({ obs, deploy }) => {
  if (deploy.refresh.alarms.length === 0) return undefined;
  if (obs.missingAlarms.length === 0) return ok('alarmsExist', `alarms ${deploy.refresh.alarms.join(', ')} exist`);
  return refuse(
    'alarmsExist',
    `CloudWatch alarm ${obs.missingAlarms.join(', ')} does not exist in ${deploy.region}`,
    'create it, or fix deploy.refresh.alarms in the image definition',
  );
};

/** AWS rejects these in StartInstanceRefresh: refuse before anything (a launch template version) is created. */
const refreshWithinLimits: Check = ({ deploy }) => {
  const r = deploy.refresh;
  const over = [
    ...(r.alarms.length > REFRESH_LIMITS.alarms ? [`deploy.refresh.alarms has ${r.alarms.length} alarms (AWS allows ${REFRESH_LIMITS.alarms})`] : []),
    ...(r.checkpointDelay > REFRESH_LIMITS.checkpointDelay
      ? [`deploy.refresh.checkpointDelay ${r.checkpointDelay} s is above AWS's ${REFRESH_LIMITS.checkpointDelay} s`]
      : []),
    ...(r.bakeTime > REFRESH_LIMITS.bakeTime ? [`deploy.refresh.bakeTime ${r.bakeTime} s is above AWS's ${REFRESH_LIMITS.bakeTime} s`] : []),
  ];
  if (over.length === 0) return undefined;
  return refuse('refreshWithinLimits', `${over.join('; ')}: StartInstanceRefresh would be rejected`, 'lower the value in the image definition');
};

const checks: Check[] = [
  refreshWithinLimits,
  groupExists,
  usesLaunchTemplate,
  pinnedVersion,
  healthCheckIsElb,
  targetGroupAttached,
  noActiveRefresh,
  amiUsable,
  amiOfThisImage,
  sameArchitecture,
  requiresImdsV2,
  terminationHook,
  deregistrationDelay,
  alarmsExist,
  spotOptions,
  instanceProfile,
];

export function preflight(i: PreflightInput): Finding[] {
  return checks
    .map((c) => c(i))
    .filter((f): f is Finding => f !== undefined)
    .map(withInfraHint);
}
