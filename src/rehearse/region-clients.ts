// Real SDK v3 clients served in-process by a Region: a middleware at the front of each client's stack hands the
// command's input to the region's handler for it and returns its answer as the command's output, so everything
// behind send() (the roll engine's retries, error mapping) sees what it would from AWS. The region's fault injector
// (throttling) and its call record apply, as on the wire. Stands in until the rehearsal reaches the region over
// the wire server (src/region/wire/).
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients.js';
import { awsError } from '../region/faults.js';
import { asgHandlers } from '../region/handlers-asg.js';
import { ec2Handlers } from '../region/handlers-ec2.js';
import { cloudwatchHandlers, elbHandlers } from '../region/handlers-elb-cw.js';
import type { CallRecord, Region } from '../region/region.js';

type Handlers = ReturnType<typeof asgHandlers>;

interface Stack {
  middlewareStack: { add(mw: unknown, o: { step: 'initialize'; name: string; priority: 'high' }): void };
}

function serve(region: Region, client: Stack, service: CallRecord['service'], handlers: Handlers): void {
  const mw = (_next: unknown, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
    await Promise.resolve();
    const name = (context.commandName ?? '').replace(/Command$/, '');
    const handler = handlers[name];
    if (handler === undefined) throw awsError('NotImplementedByRegion', `the region model does not serve ${service} ${name}; add it in src/region/`);
    region.calls.push({ service, command: name, input: structuredClone(args.input), atMs: region.nowMs });
    region.faults.check(name, region.nowMs);
    return { output: { $metadata: {}, ...(structuredClone(handler(args.input)) as object) }, response: {} };
  };
  client.middlewareStack.add(mw, { step: 'initialize', name: 'regionInProcess', priority: 'high' });
}

/** Four SDK clients whose every call the region answers (no network; credentials never read). */
export function inProcessClients(region: Region): AwsClients {
  const cfg = { region: region.opts.region, credentials: { accessKeyId: 'REHEARSAL', secretAccessKey: 'REHEARSAL' }, maxAttempts: 8 };
  const clients: AwsClients = {
    ec2: new EC2Client(cfg),
    autoScaling: new AutoScalingClient(cfg),
    elbv2: new ElasticLoadBalancingV2Client(cfg),
    cloudwatch: new CloudWatchClient(cfg),
  };
  serve(region, clients.ec2, 'ec2', ec2Handlers(region));
  serve(region, clients.autoScaling, 'autoscaling', asgHandlers(region));
  serve(region, clients.elbv2, 'elbv2', elbHandlers(region));
  serve(region, clients.cloudwatch, 'cloudwatch', cloudwatchHandlers(region));
  return clients;
}
