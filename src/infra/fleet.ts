// SipbakeFleet: the infrastructure `sipbake roll` needs, from an image definition (seed 000's shape).
// L1 resources on purpose: every property the roll's preflight reads is spelled out, and nothing the roll
// changes later (the launch template version, the desired capacity, the group's tags) is owned twice.
// What the stack must leave alone, and why: docs/infra.md.
import { CfnOutput, CfnParameter } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { ImageDefinition } from '../definition/schema.js';
import { hookTimeoutFor } from '../roll/preflight-drain.js';
import { fleetNetwork, type FleetNetworkProps } from './network.js';
import { fleetRoles } from './roles.js';
import { sipPorts } from './sip-ports.js';
import { mediaPlacement, mediaPoolAddresses } from './media-pool.js';

export interface SipbakeFleetProps {
  /** The loaded image definition (loadImageOrThrow); it needs a deploy: section. */
  image: ImageDefinition;
  /** New subnets (default) or existing ones by id. */
  network?: FleetNetworkProps;
  /** The AMI the group starts on. Default: a stack parameter `ImageId` (pass the live AMI on every update). */
  imageId?: string;
  /** Default: bake.instanceType. */
  instanceType?: string;
  /** Default 2 and 10 (seed 000). The stack never sets a desired capacity: docs/infra.md. */
  minSize?: number;
  maxSize?: number;
  /** internet-facing (default; seed 000) or internal (seed 004's NAT'd recorders). */
  scheme?: 'internet-facing' | 'internal';
  /** An existing Elastic IP for the NLB, e.g. the one advertise.elasticIp names. Default: a new one. */
  nlbEipAllocationId?: string;
  /** Who may assume the build and roll roles. Default: the account's root (delegate with IAM policies). */
  ciPrincipalArn?: string;
}

export class SipbakeFleet extends Construct {
  readonly autoScalingGroupName: string;
  readonly launchTemplateId: string;
  readonly targetGroupArns: string[];
  readonly nlbPublicIp: string | undefined;
  readonly natPublicIp: string | undefined;

  constructor(scope: Construct, id: string, props: SipbakeFleetProps) {
    super(scope, id);
    const image = props.image;
    const deploy = image.deploy;
    if (!deploy) throw new Error(`SipbakeFleet: image ${image.name} has no deploy: section (region, asgName, targetGroupArns)`);
    const net = fleetNetwork(this, props.network ?? { kind: 'new' });
    const ports = sipPorts(image);
    const roles = fleetRoles(this, image, props.ciPrincipalArn);
    const media = mediaPlacement(image, props.maxSize ?? 10);
    mediaPoolAddresses(this, media);

    const sg = new ec2.CfnSecurityGroup(this, 'InstanceSecurityGroup', {
      groupDescription: `sipbake ${image.name}: SIP from the allowed sources, the health port from the VPC`,
      vpcId: net.vpcId,
      securityGroupIngress: ingressRules(image, ports, net.vpcCidr),
    });

    const imageId =
      props.imageId ??
      imageParameter(this, `The AMI ${deploy.asgName} runs. On every stack update pass the live one (sipbake status ${image.name}); see docs/infra.md`);

    const lt = new ec2.CfnLaunchTemplate(this, 'LaunchTemplate', {
      launchTemplateData: {
        imageId,
        instanceType: props.instanceType ?? image.bake.instanceType,
        iamInstanceProfile: { arn: roles.instanceProfileArn },
        // media.address on the instance's own address: a public IPv4 at launch (media-pool.ts).
        ...(media.publicInstances
          ? { networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: true, groups: [sg.attrGroupId] }] }
          : { securityGroupIds: [sg.attrGroupId] }),
        // The drain agent reads its lifecycle state from IMDS; v2 only (the roll refuses anything else).
        metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 },
        tagSpecifications: [{ resourceType: 'instance', tags: [{ key: 'sipbake:image', value: image.name }] }],
      },
    });

    // RTP to the instance's own address never crosses the NLB: the delay need not cover the drain (drain-timing.ts).
    const delay = media.publicInstances ? 30 : Math.min(3600, image.drain.maxSeconds);
    const groups = ports.map(
      (p) =>
        new elbv2.CfnTargetGroup(this, `TargetGroup${p.port}`, {
          name: p.targetGroupName,
          vpcId: net.vpcId,
          port: p.port,
          protocol: p.protocol,
          targetType: 'instance',
          // The drain agent closes this port when the drain starts: new flows go elsewhere.
          healthCheckProtocol: 'TCP',
          healthCheckPort: String(image.drain.healthCheck.port),
          healthCheckIntervalSeconds: 10,
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
          targetGroupAttributes: [
            // In-dialog requests and media keep their flows while the instance drains (docs/roll-engine.md).
            { key: 'deregistration_delay.timeout_seconds', value: String(delay) },
            // A dialog's INVITE, ACK and BYE from one source reach one instance (seed 000).
            { key: 'stickiness.enabled', value: 'true' },
            { key: 'stickiness.type', value: 'source_ip' },
          ],
        }),
    );

    const nlbEip = props.scheme === 'internal' || props.nlbEipAllocationId ? undefined : new ec2.CfnEIP(this, 'NlbEip', { domain: 'vpc' });
    const allocationId = props.nlbEipAllocationId ?? nlbEip?.attrAllocationId;
    const nlb = new elbv2.CfnLoadBalancer(this, 'Nlb', {
      type: 'network',
      scheme: props.scheme ?? 'internet-facing',
      // One Elastic IP in one subnet: the address Via and Record-Route advertise (advertise.elasticIp).
      subnetMappings:
        props.scheme === 'internal'
          ? net.privateSubnetIds.map((subnetId) => ({ subnetId }))
          : net.publicSubnetIds.slice(0, 1).map((subnetId) => ({ subnetId, ...(allocationId ? { allocationId } : {}) })),
      loadBalancerAttributes: [{ key: 'load_balancing.cross_zone.enabled', value: 'true' }],
    });
    groups.forEach((g) => {
      new elbv2.CfnListener(this, `Listener${g.port}`, {
        loadBalancerArn: nlb.ref,
        port: g.port ?? 5060,
        protocol: g.protocol ?? 'TCP_UDP',
        defaultActions: [{ type: 'forward', targetGroupArn: g.ref }],
      });
    });

    const asg = new autoscaling.CfnAutoScalingGroup(this, 'Group', {
      autoScalingGroupName: deploy.asgName,
      minSize: String(props.minSize ?? 2),
      maxSize: String(props.maxSize ?? 10),
      // No desiredCapacity: a stack update would reset what scaling and the roll set (docs/infra.md).
      // A numbered version: the roll refuses $Latest/$Default, and rolls back to this number.
      launchTemplate: { launchTemplateId: lt.ref, version: lt.attrLatestVersionNumber },
      // RTP straight to each instance needs a route from the internet gateway: the public subnets (media-pool.ts).
      vpcZoneIdentifier: media.publicInstances ? net.publicSubnetIds : net.privateSubnetIds,
      healthCheckType: 'ELB',
      healthCheckGracePeriod: 300,
      targetGroupArns: groups.map((g) => g.ref),
      lifecycleHookSpecificationList: [
        {
          lifecycleHookName: deploy.lifecycleHook.name,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeout: hookTimeoutFor(image.drain.maxSeconds),
          defaultResult: 'CONTINUE',
        },
      ],
    });
    // Stack updates keep the group's size as scaling left it (AWS: AutoScalingScheduledAction update policy).
    asg.cfnOptions.updatePolicy = { autoScalingScheduledAction: { ignoreUnmodifiedGroupSizeProperties: true } };

    this.autoScalingGroupName = deploy.asgName;
    this.launchTemplateId = lt.ref;
    this.targetGroupArns = groups.map((g) => g.ref);
    this.nlbPublicIp = nlbEip?.attrPublicIp;
    this.natPublicIp = net.natPublicIp;
    outputs(this, { groups, nlb, nlbEip, natPublicIp: net.natPublicIp, lt, roles });
  }
}

/** The stack parameter `ImageId` (a plain name, for --parameter-overrides ImageId=ami-…). */
function imageParameter(scope: Construct, description: string): string {
  const p = new CfnParameter(scope, 'ImageId', { type: 'AWS::EC2::Image::Id', description });
  p.overrideLogicalId('ImageId');
  return p.valueAsString;
}

function ingressRules(image: ImageDefinition, ports: ReturnType<typeof sipPorts>, vpcCidr: string): ec2.CfnSecurityGroup.IngressProperty[] {
  const sources = image.relay?.allowedSources ?? ['0.0.0.0/0'];
  const protocols = (p: (typeof ports)[number]) => (p.protocol === 'TCP_UDP' ? ['udp', 'tcp'] : [p.protocol.toLowerCase()]);
  const sip = ports.flatMap((p) =>
    protocols(p).flatMap((ipProtocol) =>
      sources.map((cidrIp) => ({ ipProtocol, fromPort: p.port, toPort: p.port, cidrIp, description: `SIP ${ipProtocol}/${p.port}` })),
    ),
  );
  const health = {
    ipProtocol: 'tcp',
    fromPort: image.drain.healthCheck.port,
    toPort: image.drain.healthCheck.port,
    cidrIp: vpcCidr,
    description: 'NLB health check',
  };
  const r = image.media.rtpproxy;
  const media = r.enabled ? [{ ipProtocol: 'udp', fromPort: r.rtpPorts.min, toPort: r.rtpPorts.max, cidrIp: '0.0.0.0/0', description: 'RTP (RTPProxy)' }] : [];
  return [...sip, health, ...media];
}

/** Plain output names (TargetGroupArn0, NlbElasticIp…), as `aws cloudformation describe-stacks` shows them. */
function output(scope: Construct, name: string, o: { value: string; description?: string }): void {
  new CfnOutput(scope, name, o).overrideLogicalId(name);
}

function outputs(
  scope: Construct,
  o: {
    groups: elbv2.CfnTargetGroup[];
    nlb: elbv2.CfnLoadBalancer;
    nlbEip: ec2.CfnEIP | undefined;
    natPublicIp: string | undefined;
    lt: ec2.CfnLaunchTemplate;
    roles: ReturnType<typeof fleetRoles>;
  },
): void {
  o.groups.forEach((g, i) => output(scope, `TargetGroupArn${i}`, { value: g.ref, description: `deploy.targetGroupArns[${i}]` }));
  output(scope, 'NlbDnsName', { value: o.nlb.attrDnsName });
  if (o.nlbEip) output(scope, 'NlbElasticIp', { value: o.nlbEip.attrPublicIp, description: 'advertise.elasticIp; where callers send SIP' });
  if (o.natPublicIp) output(scope, 'NatGatewayIp', { value: o.natPublicIp, description: "the address the destination's IP ACL allows" });
  output(scope, 'LaunchTemplateId', { value: o.lt.ref });
  output(scope, 'InstanceRoleArn', { value: o.roles.instanceRoleArn });
  output(scope, 'BuildRoleArn', { value: o.roles.buildRoleArn, description: 'assumed by CI for sipbake build' });
  output(scope, 'RollRoleArn', { value: o.roles.rollRoleArn, description: 'assumed by CI for sipbake roll, rollback, status, history' });
}
