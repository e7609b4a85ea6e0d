import { defineCommand } from '../command.js';
import { UsageError } from '../../core/errors.js';
import { withAwsOptions } from '../aws-support.js';
import { runFromCli, withChangeOptions } from './roll.js';

export default defineCommand({
  command: 'rollback <image>',
  describe: 'Roll the ASG back to a pinned earlier AMI (--to ami-…) or the previous one (--previous)',
  builder: (y) =>
    withChangeOptions(
      withAwsOptions(
        y
          .positional('image', {
            type: 'string',
            demandOption: true,
            describe: 'Image name (images/NAME.yaml) or path',
          })
          .option('to', {
            type: 'string',
            describe: 'The AMI to roll back to (must be an AMI of this image, available)',
          })
          .option('previous', {
            type: 'boolean',
            default: false,
            describe:
              "During sipbake's own roll: the AMI it started from; else the AMI the live version was rolled from, else last-known-good (also when instances run another AMI), else the next older AMI",
          }),
      ),
      'rollback',
    )
      .check((a) => {
        if (Boolean(a.to) === Boolean(a.previous)) throw new UsageError('name exactly one of --to ami-… or --previous');
        if (a.to && !/^ami-[0-9a-f]{8,17}$/.test(a.to)) throw new UsageError(`--to ${a.to} is not an AMI id (ami-…)`);
        return true;
      })
      .example('$0 rollback twilio-relay --previous --yes', 'back to the last-known-good AMI, every instance included')
      .example('$0 rollback twilio-relay --to ami-0123456789abcdef0 --plan --detailed-exitcode', 'exit 3 when the rollback would change something'),
  run: (o, ctx) => runFromCli(o, ctx, { kind: 'rollback', imageArg: o.image, ...(o.to ? { ami: o.to } : {}), previous: o.previous }),
});
