// Shared set-up for the roll scenarios: a fake world, a deploy section pointing at it, and a runner that maps
// thrown errors to exit codes through the CLI's one error handler.
import { reportError } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';
import { deploySchema, type DeployConfig } from '../../src/definition/deploy-schema.js';
import { runRoll, type RollRequest, type RollSummary } from '../../src/roll/run.js';
import { createFakeAws, type FakeAwsHandle } from '../fakes/aws/index.js';
import type { FakeOptions } from '../fakes/aws/fake-aws.js';
import { seedWorld, type World } from '../../src/region/scenario.js';

export interface Harness extends FakeAwsHandle {
  world: World;
  deploy: DeployConfig;
}

export function harness(
  o: Parameters<typeof seedWorld>[1] & {
    refresh?: Record<string, unknown>;
    deploy?: Record<string, unknown>;
    fake?: FakeOptions;
  } = {},
): Harness {
  const h = createFakeAws(o.fake);
  const world = seedWorld(h.fake, o);
  const deploy = deploySchema.parse({
    region: 'us-east-1',
    asgName: world.asg.AutoScalingGroupName,
    targetGroupArns: [world.tg.TargetGroupArn],
    pollSeconds: 15,
    healthyDeadlineSeconds: 600,
    refresh: { instanceWarmup: 60, bakeTime: 0, ...o.refresh },
    ...o.deploy,
  });
  return { ...h, world, deploy };
}

export interface RunResult {
  exitCode: number;
  summary?: RollSummary;
  reporter: RecordingReporter;
  error?: unknown;
}

export async function run(h: Harness, req: Partial<RollRequest> = {}, signal = new AbortController().signal, owner = 'ci@runner-a:1'): Promise<RunResult> {
  const reporter = new RecordingReporter();
  try {
    const r = await runRoll(
      { kind: 'roll', image: 'twilio-relay', deploy: h.deploy, drainMaxSeconds: 900, ...req },
      { clients: h.clients, clock: h.fake.clock, reporter, signal, renderer: 'silent', owner },
    );
    return { exitCode: r.exitCode, summary: r.summary, reporter };
  } catch (e) {
    return { exitCode: reportError(e, reporter, false), reporter, error: e };
  }
}

/** What every instance of the group runs, by id (leaving ones excluded), and the group's tags without the lease. */
export function fleetOf(h: Harness): string[] {
  return h.fake.amisOf(h.world.asg.AutoScalingGroupName);
}
