import type { Argv } from 'yargs';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../context.js';
import { loadDeploy, rendererFor, withAwsClients, withAwsOptions } from '../aws-support.js';
import type { RollRequest } from '../../roll/run.js';
import { UsageError } from '../../core/errors.js';
import { canPrompt, planExitCode, terminalConfirm, yesRequired } from '../roll-confirm.js';

export interface ChangeOptions {
  plan: boolean;
  yes: boolean;
  force: boolean;
  'detailed-exitcode': boolean;
}

/** The options roll and rollback share: --plan, --yes, --force, --detailed-exitcode. */
export function withChangeOptions<T>(y: Argv<T>, what: string): Argv<T & ChangeOptions> {
  return y
    .option('plan', {
      type: 'boolean',
      default: false,
      describe: `Dry run: show what the ${what} would do and every refusal; change nothing`,
    })
    .option('yes', {
      type: 'boolean',
      default: false,
      describe: 'Go ahead without asking (required off a terminal and with CI=true)',
    })
    .option('force', {
      type: 'boolean',
      default: false,
      describe: 'Roll an AMI the gate rejected before, or onto a group with no healthy target now',
    })
    .option('detailed-exitcode', {
      type: 'boolean',
      default: false,
      describe: 'With --plan: exit 0 when nothing would change, 3 when something would (1 refused, 2 usage)',
    })
    .check((a) => {
      if (a['detailed-exitcode'] && !a.plan) throw new UsageError('--detailed-exitcode goes with --plan');
      return true;
    });
}

/** Runs a roll or rollback from the CLI: confirmation, clients, the one JSON document, the exit code. */
export async function runFromCli(
  o: ChangeOptions & { json: boolean; profile?: string; region?: string },
  ctx: CommandContext,
  req: Omit<RollRequest, 'deploy' | 'drainMaxSeconds' | 'image'> & { imageArg: string },
): Promise<number> {
  const interactive = canPrompt(ctx.env);
  if (!o.plan && !o.yes && !interactive) throw yesRequired(req.kind, req.imageArg);
  const t = await loadDeploy(ctx, req.imageArg, o.region);
  // The roll engine and the SDK load when a roll runs, never for --help and completion.
  const [{ runRoll }, { realClock }, { aws }] = await Promise.all([import('../../roll/run.js'), import('../../aws/clock.js'), import('../../aws/errors.js')]);
  const { imageArg: _, ...rest } = req;
  return withAwsClients(t.deploy, o, async (clients) => {
    const r = await aws(req.kind === 'roll' ? `rolling ${t.image} onto ${t.deploy.asgName}` : `rolling ${t.image} back on ${t.deploy.asgName}`, () =>
      runRoll(
        {
          ...rest,
          image: t.image,
          deploy: t.deploy,
          drainMaxSeconds: t.drainMaxSeconds,
          mediaAnchored: t.mediaAnchored,
          drainPollSeconds: t.drainPollSeconds,
          planOnly: o.plan,
          force: o.force,
        },
        {
          clients,
          clock: realClock,
          reporter: ctx.reporter,
          signal: ctx.signal,
          renderer: rendererFor(o.json, ctx.env),
          onInterrupt: (lines) => ctx.onInterrupt(lines),
          ...(!o.plan && !o.yes && interactive ? { confirm: terminalConfirm(req.kind) } : {}),
        },
      ),
    );
    ctx.reporter.result({ ok: r.exitCode === 0, ...(o.plan ? { plan: r.plan } : { summary: r.summary }) });
    return o.plan ? planExitCode(r.plan, o['detailed-exitcode']) : r.exitCode;
  });
}

export default defineCommand({
  command: 'roll <image>',
  describe: 'Roll the ASG onto a new AMI with a health-gated instance refresh (rolls back by itself when the gate fails)',
  builder: (y) =>
    withChangeOptions(
      withAwsOptions(
        y
          .positional('image', {
            type: 'string',
            demandOption: true,
            describe: 'Image name (images/NAME.yaml) or path',
          })
          .option('ami', { type: 'string', describe: 'AMI to roll to (default: the newest AMI of the image)' }),
      ),
      'roll',
    )
      // An empty --ami (a CI step whose `jq` failed) must not silently roll the newest AMI.
      .check((a) => {
        if (a.ami !== undefined && !/^ami-[0-9a-f]{8,17}$/.test(a.ami))
          throw new UsageError(`--ami ${JSON.stringify(a.ami)} is not an AMI id (ami-…); leave --ami out to roll the newest AMI of the image`);
        return true;
      })
      .example('$0 roll twilio-relay --plan', 'show the AMI and launch template diff, batches, duration and every check')
      .example('$0 roll twilio-relay --ami ami-0123456789abcdef0 --yes --json', 'in CI: roll the AMI the build returned, progress as NDJSON on stderr'),
  run: (o, ctx) => runFromCli(o, ctx, { kind: 'roll', imageArg: o.image, ...(o.ami ? { ami: o.ami } : {}) }),
});
