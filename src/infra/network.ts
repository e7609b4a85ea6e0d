// Where the fleet lives: a new VPC (public subnets for the NLB and the NAT gateway, private subnets for the
// instances) or existing subnets by id. Seed 000's shape: instances without public IPs, inbound through the NLB's
// Elastic IP, outbound through the NAT gateway's Elastic IP.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

/** New subnets in a new VPC, with one NAT gateway (and its Elastic IP) for outbound traffic. */
export interface NewNetwork {
  kind: 'new';
  /** Default 10.0.0.0/16. */
  cidr?: string;
  /** Availability zones to spread over (default 2; the NLB gets one subnet mapping in the first). */
  maxAzs?: number;
  /** An existing Elastic IP allocation for the NAT gateway (the address the destination allow-lists). */
  natEipAllocationId?: string;
}

/** Subnets that exist already (their route tables, NAT gateway and internet gateway too). */
export interface ExistingNetwork {
  kind: 'existing';
  vpcId: string;
  /** The VPC's CIDR: the NLB's health checks come from its private addresses in it. */
  vpcCidr: string;
  /** Where the NLB's subnet mappings go (internet-facing: subnets with a route to an internet gateway). */
  publicSubnetIds: string[];
  /** Where the instances run (a default route to the NAT gateway). */
  privateSubnetIds: string[];
}

export type FleetNetworkProps = NewNetwork | ExistingNetwork;

/** What the rest of the fleet needs from the network. */
export interface FleetNetwork {
  vpcId: string;
  vpcCidr: string;
  publicSubnetIds: string[];
  privateSubnetIds: string[];
  /** The NAT gateway's public address, when this stack made it. */
  natPublicIp?: string;
}

export function fleetNetwork(scope: Construct, props: FleetNetworkProps): FleetNetwork {
  if (props.kind === 'existing') {
    if (props.publicSubnetIds.length === 0 || props.privateSubnetIds.length === 0)
      throw new Error('SipbakeFleet: an existing network needs at least one public and one private subnet id');
    const { vpcId, vpcCidr, publicSubnetIds, privateSubnetIds } = props;
    return { vpcId, vpcCidr, publicSubnetIds, privateSubnetIds };
  }
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.0.0.0/16'),
    maxAzs: props.maxAzs ?? 2,
    natGateways: 1,
    natGatewayProvider: ec2.NatProvider.gateway(props.natEipAllocationId ? { eipAllocationIds: [props.natEipAllocationId] } : {}),
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
  });
  // ec2.PublicSubnet.addNatGateway names the gateway's Elastic IP "EIP" (aws-ec2/lib/vpc.ts).
  const eip = vpc.publicSubnets.map((s) => s.node.tryFindChild('EIP')).find((c): c is ec2.CfnEIP => c instanceof ec2.CfnEIP);
  return {
    vpcId: vpc.vpcId,
    vpcCidr: vpc.vpcCidrBlock,
    publicSubnetIds: vpc.publicSubnets.map((s) => s.subnetId),
    privateSubnetIds: vpc.privateSubnets.map((s) => s.subnetId),
    ...(eip ? { natPublicIp: eip.attrPublicIp } : {}),
  };
}
