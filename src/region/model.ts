// Plain data the stateful AWS fake keeps. See README.md in this folder for the behaviour.

type ImageState = 'available' | 'pending' | 'failed' | 'deregistered' | 'disabled';

export interface FakeImage {
  ImageId: string;
  Name: string;
  State: ImageState;
  Architecture: 'x86_64' | 'arm64';
  CreationDate: string;
  Tags: Record<string, string>;
  /** Simulated ms when it was deregistered: DescribeImages by id still shows it for an hour, as AWS does. */
  deregisteredAt?: number;
  /** How instances launched from it behave behind the target groups. */
  health: 'healthy' | 'unhealthy';
  /**
   * A slow boot of a good image: seconds from InService until its service answers health checks. Meanwhile ELB
   * reports the target `unhealthy` once UnhealthyThresholdCount checks have failed, then `healthy` after
   * HealthyThresholdCount passing ones (ELB user guide, "Health checks for Network Load Balancer target groups").
   */
  appSeconds?: number;
  /** Simulated ms a pending image becomes available (CreateImage, CopyImage). */
  availableAt?: number;
  /** Until this simulated ms, DescribeImages by id answers InvalidAMIID.NotFound (eventual consistency). */
  visibleAt?: number;
  /** EBS encryption of its snapshots: the key is alias/aws/ebs (AWS managed) unless a KmsKeyId was given. */
  encrypted?: boolean;
  kmsKeyId?: string;
  snapshotIds?: string[];
  /** ImdsSupport v2.0: instances launched from it require IMDSv2 whatever the launch template says. */
  ImdsSupport?: 'v2.0';
  DeprecationTime?: string;
  /** Account ids with launch permission (ModifyImageAttribute). */
  launchPermissions?: string[];
  OwnerId?: string;
  RootDeviceType?: string;
  VirtualizationType?: string;
}

/** A plain EC2 instance outside any group (Packer's build instance). */
export interface FakeEc2Instance {
  InstanceId: string;
  ImageId: string;
  State: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  Tags: Record<string, string>;
  launchedAt: number;
  MetadataOptions?: Record<string, unknown>;
  SecurityGroupIds: string[];
  KeyName?: string;
}

export interface FakeSecurityGroup {
  GroupId: string;
  GroupName: string;
  VpcId?: string;
  ingress: { IpProtocol: string; FromPort?: number; ToPort?: number; CidrIp: string }[];
}

interface FakeLtVersion {
  VersionNumber: number;
  VersionDescription?: string;
  CreateTime: Date;
  /** HttpTokens undefined: the launch template leaves MetadataOptions.HttpTokens unset (the AMI's ImdsSupport decides). */
  data: {
    ImageId: string;
    InstanceType: string;
    HttpTokens?: 'required' | 'optional' | undefined;
    [k: string]: unknown;
  };
}

export interface FakeLaunchTemplate {
  LaunchTemplateId: string;
  LaunchTemplateName: string;
  DefaultVersionNumber: number;
  versions: FakeLtVersion[];
}

type LifecycleState = 'Pending' | 'InService' | 'Terminating' | 'Terminating:Wait' | 'Terminating:Proceed' | 'Terminated' | 'Standby';

/** A termination lifecycle action: the instance waits in Terminating:Wait until it is completed or times out. */
export interface FakeLifecycleAction {
  LifecycleHookName: string;
  AutoScalingGroupName: string;
  startedAt: number;
  /** Restarted by every RecordLifecycleActionHeartbeat: now + HeartbeatTimeout. */
  timeoutAt: number;
  /** startedAt + min(100 × HeartbeatTimeout, 48 h): heartbeats cannot extend the wait past it. */
  globalTimeoutAt: number;
  defaultResult: 'CONTINUE' | 'ABANDON';
  heartbeats: number[];
  result?: 'CONTINUE' | 'ABANDON';
  /** How it ended: CompleteLifecycleAction, the simulated drain agent, or the timeout (DefaultResult). */
  endedBy?: 'complete' | 'agent' | 'timeout';
  endedAt?: number;
}

export interface FakeInstance {
  InstanceId: string;
  asg: string;
  ltId: string;
  ltVersion: number;
  ImageId: string;
  LifecycleState: LifecycleState;
  launchedAt: number;
  /** Eventual consistency: EC2 and ELB know the id from this simulated ms (launch + consistencyLagSeconds). */
  knownAt?: number;
  inServiceAt: number;
  /** When the target groups see it healthy (or unhealthy); undefined before it is registered. */
  healthAt: number;
  health: 'healthy' | 'unhealthy';
  /** A slow-booting good instance: ELB reports it unhealthy from here until healthAt (see FakeImage.appSeconds). */
  unhealthyFrom?: number;
  /** IMDS autoscaling/target-lifecycle-state: Terminated from the moment the instance is selected to leave. */
  targetLifecycleState?: 'InService' | 'Terminated';
  terminationStartedAt?: number;
  /** When the deregistration delay is over: the termination hook (Terminating:Wait) starts only then. */
  deregisteredAt?: number;
  terminatedAt?: number;
  lifecycleAction?: FakeLifecycleAction;
  ProtectedFromScaleIn: boolean;
  /** The primary private IPv4 in the VPC (DescribeInstances PrivateIpAddress); launchInstance assigns 10.0.x.y. */
  PrivateIpAddress?: string;
  /** A public IPv4 (IMDS public-ipv4), only for an instance launched into a public subnet. */
  PublicIpAddress?: string;
  /** A Spot interruption notice (IMDS spot/instance-action), once issued. */
  spotInstanceAction?: { action: 'hibernate' | 'stop' | 'terminate'; time: string };
  /** The port its targets are registered on when it is not the target group's (RegisterTargets' per-target Port). */
  targetPort?: number;
}

interface FakeHook {
  LifecycleHookName: string;
  LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' | 'autoscaling:EC2_INSTANCE_LAUNCHING';
  HeartbeatTimeout: number;
  DefaultResult: 'CONTINUE' | 'ABANDON';
}

export interface FakeAsg {
  AutoScalingGroupName: string;
  /** The id in the group's ARN (…:autoScalingGroup:UUID:autoScalingGroupName/NAME). */
  uuid: string;
  MinSize: number;
  MaxSize: number;
  DesiredCapacity: number;
  /** Version as the group references it: '3', '$Latest' or '$Default'. */
  launchTemplate?: { LaunchTemplateId: string; Version: string };
  LaunchConfigurationName?: string;
  /** Comma-separated: 'EC2', 'ELB', 'ELB,EBS', 'EBS,VPC_LATTICE'… (EC2 checks are always on). */
  HealthCheckType: string;
  /** Seconds after InService before Auto Scaling acts on a failed health check (default 300, as the console sets). */
  HealthCheckGracePeriod?: number;
  TargetGroupARNs: string[];
  tags: Record<string, string>;
  hooks: FakeHook[];
}

export interface FakeTargetGroup {
  TargetGroupArn: string;
  TargetGroupName: string;
  HealthCheckIntervalSeconds: number;
  HealthyThresholdCount: number;
  UnhealthyThresholdCount: number;
  deregistrationDelay: number;
  /** The group's port: Auto Scaling registers each instance on it (see targetPortOf). */
  Port: number;
}

export interface FakeAlarm {
  AlarmName: string;
  StateValue: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  /** DescribeAlarms lists a composite alarm only when AlarmTypes asks for CompositeAlarm. */
  type?: 'metric' | 'composite';
}

export type RefreshStatus =
  'Pending' | 'InProgress' | 'Baking' | 'Successful' | 'Failed' | 'Cancelling' | 'Cancelled' | 'RollbackInProgress' | 'RollbackSuccessful' | 'RollbackFailed';

export const ACTIVE_REFRESH: readonly RefreshStatus[] = ['Pending', 'InProgress', 'Baking', 'Cancelling', 'RollbackInProgress'];

export interface RefreshPrefs {
  MinHealthyPercentage: number;
  MaxHealthyPercentage: number;
  InstanceWarmup: number;
  CheckpointPercentages: number[];
  CheckpointDelay: number;
  SkipMatching: boolean;
  AutoRollback: boolean;
  BakeTime: number;
  Alarms: string[];
  ScaleInProtectedInstances: string;
  StandbyInstances: string;
  /** The raw Preferences as sent, for assertions. */
  raw: Record<string, unknown>;
}

export interface ReplaceTarget {
  LaunchTemplateId: string;
  version: number;
  ImageId: string;
}

export interface FakeRefresh {
  InstanceRefreshId: string;
  asg: string;
  Status: RefreshStatus;
  StatusReason?: string;
  StartTime: number;
  EndTime?: number;
  prefs: RefreshPrefs;
  /** DesiredConfiguration as sent; undefined when the refresh only re-applies the group's own configuration. */
  desired?: { LaunchTemplateId: string; Version: string };
  target: ReplaceTarget;
  total: number;
  toReplace: Set<string>;
  checkpointIndex: number;
  checkpointReachedAt?: number;
  bakeStartedAt?: number;
  rollback?: { reason: string; startTime: number; target: ReplaceTarget; total: number; toReplace: Set<string> };
  pendingUntil: number;
  /**
   * Instances the refresh waits for (ScaleInProtectedInstances / StandbyInstances `Wait`): protected from scale in,
   * or in Standby, when it started. Replaced once protection is removed / the instance is back in service.
   */
  waitFor: Set<string>;
  /** When only those were left: the refresh fails an hour later if any is still protected or in Standby. */
  waitingSince?: number;
}
