import { defineCommand } from '../command.js';
import type * as PinCommand from '../../bake/pin-command.js';

// The pin machinery (execa) loads in run; the names are checked against its own list at compile time.
const COMPONENTS = ['kamailio', 'rtpproxy', 'ssm-agent'] as const satisfies typeof PinCommand.COMPONENTS;

export default defineCommand({
  command: 'pin <component> <version>',
  describe: 'Pin a source in scripts/pins.env: git tag + commit, or --tarball with its sha256 (downloads it; needs internet)',
  builder: (y) =>
    y
      // The positional is named version, so --version (sipbake's) is off here.
      .version(false)
      .positional('component', { choices: [...COMPONENTS], demandOption: true, describe: 'What to pin' })
      .positional('version', { type: 'string', demandOption: true, describe: 'Upstream version, e.g. 5.5.7' })
      .option('tarball', {
        type: 'boolean',
        default: false,
        describe: 'Pin the release tarball by sha256 instead of the git tag by commit',
      })
      .option('url', {
        type: 'string',
        describe: 'Another URL (mirror); for ssm-agent {arch} becomes debian_amd64/debian_arm64',
      })
      .example('$0 pin kamailio 5.5.7', 'git: record the commit tag 5.5.7 points at')
      .example('$0 pin kamailio 5.5.7 --tarball', "download kamailio.org's tarball and record its sha256")
      .example('$0 pin ssm-agent 3.3.1142.0', 'record the SSM agent .deb checksums'),
  run: async (opts, ctx) => {
    const { pinSource } = await import('../../bake/pin-command.js');
    const r = await pinSource(
      ctx.root,
      {
        component: opts.component,
        version: opts.version,
        tarball: opts.tarball,
        ...(opts.url ? { url: opts.url } : {}),
      },
      ctx.env,
      ctx.signal,
    );
    for (const [k, v] of Object.entries(r.values)) ctx.reporter.line(`scripts/pins.env ${k}=${v}`);
    ctx.reporter.line('review the change (git diff scripts/pins.env) and commit it; the next build has a new content hash', 'success');
    ctx.reporter.result({ ok: true, ...r });
  },
});
