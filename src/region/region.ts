// The one stateful AWS fake: EC2 images and launch templates, Auto Scaling groups with instance refreshes and
// lifecycle hooks, ELBv2 target groups with target health, CloudWatch alarms. Simulated clock, no real sleeps.
// Behaviour is written down in README.md beside this file.
import { globalTimeoutSeconds } from '../contract/drain-timing.js';
import { Faults } from './faults.js';
import { Throttle } from './throttle.js';
import type {
  FakeAlarm,
  FakeAsg,
  FakeEc2Instance,
  FakeImage,
  FakeSecurityGroup,
  FakeInstance,
  FakeLaunchTemplate,
  FakeLifecycleAction,
  FakeRefresh,
  FakeTargetGroup,
  ReplaceTarget,
} from './model.js';
import { ACTIVE_REFRESH } from './model.js';
import { stepRefresh } from './refresh-engine.js';

/** The account the model plays (the tests' IAM evaluator uses the same). */
const REGION_ACCOUNT = '123456789012';

/** What a policy evaluator offers the region: one decision per call (AccessDenied is thrown). */
export interface RegionIam {
  authorize(call: { fake: Region; service: CallRecord['service']; command: string; input: Record<string, unknown>; region: string }): Promise<void>;
}

export const FAKE_EPOCH = Date.UTC(2026, 0, 1, 0, 0, 0);
const sec = 1000;

export interface RegionOptions {
  /** Seconds from launch to InService (default 20: instances take time to boot; benches that need the floor set 0). */
  bootSeconds?: number;
  /** Seconds a refresh stays Pending (default 0). */
  pendingSeconds?: number;
  /** Seconds the simulated drain agent on each instance needs before it completes the termination hook (default 0). */
  drainSeconds?: number;
  /**
   * Whether that simulated drain agent runs (default true). false: a Terminating:Wait instance waits for a
   * CompleteLifecycleAction call or the hook's timeout, as when the real agent (under test) is the only one.
   */
  drainAgent?: boolean;
  /** Simulated time after which clock.sleep() throws (default 2 days). */
  maxSimulatedSeconds?: number;
  /** Seconds a new AMI (CreateImage, CopyImage) stays pending before it is available (default 0). */
  amiSeconds?: number;
  /**
   * Eventual consistency (default 10, on as on AWS): for this many seconds after an instance or AMI is created, EC2 answers
   * DescribeInstances / DescribeImages by id with InvalidInstanceID.NotFound / InvalidAMIID.NotFound, and a new
   * instance's target registration is not visible (DescribeTargetHealth by id: InvalidTarget).
   */
  consistencyLagSeconds?: number;
  /**
   * Request throttling (default on, as on AWS; throttle.ts): a token bucket per EC2 / Auto Scaling action with
   * EC2's documented sizes. A test that needs more than 50 mutating calls of one action in a simulated burst
   * turns it off and says why.
   */
  throttling?: boolean;
  /** Region of the clients createFakeAws builds (default us-east-1). */
  region?: string;
  /** Account id in ARNs and in the evaluated policy (default 123456789012). */
  account?: string;
  /**
   * Evaluates every call against a policy before it is served (the tests' evaluator: test/fakes/aws/iam.ts).
   * Absent: every call is allowed.
   */
  iam?: RegionIam;
}

export interface CallRecord {
  service: 'ec2' | 'autoscaling' | 'elbv2' | 'cloudwatch';
  command: string;
  input: Record<string, unknown>;
  atMs: number;
}

type Listener = (r: FakeRefresh) => void;
export type InstanceEvent = 'terminating' | 'deregistered' | 'wait' | 'terminated';
type InstanceListener = (event: InstanceEvent, i: FakeInstance) => void;

export class Region {
  nowMs = FAKE_EPOCH;
  readonly images = new Map<string, FakeImage>();
  readonly launchTemplates = new Map<string, FakeLaunchTemplate>();
  readonly asgs = new Map<string, FakeAsg>();
  readonly instances = new Map<string, FakeInstance>();
  readonly targetGroups = new Map<string, FakeTargetGroup>();
  readonly alarms = new Map<string, FakeAlarm>();
  /** Packer's world: plain instances, security groups, key pairs, snapshots. */
  readonly ec2Instances = new Map<string, FakeEc2Instance>();
  readonly securityGroups = new Map<string, FakeSecurityGroup>();
  readonly keyPairs = new Set<string>();
  readonly snapshots = new Map<string, { SnapshotId: string; encrypted: boolean; kmsKeyId?: string; Tags: Record<string, string> }>();
  /** The same account's fakes in other regions (CopyImage reads its source there): see linkRegions(). */
  readonly peers = new Map<string, Region>();
  readonly refreshes: FakeRefresh[] = [];
  readonly calls: CallRecord[] = [];
  readonly faults = new Faults();
  /** AWS's request-rate limits (throttle.ts); `throttle.throttled` lists the calls it refused. */
  readonly throttle: Throttle;
  readonly opts: Required<Omit<RegionOptions, 'iam'>>;
  /** Evaluates each call against the printed policy; undefined when IAM is off. */
  iam?: RegionIam;
  private seq = 0;
  private timers: { atMs: number; fn: () => void }[] = [];
  private watchers: { pred: () => boolean; fn: () => void }[] = [];
  private listeners = new Map<string, Listener[]>();
  private instanceListeners: InstanceListener[] = [];

  constructor(opts: RegionOptions = {}) {
    const { iam, ...rest } = opts;
    this.opts = {
      bootSeconds: 20,
      pendingSeconds: 0,
      drainSeconds: 0,
      drainAgent: true,
      maxSimulatedSeconds: 2 * 86400,
      amiSeconds: 0,
      consistencyLagSeconds: 10,
      throttling: true,
      region: 'us-east-1',
      account: REGION_ACCOUNT,
      ...rest,
    };
    this.iam = iam;
    this.throttle = new Throttle(this.opts.throttling);
  }

  get account(): string {
    return this.opts.account;
  }

  // ---- clock -------------------------------------------------------------------------------------------
  /** The Clock the code under test gets: sleeping advances simulated time. */
  readonly clock = {
    now: (): number => this.nowMs,
    sleep: async (ms: number, signal?: AbortSignal): Promise<void> => {
      // A loop that never ends would never yield to vitest's timeout either: stop it with a clear error.
      if (this.nowMs + ms - FAKE_EPOCH > this.opts.maxSimulatedSeconds * sec)
        throw new Error(`AWS fake: more than ${this.opts.maxSimulatedSeconds} simulated seconds passed; the code under test seems to poll forever`);
      this.advance(ms);
      await Promise.resolve();
      signal?.throwIfAborted();
    },
  };

  /** Seconds since the fake's epoch. */
  get elapsedSeconds(): number {
    return (this.nowMs - FAKE_EPOCH) / sec;
  }

  /** Moves simulated time forward in one-second steps, running timers, watchers and refreshes. */
  advance(ms: number): void {
    const end = this.nowMs + ms;
    while (this.nowMs < end) {
      this.nowMs = Math.min(end, this.nowMs + sec);
      this.tick();
    }
  }

  /** Runs `fn` at a simulated time (ms since the epoch: use `FAKE_EPOCH + s * 1000`). */
  at(atMs: number, fn: () => void): void {
    this.timers.push({ atMs, fn });
  }

  /** Runs `fn` once, the first tick `pred` holds. */
  when(pred: () => boolean, fn: () => void): void {
    this.watchers.push({ pred, fn });
  }

  /** Refresh events: 'checkpoint', 'Baking', 'rollback-started', and every terminal status. */
  on(event: string, fn: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
  }

  emit(event: string, r: FakeRefresh): void {
    for (const l of this.listeners.get(event) ?? []) l(r);
  }

  private tick(): void {
    const now = this.nowMs;
    const due = this.timers.filter((t) => t.atMs <= now);
    this.timers = this.timers.filter((t) => t.atMs > now);
    for (const t of due) t.fn();
    for (const i of this.instances.values()) this.stepInstance(i, now);
    for (const img of this.images.values()) if (img.State === 'pending' && img.availableAt !== undefined && now >= img.availableAt) img.State = 'available';
    for (const r of this.refreshes) if (ACTIVE_REFRESH.includes(r.Status)) stepRefresh(this, r, now);
    const fired = this.watchers.filter((w) => w.pred());
    this.watchers = this.watchers.filter((w) => !fired.includes(w));
    for (const w of fired) w.fn();
  }

  private stepInstance(i: FakeInstance, now: number): void {
    if (i.LifecycleState === 'Pending' && now >= i.inServiceAt) i.LifecycleState = 'InService';
    const a = i.lifecycleAction;
    if (i.LifecycleState === 'Terminating:Wait' && a && now >= Math.min(a.timeoutAt, a.globalTimeoutAt)) this.endLifecycleAction(i, a.defaultResult, 'timeout');
    // Deregistration (and its delay) comes first; only then the termination hook (AWS's order).
    if (i.LifecycleState === 'Terminating' && i.deregisteredAt !== undefined && now >= i.deregisteredAt) this.afterDeregistration(i);
    if (i.LifecycleState === 'Terminating:Proceed') this.terminated(i);
  }

  /** The instance's lifecycle action if it is waiting in Terminating:Wait. */
  activeLifecycleAction(i: FakeInstance | undefined): FakeLifecycleAction | undefined {
    return i?.LifecycleState === 'Terminating:Wait' ? i.lifecycleAction : undefined;
  }

  /** Ends the wait (CONTINUE and ABANDON both terminate on a termination hook): Terminating:Proceed, then Terminated. */
  endLifecycleAction(i: FakeInstance, result: 'CONTINUE' | 'ABANDON', by: NonNullable<FakeLifecycleAction['endedBy']>): void {
    const a = i.lifecycleAction!;
    Object.assign(a, { result, endedBy: by, endedAt: this.nowMs });
    i.LifecycleState = 'Terminating:Proceed';
    this.terminated(i);
  }

  private terminated(i: FakeInstance): void {
    i.LifecycleState = 'Terminated';
    i.terminatedAt = this.nowMs;
    this.emitInstance('terminated', i);
  }

  /** Instance events: 'terminating' (selected; IMDS target-lifecycle-state is Terminated from here), 'deregistered', 'wait' (Terminating:Wait), 'terminated'. */
  onInstance(fn: InstanceListener): void {
    this.instanceListeners.push(fn);
  }

  private emitInstance(event: InstanceEvent, i: FakeInstance): void {
    for (const l of this.instanceListeners) l(event, i);
  }

  nextId(prefix: string): string {
    this.seq++;
    return `${prefix}-${this.seq.toString(16).padStart(17, '0')}`;
  }

  // ---- scenario set-up ----------------------------------------------------------------------------------
  addImage(img: Partial<FakeImage> & { ImageId?: string; Tags?: Record<string, string> }): FakeImage {
    const image: FakeImage = {
      ImageId: img.ImageId ?? this.nextId('ami'),
      Name: img.Name ?? `image-${this.seq}`,
      State: img.State ?? 'available',
      Architecture: img.Architecture ?? 'x86_64',
      CreationDate: img.CreationDate ?? new Date(this.nowMs).toISOString(),
      Tags: img.Tags ?? {},
      health: img.health ?? 'healthy',
      ...Object.fromEntries(
        Object.entries(img).filter(
          ([k, v]) => v !== undefined && !['ImageId', 'Name', 'State', 'Architecture', 'CreationDate', 'Tags', 'health', 'deregisteredAt'].includes(k),
        ),
      ),
      ...(img.deregisteredAt !== undefined ? { deregisteredAt: img.deregisteredAt } : {}),
    };
    this.images.set(image.ImageId, image);
    return image;
  }

  /** HttpTokens defaults to required; pass `HttpTokens: undefined` for a template that leaves it unset. */
  addLaunchTemplate(name: string, data: { ImageId: string; InstanceType?: string; HttpTokens?: 'required' | 'optional' | undefined }): FakeLaunchTemplate {
    const lt: FakeLaunchTemplate = {
      LaunchTemplateId: this.nextId('lt'),
      LaunchTemplateName: name,
      DefaultVersionNumber: 1,
      versions: [
        {
          VersionNumber: 1,
          CreateTime: new Date(this.nowMs),
          data: { InstanceType: 't3.small', HttpTokens: 'required', ...data },
        },
      ],
    };
    this.launchTemplates.set(lt.LaunchTemplateId, lt);
    return lt;
  }

  addTargetGroup(name: string, hc: Partial<Omit<FakeTargetGroup, 'TargetGroupName' | 'TargetGroupArn'>> = {}): FakeTargetGroup {
    const tg: FakeTargetGroup = {
      TargetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/${this.nextId('tg').slice(3, 19)}`,
      TargetGroupName: name,
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 3,
      UnhealthyThresholdCount: 3,
      deregistrationDelay: 0,
      Port: 5060,
      ...hc,
    };
    this.targetGroups.set(tg.TargetGroupArn, tg);
    return tg;
  }

  /** A group with `desired` healthy InService instances on the given launch template version. */
  addAsg(a: Partial<FakeAsg> & { AutoScalingGroupName: string; desired: number }): FakeAsg {
    const asg: FakeAsg = {
      AutoScalingGroupName: a.AutoScalingGroupName,
      uuid: a.uuid ?? crypto.randomUUID(),
      MinSize: a.MinSize ?? Math.min(2, a.desired),
      MaxSize: a.MaxSize ?? Math.max(10, a.desired * 2),
      DesiredCapacity: a.desired,
      HealthCheckType: a.HealthCheckType ?? 'ELB',
      TargetGroupARNs: a.TargetGroupARNs ?? [],
      tags: a.tags ?? {},
      hooks: a.hooks ?? [],
      ...(a.launchTemplate ? { launchTemplate: a.launchTemplate } : {}),
      ...(a.LaunchConfigurationName ? { LaunchConfigurationName: a.LaunchConfigurationName } : {}),
    };
    this.asgs.set(asg.AutoScalingGroupName, asg);
    if (asg.launchTemplate) {
      const target = this.resolveGroupTarget(asg);
      for (let n = 0; n < a.desired; n++) this.runningSince(this.launchInstance(asg.AutoScalingGroupName, target));
    }
    return asg;
  }

  /**
   * One more InService instance of the group with the caller's instance id and primary private address (a machine
   * that exists already, such as a booted image): launched from the group's own configuration, healthy, and known to
   * EC2 and ELB at once (eventual consistency delays only ids that are new to the region). It counts in the group's
   * desired capacity. An id or a live instance's address already in the region is refused.
   */
  seedInstance(asgName: string, as: { InstanceId: string; PrivateIpAddress: string }): FakeInstance {
    const asg = this.asgs.get(asgName);
    if (!asg?.launchTemplate) throw new Error(`seedInstance: no group ${asgName} with a launch template`);
    if (this.instances.has(as.InstanceId)) throw new Error(`seedInstance: instance ${as.InstanceId} exists already`);
    if (this.addressTaken(as.PrivateIpAddress)) throw new Error(`seedInstance: ${as.PrivateIpAddress} is another instance's address`);
    asg.DesiredCapacity++;
    asg.MaxSize = Math.max(asg.MaxSize, asg.DesiredCapacity);
    return this.runningSince(this.launchInstance(asgName, this.resolveGroupTarget(asg), as));
  }

  /** Running before the scenario starts: InService, healthy and known from now. */
  private runningSince(i: FakeInstance): FakeInstance {
    i.LifecycleState = 'InService';
    i.inServiceAt = this.nowMs;
    i.healthAt = this.nowMs;
    i.knownAt = this.nowMs;
    return i;
  }

  private addressTaken(ip: string): boolean {
    return [...this.instances.values()].some((i) => i.PrivateIpAddress === ip && i.LifecycleState !== 'Terminated');
  }

  setAlarm(name: string, state: FakeAlarm['StateValue'], o: { composite?: boolean } = {}): void {
    const type = (o.composite ?? this.alarms.get(name)?.type === 'composite') ? 'composite' : 'metric';
    this.alarms.set(name, { AlarmName: name, StateValue: state, type });
  }

  // ---- behaviour used by the engine and handlers ---------------------------------------------------------
  instancesOf(asg: string): FakeInstance[] {
    return [...this.instances.values()].filter((i) => i.asg === asg && i.LifecycleState !== 'Terminated');
  }

  ltVersion(ltId: string, version: string | number): { lt: FakeLaunchTemplate; v: FakeLaunchTemplate['versions'][number] } | undefined {
    const lt = this.launchTemplates.get(ltId) ?? [...this.launchTemplates.values()].find((l) => l.LaunchTemplateName === ltId);
    if (!lt) return undefined;
    const n = version === '$Latest' ? Math.max(...lt.versions.map((v) => v.VersionNumber)) : version === '$Default' ? lt.DefaultVersionNumber : Number(version);
    const v = lt.versions.find((x) => x.VersionNumber === n);
    return v ? { lt, v } : undefined;
  }

  /** What the group's own configuration launches now. */
  resolveGroupTarget(asg: FakeAsg): ReplaceTarget {
    const found = this.ltVersion(asg.launchTemplate!.LaunchTemplateId, asg.launchTemplate!.Version)!;
    return {
      LaunchTemplateId: found.lt.LaunchTemplateId,
      version: found.v.VersionNumber,
      ImageId: found.v.data.ImageId,
    };
  }

  /** `as`: the id and address of an instance that exists already (seedInstance); otherwise the region assigns them. */
  launchInstance(asgName: string, t: ReplaceTarget, as?: { InstanceId: string; PrivateIpAddress: string }): FakeInstance {
    const image = this.images.get(t.ImageId);
    const tgs = this.asgs
      .get(asgName)!
      .TargetGroupARNs.map((a) => this.targetGroups.get(a)!)
      .filter(Boolean);
    const health = image?.health ?? 'healthy';
    const inServiceAt = this.nowMs + this.opts.bootSeconds * sec;
    // Healthy after HealthyThresholdCount passing checks; unhealthy after UnhealthyThresholdCount failing ones.
    const worst = (count: (g: FakeTargetGroup) => number) => Math.max(0, ...tgs.map((g) => count(g) * g.HealthCheckIntervalSeconds)) * sec;
    const failing = worst((g) => g.UnhealthyThresholdCount);
    const appAt = inServiceAt + (image?.appSeconds ?? 0) * sec;
    const healthAt = health === 'healthy' ? appAt + worst((g) => g.HealthyThresholdCount) : inServiceAt + failing;
    // A good image that boots slowly fails its first checks: unhealthy until it has passed enough of them.
    const unhealthyFrom = health === 'healthy' && appAt > inServiceAt + failing ? inServiceAt + failing : undefined;
    const i: FakeInstance = {
      PrivateIpAddress: as?.PrivateIpAddress ?? this.freeAddress(),
      InstanceId: as?.InstanceId ?? this.nextId('i'),
      asg: asgName,
      ltId: t.LaunchTemplateId,
      ltVersion: t.version,
      ImageId: t.ImageId,
      LifecycleState: this.opts.bootSeconds > 0 ? 'Pending' : 'InService',
      launchedAt: this.nowMs,
      knownAt: this.nowMs + this.opts.consistencyLagSeconds * sec,
      inServiceAt,
      healthAt,
      health,
      ...(unhealthyFrom !== undefined ? { unhealthyFrom } : {}),
      ProtectedFromScaleIn: false,
    };
    this.instances.set(i.InstanceId, i);
    return i;
  }

  /** Primary private IPv4 from the subnet (10.0.0.0/16), never reused (.1-.3 of a subnet are AWS's); a seeded one is skipped. */
  private freeAddress(): string {
    for (let n = this.instances.size; ; n++) {
      const ip = `10.0.${Math.floor(n / 250)}.${(n % 250) + 4}`;
      if (![...this.instances.values()].some((i) => i.PrivateIpAddress === ip)) return ip;
    }
  }

  /**
   * AWS's termination order ("How lifecycle hooks work", steps 4-5; ELB "Deregistration delay"):
   * 1. the instance is selected: LifecycleState Terminating, IMDS target-lifecycle-state Terminated at once;
   * 2. it is deregistered from its target groups: targets draining for the longest deregistration delay, while
   *    existing connections drain;
   * 3. only then, with a termination hook, Terminating:Wait: the lifecycle action starts and its heartbeat timeout
   *    counts from here (CompleteLifecycleAction, the simulated drain agent, or the timeout end it);
   * 4. Terminating:Proceed, then Terminated.
   */
  beginTermination(i: FakeInstance): void {
    const asg = this.asgs.get(i.asg)!;
    const dereg = Math.max(0, ...asg.TargetGroupARNs.map((a) => this.targetGroups.get(a)?.deregistrationDelay ?? 0));
    i.targetLifecycleState = 'Terminated';
    i.terminationStartedAt = this.nowMs;
    i.deregisteredAt = this.nowMs + dereg * sec;
    i.LifecycleState = 'Terminating';
    this.emitInstance('terminating', i);
    if (dereg === 0) this.afterDeregistration(i);
  }

  private afterDeregistration(i: FakeInstance): void {
    this.emitInstance('deregistered', i);
    const asg = this.asgs.get(i.asg)!;
    const hook = asg.hooks.find((h) => h.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING');
    if (!hook) return this.terminated(i);
    const action: FakeLifecycleAction = {
      LifecycleHookName: hook.LifecycleHookName,
      AutoScalingGroupName: asg.AutoScalingGroupName,
      startedAt: this.nowMs,
      timeoutAt: this.nowMs + hook.HeartbeatTimeout * sec,
      globalTimeoutAt: this.nowMs + globalTimeoutSeconds(hook.HeartbeatTimeout) * sec,
      defaultResult: hook.DefaultResult,
      heartbeats: [],
    };
    i.lifecycleAction = action;
    i.LifecycleState = 'Terminating:Wait';
    this.emitInstance('wait', i);
    if (!this.opts.drainAgent) return;
    const agentDone = () => {
      if (this.activeLifecycleAction(i) === action) this.endLifecycleAction(i, 'CONTINUE', 'agent');
    };
    if (this.opts.drainSeconds <= 0) agentDone();
    else this.at(this.nowMs + this.opts.drainSeconds * sec, agentDone);
  }

  /**
   * A scale-out (a scaling policy, a scheduled action): `n` more instances of the group's own launch template
   * version. During an instance refresh that is still the old one: AWS sets the group to the desired configuration
   * only once the refresh succeeds ("Understand the default values for an instance refresh"), and instances launched
   * meanwhile are not in the refresh's list, so they stay on the old AMI.
   */
  scaleOut(asgName: string, n: number): FakeInstance[] {
    const asg = this.asgs.get(asgName)!;
    asg.DesiredCapacity += n;
    asg.MaxSize = Math.max(asg.MaxSize, asg.DesiredCapacity);
    const target = this.resolveGroupTarget(asg);
    return Array.from({ length: n }, () => this.launchInstance(asgName, target));
  }

  /** SetInstanceProtection: a protected instance is not chosen for scale-in (nor, with `Ignore`, by a refresh). */
  protect(instanceId: string, on = true): void {
    this.instances.get(instanceId)!.ProtectedFromScaleIn = on;
  }

  /**
   * EnterStandby ("Temporarily remove instances from your Auto Scaling group"): the instance leaves service (its
   * targets are deregistered), stays in the group, and the desired capacity drops by one
   * (ShouldDecrementDesiredCapacity), so nothing replaces it.
   */
  enterStandby(instanceId: string): void {
    const i = this.instances.get(instanceId)!;
    i.LifecycleState = 'Standby';
    this.asgs.get(i.asg)!.DesiredCapacity--;
  }

  activeRefresh(asg: string): FakeRefresh | undefined {
    return this.refreshes.find((r) => r.asg === asg && ACTIVE_REFRESH.includes(r.Status));
  }

  // ---- assertions helpers --------------------------------------------------------------------------------
  /** The AMI of every live instance of a group, sorted. */
  amisOf(asg: string): string[] {
    return this.instancesOf(asg)
      .filter((i) => !i.LifecycleState.startsWith('Terminating'))
      .map((i) => i.ImageId)
      .sort();
  }

  callsOf(command: string): CallRecord[] {
    return this.calls.filter((c) => c.command === command);
  }
}

/** Makes one account's per-region fakes see each other (CopyImage's SourceRegion). */
export function linkRegions(fakes: Iterable<[string, Region]>): void {
  const all = [...fakes];
  for (const [, f] of all) for (const [r, g] of all) f.peers.set(r, g);
}
