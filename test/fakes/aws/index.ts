// Wires the stateful fake behind aws-sdk-client-mock. Nothing is installed on import: call createFakeAws().
import * as asgSdk from '@aws-sdk/client-auto-scaling';
import * as cwSdk from '@aws-sdk/client-cloudwatch';
import * as ec2Sdk from '@aws-sdk/client-ec2';
import * as elbSdk from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../../src/aws/clients.js';
import { FakeAws, type CallRecord, type FakeOptions } from './fake-aws.js';
import { awsError } from '../../../src/region/faults.js';
import { ec2Handlers } from '../../../src/region/handlers-ec2.js';
import { ec2AddressHandlers } from '../../../src/region/handlers-ec2-address.js';
import { asgHandlers } from '../../../src/region/handlers-asg.js';
import { cloudwatchHandlers, elbHandlers } from '../../../src/region/handlers-elb-cw.js';

export { FakeAws, FAKE_EPOCH } from './fake-aws.js';
export { awsError } from '../../../src/region/faults.js';
export { FAKE_ACCOUNT } from './iam.js';

// Under vitest a denied call fails the test even when the code under test caught the error.
// A child process a test starts (test/cli/pty-main.ts) inherits VITEST but is no test: importing vitest throws there.
const vitest = process.env.VITEST ? await import('vitest').catch(() => undefined) : undefined;
function failTestOnDenials(fake: FakeAws): void {
  if (!fake.iam || !vitest) return;
  try {
    vitest.onTestFinished(() => {
      const unexpected = fake.iam!.opts.expectDenials ? [] : fake.iam!.denials;
      if (unexpected.length) throw new Error(`IAM denied ${unexpected.length} call(s):\n${unexpected.map((d) => fake.iam!.describe(d)).join('\n')}`);
    });
  } catch {
    // Not inside a test (e.g. beforeAll): the thrown AccessDenied still reaches the caller.
  }
}

type Handlers = Record<string, (input: Record<string, any>) => unknown>;

function wire(fake: FakeAws, client: object, sdk: Record<string, unknown>, service: CallRecord['service'], handlers: Handlers) {
  const mock = mockClient(client as never);
  // Anything the fake does not model fails loudly rather than returning undefined.
  mock.onAnyCommand().callsFake(() => {
    throw awsError('NotImplementedByFake', `the AWS fake does not model this ${service} command; add it in test/fakes/aws/`);
  });
  for (const [name, handler] of Object.entries(handlers)) {
    const Command = sdk[`${name}Command`];
    if (typeof Command !== 'function') throw new Error(`fake: ${service} has no ${name}Command`);
    mock.on(Command as never).callsFake(async (input: Record<string, unknown>, getClient: () => { config: unknown }) => {
      fake.calls.push({ service, command: name, input: structuredClone(input), atMs: fake.nowMs });
      if (fake.iam) {
        const region = String(await (getClient().config as { region: () => Promise<string> }).region());
        await fake.iam.authorize({ fake, service, command: name, input: input, region });
      }
      fake.faults.check(name, fake.nowMs);
      return structuredClone(handler(input));
    });
  }
  return mock;
}

export interface FakeAwsHandle {
  fake: FakeAws;
  clients: AwsClients;
  /** Restores the clients' real send(). */
  restore(): void;
}

/** A fresh fake and four real SDK clients whose send() is served by it. */
export function createFakeAws(opts: FakeOptions = {}): FakeAwsHandle {
  const fake = new FakeAws(opts);
  failTestOnDenials(fake);
  const cfg = { region: fake.opts.region, credentials: { accessKeyId: 'FAKE', secretAccessKey: 'FAKE' } };
  const clients: AwsClients = {
    ec2: new ec2Sdk.EC2Client(cfg),
    autoScaling: new asgSdk.AutoScalingClient(cfg),
    elbv2: new elbSdk.ElasticLoadBalancingV2Client(cfg),
    cloudwatch: new cwSdk.CloudWatchClient(cfg),
  };
  const mocks = [
    wire(fake, clients.ec2, ec2Sdk, 'ec2', { ...ec2Handlers(fake), ...ec2AddressHandlers(fake) }),
    wire(fake, clients.autoScaling, asgSdk, 'autoscaling', asgHandlers(fake)),
    wire(fake, clients.elbv2, elbSdk, 'elbv2', elbHandlers(fake)),
    wire(fake, clients.cloudwatch, cwSdk, 'cloudwatch', cloudwatchHandlers(fake)),
  ];
  return { fake, clients, restore: () => mocks.forEach((m) => m.restore()) };
}

/**
 * Class-level install, for driving the CLI through main(): every client the code builds is served by `fake`.
 * Returns a restore function; call it in afterEach.
 */
export function installFakeAws(fake: FakeAws): () => void {
  failTestOnDenials(fake);
  const mocks = [
    wire(fake, ec2Sdk.EC2Client, ec2Sdk, 'ec2', { ...ec2Handlers(fake), ...ec2AddressHandlers(fake) }),
    wire(fake, asgSdk.AutoScalingClient, asgSdk, 'autoscaling', asgHandlers(fake)),
    wire(fake, elbSdk.ElasticLoadBalancingV2Client, elbSdk, 'elbv2', elbHandlers(fake)),
    wire(fake, cwSdk.CloudWatchClient, cwSdk, 'cloudwatch', cloudwatchHandlers(fake)),
  ];
  return () => mocks.forEach((m) => m.restore());
}
