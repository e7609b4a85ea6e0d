import type { InterruptHooks } from '../core/interrupt.js';
// What a roll is asked to do, and what it runs with (plain types shared by run.ts and stages.ts).
import type { AwsClients } from '../aws/clients.js';
import type { Clock } from '../aws/clock.js';
import type { Reporter } from '../core/reporter.js';
import type { DeployConfig } from '../definition/deploy-schema.js';
import type { RollPlan } from './plan.js';
import type { Renderer } from './tasks.js';

export interface RollDeps {
  clients: AwsClients;
  clock: Clock;
  reporter: Reporter;
  signal: AbortSignal;
  renderer: Renderer;
  /** Asked with the plan before anything changes (a terminal prompt); omitted: proceed. */
  confirm?: (plan: RollPlan) => Promise<boolean>;
  /** Registers the recovery lines the CLI prints when this run is interrupted (src/core/interrupt.ts). */
  onInterrupt?: InterruptHooks['onInterrupt'];
  /** Identifies this run in the lease (default: user@host:pid). */
  owner?: string;
}

export interface RollRequest {
  kind: 'roll' | 'rollback';
  image: string;
  deploy: DeployConfig;
  drainMaxSeconds: number;
  /** Media through the instance (RTPProxy) and drain.pollSeconds, for the drain timing advice (drain-timing.ts). */
  mediaAnchored?: boolean;
  drainPollSeconds?: number;
  /** roll: default newest AMI of the image; rollback: the pinned AMI (or use `previous`). */
  ami?: string;
  previous?: boolean;
  planOnly?: boolean;
  /** Roll a rejected AMI, or onto a group with no healthy target. */
  force?: boolean;
}
