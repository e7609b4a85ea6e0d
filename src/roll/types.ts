// Plain data describing what sipbake observed on AWS. Produced by observe.ts, consumed by the pure planner.
import { AMI_TAG, ASG_TAG } from '../contract/tags.js';

export const AMI_TAGS = [
  AMI_TAG.image,
  AMI_TAG.contentHash,
  AMI_TAG.kamailioVersion,
  AMI_TAG.rtpproxyVersion,
  AMI_TAG.gitCommit,
  AMI_TAG.builtAt,
  AMI_TAG.sourceAmi,
] as const;

export interface AmiInfo {
  imageId: string;
  name: string;
  /** available | pending | failed | deregistered | disabled | missing */
  state: string;
  architecture?: string;
  creationDate?: string;
  /** 'v2.0' when the AMI was registered to require IMDSv2 (sipbake bakes with imds_support = "v2.0"). */
  imdsSupport?: string;
  tags: Record<string, string>;
}

export interface LtVersionInfo {
  ltId: string;
  ltName?: string;
  version: number;
  imageId?: string;
  description?: string;
  /** sipbake's marker in the description (a version a roll of sipbake created), parsed once in observe.ts. */
  marker?: RollMarker;
  httpTokens?: string;
  /** InstanceMarketOptions.MarketType of the version (spot: EC2 may reclaim with a two-minute notice). */
  marketType?: string;
  /** IamInstanceProfile of the version (ARN or name): its role is what the roll role must be allowed to pass. */
  instanceProfile?: string;
}

export interface GroupInfo {
  name: string;
  desired: number;
  min: number;
  max: number;
  healthCheckType: string;
  /** Seconds Auto Scaling waits after InService before it acts on failed health checks. */
  healthCheckGracePeriod: number;
  targetGroupArns: string[];
  launchTemplate?: { id: string; name?: string; version: string };
  launchConfigurationName?: string;
  mixedInstancesPolicy: boolean;
  instances: { id: string; lifecycleState: string; ltVersion?: string; health?: string }[];
  tags: Record<string, string>;
}

export interface TargetGroupInfo {
  arn: string;
  name: string;
  intervalSeconds: number;
  healthyThreshold: number;
  deregistrationDelay: number;
}

interface HookInfo {
  name: string;
  transition: string;
  heartbeatTimeout: number;
  defaultResult: string;
}

export interface RefreshInfo {
  id: string;
  status: string;
  statusReason?: string;
  startTime?: Date;
  endTime?: Date;
  percentageComplete: number;
  instancesToUpdate: number;
  desired?: { ltId: string; version: string };
  rollback?: { reason?: string; startTime?: Date; percentageComplete?: number; instancesToUpdate?: number };
  checkpoints: number[];
  bakeTime?: number;
}

/** One instance of the group as it is: its AMI (EC2), launch time, Auto Scaling health and target health. */
export interface FleetInstance {
  id: string;
  lifecycleState: string;
  ltVersion?: string;
  /** Undefined while EC2 does not know the instance yet (eventual consistency right after launch). */
  ami?: string;
  launchedAtMs?: number;
  /** Auto Scaling's view: Healthy | Unhealthy. */
  asgHealth?: string;
  /** Target group name → state (initial, healthy, unhealthy, draining, unused …). */
  targets: Record<string, string>;
}

/** One poll of the world, as the refresh machine steps on it. */
export interface Snap {
  atMs: number;
  /** The refresh the machine watches (undefined: AWS did not list it this poll). */
  refresh?: RefreshInfo;
  instances: FleetInstance[];
  alarms: { name: string; state: string }[];
}

export const ACTIVE_STATUSES = ['Pending', 'InProgress', 'Baking', 'Cancelling', 'RollbackInProgress'];

export interface Observed {
  group?: GroupInfo;
  /** The launch template version the group references, resolved to a number. */
  current?: LtVersionInfo;
  currentAmi?: AmiInfo;
  target?: AmiInfo;
  targetGroups: TargetGroupInfo[];
  /** Target groups named in deploy.targetGroupArns that AWS does not know. */
  missingTargetGroups: string[];
  hooks: HookInfo[];
  /** Newest first. */
  refreshes: RefreshInfo[];
  /** The active refresh and the LT version it heads to (its marker tells whether sipbake started it). */
  active?: { refresh: RefreshInfo; desired?: LtVersionInfo };
  /** Alarm names from the definition that CloudWatch does not know. */
  missingAlarms: string[];
  /** Every instance of the group with the AMI it runs (load step of roll/rollback). */
  fleet?: FleetInstance[];
}

/** What sipbake writes into a launch template version description, so a later run knows the roll is its own. */
export interface RollMarker {
  image: string;
  ami: string;
  fromVersion: number;
  fromAmi: string;
}

const MARKER = /^sipbake roll (\S+): (ami-[0-9a-f]+) \(from version (\d+), (ami-[0-9a-f]+|unknown)\)/;

export function formatMarker(m: RollMarker): string {
  return `sipbake roll ${m.image}: ${m.ami} (from version ${m.fromVersion}, ${m.fromAmi})`;
}

export function parseMarker(description: string | undefined): RollMarker | undefined {
  const m = description ? MARKER.exec(description) : null;
  if (!m) return undefined;
  const [, image = '', ami = '', from = '', fromAmi = ''] = m;
  return { image, ami, fromVersion: Number(from), fromAmi };
}

/** ASG tags sipbake keeps, so history and rollback need no local state. */
export const TAG_LAST_KNOWN_GOOD = ASG_TAG.lastKnownGood;
export const TAG_LAST_ROLL = ASG_TAG.lastRoll;

export function formatLkg(version: number, ami: string): string {
  return `version ${version} ${ami}`;
}

export function parseLkg(v: string | undefined): { version: number; ami: string } | undefined {
  const m = v ? /^version (\d+) (ami-[0-9a-f]+)$/.exec(v) : null;
  if (!m) return undefined;
  const [, version = '', ami = ''] = m;
  return { version: Number(version), ami };
}
