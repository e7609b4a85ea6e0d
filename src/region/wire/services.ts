// The four services the region serves on the wire: their protocol (each client's dist-es/runtimeConfig.shared.js:
// Auto Scaling and ELBv2 AwsQueryProtocol, EC2 AwsEc2QueryProtocol, CloudWatch AwsJson1_0Protocol with
// awsQueryCompatible), XML namespace or JSON target, the region's handlers, and the environment variable through
// which the SDK v3 reaches a custom endpoint: `AWS_ENDPOINT_URL_` + the client's serviceId upper-cased with spaces
// as underscores (@smithy/core endpoints/middleware-endpoint/adaptors/getEndpointUrlConfig.js; "Service-specific
// endpoints", AWS SDKs and Tools Reference Guide, docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
import * as asgSdk from '@aws-sdk/client-auto-scaling';
import * as cwSdk from '@aws-sdk/client-cloudwatch';
import * as ec2Sdk from '@aws-sdk/client-ec2';
import * as elbSdk from '@aws-sdk/client-elastic-load-balancing-v2';
import { asgHandlers } from '../handlers-asg.js';
import { ec2AddressHandlers } from '../handlers-ec2-address.js';
import { ec2Handlers } from '../handlers-ec2.js';
import { cloudwatchHandlers, elbHandlers } from '../handlers-elb-cw.js';
import type { CallRecord, Region } from '../region.js';
import type { Schema } from './schema-codec.js';

export type ServiceName = CallRecord['service'];
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the region's handlers take the raw SDK input (src/region/handlers-*.ts)
export type Handlers = Record<string, (input: Record<string, any>) => unknown>;

interface QueryService {
  protocol: 'query' | 'ec2';
  xmlns: string;
}
interface JsonService {
  protocol: 'json1_0';
  /** X-Amz-Target prefix and the error shapes' namespace (runtimeConfig.shared.js protocolSettings). */
  target: string;
  namespace: string;
}
export type WireService = (QueryService | JsonService) & {
  name: ServiceName;
  /** The SDK's serviceId and the endpoint variable derived from it. */
  serviceId: string;
  /** SigV4 signing name (the credential scope's service): how one shared endpoint tells the services apart. */
  signingName: string;
  env: string;
  sdk: Record<string, unknown>;
  handlers(region: Region): Handlers;
};

export const WIRE_SERVICES: Record<ServiceName, WireService> = {
  autoscaling: {
    name: 'autoscaling',
    signingName: 'autoscaling',
    serviceId: 'Auto Scaling',
    env: 'AWS_ENDPOINT_URL_AUTO_SCALING',
    protocol: 'query',
    xmlns: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
    sdk: asgSdk,
    handlers: asgHandlers,
  },
  ec2: {
    name: 'ec2',
    signingName: 'ec2',
    serviceId: 'EC2',
    env: 'AWS_ENDPOINT_URL_EC2',
    protocol: 'ec2',
    xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/',
    sdk: ec2Sdk,
    handlers: (r: Region) => ({ ...ec2Handlers(r), ...ec2AddressHandlers(r) }),
  },
  elbv2: {
    name: 'elbv2',
    signingName: 'elasticloadbalancing',
    serviceId: 'Elastic Load Balancing v2',
    env: 'AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2',
    protocol: 'query',
    xmlns: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
    sdk: elbSdk,
    handlers: elbHandlers,
  },
  cloudwatch: {
    name: 'cloudwatch',
    signingName: 'monitoring',
    serviceId: 'CloudWatch',
    env: 'AWS_ENDPOINT_URL_CLOUDWATCH',
    protocol: 'json1_0',
    target: 'GraniteServiceVersion20100801',
    namespace: 'com.amazonaws.cloudwatch',
    sdk: cwSdk,
    handlers: cloudwatchHandlers,
  },
};

/** An operation's static schema `[9, namespace, name, traits, input, output]`, as the SDK's command uses it. */
export type OperationSchema = readonly [9, string, string, number, () => Schema, () => Schema];

/** The service a request signed for `signingName` belongs to. */
export function serviceBySigningName(signingName: string): WireService | undefined {
  return Object.values(WIRE_SERVICES).find((s) => s.signingName === signingName);
}

export function operationOf(s: WireService, action: string): OperationSchema | undefined {
  const op = s.sdk[`${action}$`];
  return Array.isArray(op) && op[0] === 9 && op[2] === action ? (op as unknown as OperationSchema) : undefined;
}
