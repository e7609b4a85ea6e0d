// What the roll-family commands share: AWS options, the deploy section, the listr2 renderer choice.
import type { Argv } from 'yargs';
import type { AwsClients } from '../aws/clients.js';
import type { CommandContext } from './context.js';
import { UserError } from '../core/errors.js';
import { nameTheProfile } from './credential-hint.js';
import type { DeployConfig } from '../definition/deploy-schema.js';
import type { Renderer } from '../roll/run.js';

export interface AwsArgs {
  profile?: string;
  region?: string;
}

export function withAwsOptions<T>(y: Argv<T>): Argv<T & AwsArgs> {
  return y
    .option('profile', { type: 'string', describe: 'AWS profile (default: the default credential chain)' })
    .option('region', { type: 'string', describe: "AWS region (default: the image's deploy.region)" });
}

export interface DeployTarget {
  image: string;
  file: string;
  deploy: DeployConfig;
  drainMaxSeconds: number;
  /** The image relays RTP itself (RTPProxy), and drain.pollSeconds: both shape the drain timing advice. */
  mediaAnchored: boolean;
  drainPollSeconds: number;
}

export async function loadDeploy(ctx: CommandContext, image: string, region?: string): Promise<DeployTarget> {
  // The definition loader (zod, yaml) loads when the command runs, not for --help.
  const { loadImageOrThrow } = await import('../definition/load.js');
  const { image: def, file } = await loadImageOrThrow(ctx.root, image);
  if (!def.deploy)
    throw new UserError(
      `${file} has no deploy: section, so sipbake does not know which Auto Scaling group to roll`,
      'add deploy: with region, asgName and targetGroupArns (see docs/getting-started.md and docs/commands.md, "Rolling")',
    );
  return {
    image: def.name,
    file,
    deploy: region ? { ...def.deploy, region } : def.deploy,
    drainMaxSeconds: def.drain.maxSeconds,
    // RTP crosses the NLB only when SDP carries the signalling address (media.address, docs/media.md).
    mediaAnchored: def.media.rtpproxy.enabled && def.media.address.source === 'signalling',
    drainPollSeconds: def.drain.pollSeconds,
  };
}

/** The one way a command uses AWS: clients for the group's region (or --region/--profile), always released. */
export async function withAwsClients<T>(
  deploy: DeployConfig,
  a: AwsArgs,
  use: (clients: AwsClients) => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  // The SDK loads here, not when the command module does: --help and completion never load it.
  const { createAwsClients, destroyAwsClients } = await import('../aws/clients.js');
  const clients = createAwsClients({ region: a.region ?? deploy.region, ...(a.profile ? { profile: a.profile } : {}) });
  try {
    return await use(clients);
  } catch (e) {
    throw nameTheProfile(e, { ...(a.profile ? { profile: a.profile } : {}), env });
  } finally {
    destroyAwsClients(clients);
  }
}

/** listr2: silent with --json, the plain (simple) renderer without a TTY or in CI, the default one otherwise. */
export function rendererFor(json: boolean, env: NodeJS.ProcessEnv, isTTY = Boolean(process.stdout.isTTY)): Renderer {
  if (json) return 'silent';
  if (!isTTY || env.CI) return 'simple';
  return 'default';
}
