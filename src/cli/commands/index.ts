// Every command by name, with its one-line description and a loader. Only the command that runs is
// imported (with the SDK clients it needs), so `--help`, `validate` and completion start fast.
// Adding a command: one entry here, the module default-exports defineCommand({...}).
import type { SipbakeCommand } from '../command.js';

export interface CommandEntry {
  name: string;
  /** yargs command string (shown in the top-level --help). */
  command: string;
  describe: string;
  /** Shown under "Examples:" when the module's builder adds none. */
  examples: [string, string][];
  load: () => Promise<{ default: SipbakeCommand<never> }>;
}

type Loader = () => Promise<{ default: unknown }>;
const entry = (name: string, command: string, describe: string, load: Loader, examples: [string, string][] = []): CommandEntry => ({
  name,
  command,
  describe,
  examples,
  load: load as CommandEntry['load'],
});

export const commandIndex: CommandEntry[] = [
  entry(
    'validate',
    'validate [images..]',
    'Validate image definitions: every error as FILE:LINE:COL FIELD: what is wrong; what to do',
    () => import('./validate.js'),
  ),
  entry('render', 'render <image>', 'Render an image into a root-filesystem tree', () => import('./render.js')),
  entry('check', 'check [images..]', 'Render and run the real `kamailio -c` on it (--start: also start it on loopback)', () => import('./check.js')),
  entry('try', 'try <image>', 'Start the image on loopback with fake peers, and print a SIPp command that places a call', () => import('./try.js')),
  entry(
    'rehearse',
    'rehearse <image>',
    'Roll N instances behind an emulated NLB and NAT gateway onto a new image under live calls (root, Linux); no AWS account needed',
    () => import('./rehearse.js'),
  ),
  entry('packer', 'packer', 'Generate packer.pkr.hcl (and packer-plugins.pkr.hcl) at the repository root', () => import('./packer.js')),
  entry('build', 'build <image>', 'Bake the golden AMI with Packer (nothing when an AMI of this content exists)', () => import('./build.js')),
  entry('pin', 'pin <component> <version>', 'Pin a source in scripts/pins.env', () => import('./pin.js')),
  entry('roll', 'roll <image>', 'Roll the ASG onto a new AMI with a health-gated instance refresh', () => import('./roll.js'), [
    ['$0 roll twilio-relay --plan', 'the AMI and launch template diff, batches, duration and every refusal'],
    ['$0 roll twilio-relay --ami ami-0123456789abcdef0 --yes --json', 'in CI: roll the AMI that `build --json` returned'],
  ]),
  entry('rollback', 'rollback <image>', 'Roll the ASG back to a pinned earlier AMI (--to) or the previous one (--previous)', () => import('./rollback.js'), [
    ['$0 rollback twilio-relay --previous --plan', 'what a rollback to the previous AMI would do'],
    ['$0 rollback twilio-relay --to ami-0123456789abcdef0', 'roll back to a pinned AMI (from `sipbake history`)'],
  ]),
  entry('unlock', 'unlock <image>', 'Release the roll lease a stopped roll left on the group (shows who held it)', () => import('./unlock.js'), [
    ['$0 unlock twilio-relay', 'after a cancelled CI job: free the group for the rollback'],
  ]),
  entry(
    'drain',
    'drain <instance>',
    'Drain one instance by hand: its calls end (or move to a peer), then Auto Scaling replaces it',
    () => import('./drain.js'),
    [['$0 drain i-0123456789abcdef0 --image twilio-relay', 'show the plan, confirm, then start the drain']],
  ),
  entry('status', 'status <image>', 'Show the live AMI, every instance, last-known-good and the instance refresh state', () => import('./status.js'), [
    ['$0 status twilio-relay', 'what is live and whether a refresh runs'],
    ['$0 status twilio-relay --json', 'the same as one JSON document'],
  ]),
  entry('history', 'history <image>', "List this image's AMIs, newest first, marking the live one and the last-known-good one", () => import('./history.js'), [
    ['$0 history twilio-relay', 'the AMIs to roll back to'],
    ['$0 history recorder-lb --region eu-west-1', 'in another region'],
  ]),
  entry(
    'infra',
    'infra <image>',
    'Synthesize the CloudFormation template of the infrastructure a roll needs (offline, with the CDK)',
    () => import('./infra.js'),
    [['$0 infra twilio-relay --out infra', 'write infra/sipbake-twilio-relay.template.json']],
  ),
  entry('iam', 'iam <role>', 'Print a least-privilege IAM policy for build, roll or the instance role', () => import('./iam.js'), [
    ['$0 iam build --image twilio-relay --account 123456789012', 'the policy of the CI bake role'],
    ['$0 iam roll --image twilio-relay --account 123456789012', 'the policy of the CI roll role (roll, rollback, status, history)'],
  ]),
];
